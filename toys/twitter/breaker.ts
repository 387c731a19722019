/**
 * A circuit breaker over a dependency. Closed: calls go through and outcomes fill a window of the last
 * `window` calls; when at least `minCalls` are in it and the failure ratio reaches `failureRatio`, it opens.
 * Open: calls are refused (the caller serves its fallback) for `cooldownMs`. Half-open: `probes` calls go
 * through; all succeeding closes it, any failing opens it again.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Gauge values for `circuit_breaker_state`: closed 0, half-open 1, open 2. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerOptions {
  window: number;
  minCalls: number;
  failureRatio: number;
  cooldownMs: number;
  probes: number;
}

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #outcomes: boolean[] = [];
  #failures = 0;
  #openedAt = 0;
  #probesLeft = 0;
  #probeSuccesses = 0;

  constructor(
    readonly options: BreakerOptions,
    private readonly onTransition: (to: BreakerState) => void = () => {},
  ) {
    const { window, minCalls, failureRatio, cooldownMs, probes } = options;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be an integer >= 1, got ${window}`);
    if (!Number.isInteger(minCalls) || minCalls < 1 || minCalls > window) throw new RangeError(`minCalls must be in 1..window, got ${minCalls}`);
    if (!(failureRatio > 0 && failureRatio <= 1)) throw new RangeError(`failureRatio must be in (0, 1], got ${failureRatio}`);
    if (!(cooldownMs > 0)) throw new RangeError(`cooldownMs must be > 0, got ${cooldownMs}`);
    if (!Number.isInteger(probes) || probes < 1) throw new RangeError(`probes must be an integer >= 1, got ${probes}`);
  }

  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.options.cooldownMs) {
      this.#probesLeft = this.options.probes;
      this.#probeSuccesses = 0;
      this.#set('half-open');
    }
    return this.#state;
  }

  /** May a call go through now? In half-open, each true spends one probe. */
  allow(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open' || this.#probesLeft === 0) return false;
    this.#probesLeft--;
    return true;
  }

  success(now: number): void {
    const state = this.state(now);
    if (state === 'half-open') {
      if (++this.#probeSuccesses >= this.options.probes) {
        this.#reset();
        this.#set('closed');
      }
    } else if (state === 'closed') this.#record(true, now);
  }

  failure(now: number): void {
    const state = this.state(now);
    if (state === 'half-open') this.#open(now);
    else if (state === 'closed') this.#record(false, now);
  }

  #record(ok: boolean, now: number): void {
    this.#outcomes.push(ok);
    if (!ok) this.#failures++;
    if (this.#outcomes.length > this.options.window && this.#outcomes.shift() === false) this.#failures--;
    if (this.#outcomes.length >= this.options.minCalls && this.#failures / this.#outcomes.length >= this.options.failureRatio) this.#open(now);
  }

  #open(now: number): void {
    this.#reset();
    this.#openedAt = now;
    this.#set('open');
  }

  #reset(): void {
    this.#outcomes = [];
    this.#failures = 0;
  }

  #set(to: BreakerState): void {
    if (this.#state === to) return;
    this.#state = to;
    this.onTransition(to);
  }
}
