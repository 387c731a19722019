/**
 * The decisions of the Netflix edge toy, as pure functions and small state machines (no I/O, time passed in), so
 * the unit tests can drive them: how lb-control sizes a load balancer, how a data plane judges a pushed
 * configuration, how an LB unit sheds above its capacity, and when the edge fails a device class over.
 */

/** What lb-control pushes to a load balancer's data plane, and what the data plane serves with. */
export interface LbConfig {
  /** Backend instance names (`api-east-1`, …); the data plane sends requests round-robin over them. */
  backends: string[];
  /** Capacity units (each one serves `unitRps` requests per second); scaling changes this. */
  units: number;
  version: number;
}

/** The capacity units lb-control gives a load balancer for the traffic it measured, with headroom. Never below 1. */
export function desiredUnits(rps: number, unitRps: number, headroom: number): number {
  if (!(unitRps > 0)) return 1;
  return Math.max(1, Math.ceil((rps * headroom) / unitRps - 1e-9));
}

export type ConfigVerdict = { apply: true } | { apply: false; reason: string };

/**
 * Whether the data plane applies a pushed configuration. Without static stability it applies whatever comes (the
 * baseline: the control plane is trusted). With it, a configuration that drops more than half of the current
 * backends is refused, and the last known good one stays.
 */
export function judgeConfig(current: LbConfig, proposed: LbConfig, staticStability: boolean): ConfigVerdict {
  if (!staticStability) return { apply: true };
  const kept = proposed.backends.filter((b) => current.backends.includes(b)).length;
  const dropped = current.backends.length - kept;
  if (dropped * 2 > current.backends.length) {
    return { apply: false, reason: `drops ${dropped} of ${current.backends.length} backends (more than half): keeping version ${current.version}` };
  }
  return { apply: true };
}

/** Requests per second over the last `windowMs`, counted in 100 ms buckets. */
export class RateWindow {
  readonly #buckets = new Map<number, number>();
  constructor(private readonly windowMs = 2000) {}

  add(nowMs: number, n = 1): void {
    const b = Math.floor(nowMs / 100);
    this.#buckets.set(b, (this.#buckets.get(b) ?? 0) + n);
    this.#prune(nowMs);
  }

  rps(nowMs: number): number {
    this.#prune(nowMs);
    let sum = 0;
    for (const n of this.#buckets.values()) sum += n;
    return (sum * 1000) / this.windowMs;
  }

  #prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - this.windowMs) / 100);
    for (const b of this.#buckets.keys()) if (b <= oldest) this.#buckets.delete(b);
  }
}

/** An LB's capacity: a token bucket of `rate` per second with a burst of `burstMs` worth of tokens. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    private rate: number,
    private readonly burstMs: number,
    nowMs: number,
  ) {
    this.#tokens = this.#burst();
    this.#at = nowMs;
  }

  setRate(rate: number): void {
    this.rate = rate;
  }

  /** Takes a token if there is one (the request is served) or answers false (it is shed). */
  take(nowMs: number): boolean {
    this.#tokens = Math.min(this.#burst(), this.#tokens + ((nowMs - this.#at) * this.rate) / 1000);
    this.#at = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #burst(): number {
    return Math.max(1, (this.rate * this.burstMs) / 1000);
  }
}

/**
 * The edge's health check of a device class's home region, from the answers its own requests got (a passive check):
 * over the last `windowMs`, at least `minRequests` answers of which more than `errorRatio` failed means the home
 * region is unhealthy, and the device class moves to the second region. Failing back is left to an operator (as
 * Netflix's 2013 failover was operated), so a half-healthy home region cannot make traffic flap.
 */
export class FailoverDetector {
  readonly #answers: { atMs: number; ok: boolean }[] = [];
  #failedOver = false;

  constructor(private readonly opts: { windowMs: number; minRequests: number; errorRatio: number }) {}

  get failedOver(): boolean {
    return this.#failedOver;
  }

  /** Records one answer from the home region; answers true when this answer made the edge fail over. */
  record(nowMs: number, ok: boolean): boolean {
    if (this.#failedOver) return false;
    this.#answers.push({ atMs: nowMs, ok });
    while (this.#answers.length && this.#answers[0]!.atMs <= nowMs - this.opts.windowMs) this.#answers.shift();
    if (this.#answers.length < this.opts.minRequests) return false;
    const errors = this.#answers.filter((a) => !a.ok).length;
    if (errors / this.#answers.length > this.opts.errorRatio) {
      this.#failedOver = true;
      this.#answers.length = 0;
      return true;
    }
    return false;
  }

  /** An operator's failback (`POST /admin/failback`). */
  reset(): void {
    this.#failedOver = false;
    this.#answers.length = 0;
  }
}

/** `lb-tv-east=api-east-1,api-east-2;lb-web-east=…` → the control plane's state entries. */
export function parseLbTable(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const entry of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [lb, list] = entry.split('=');
    if (!lb || list === undefined) throw new Error(`expected "lb=backend,backend;…", got "${entry}"`);
    out.set(lb.trim(), list.split(',').map((s) => s.trim()).filter(Boolean));
  }
  return out;
}
