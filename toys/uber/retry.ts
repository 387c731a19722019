/**
 * How a mobile app retries. The baseline retries at once after a timeout, as many apps did: under overload every
 * timed-out request comes back as several, and the extra load keeps the queues long after the surge (the metastable
 * tail). The mitigation is the usual pair: exponential backoff with full jitter, and a retry budget (retries may be
 * at most `budgetRatio` of requests, a token bucket), so retries cannot multiply the load.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubles per retry. 0 = retry at once. */
  backoffMs: number;
  /** Full jitter: the wait is uniform in [0, backoff). */
  jitter: boolean;
  /** Retries per request allowed on average; 0 = no budget (every failure may retry). */
  budgetRatio: number;
}

/** Delay before retry number `retry` (1-based); `draw` is uniform [0, 1) from the caller's seeded RNG. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, draw: number): number {
  const base = policy.backoffMs * 2 ** (retry - 1);
  return policy.jitter ? Math.floor(base * draw) : base;
}

/** A token bucket: each request earns `ratio` tokens (up to `max`), each retry spends one. */
export class RetryBudget {
  #tokens: number;
  readonly #ratio: () => number;

  /** `ratio` may be a getter: a live param, read per request (a negative push counts as 0, no budget). */
  constructor(
    ratio: number | (() => number),
    readonly max = 10,
  ) {
    const initial = typeof ratio === 'function' ? ratio() : ratio;
    if (!(initial >= 0)) throw new RangeError(`retry budget ratio must be >= 0, got ${initial}`);
    this.#ratio = typeof ratio === 'function' ? () => Math.max(0, ratio()) : () => ratio;
    this.#tokens = max;
  }

  get ratio(): number {
    return this.#ratio();
  }

  onRequest(): void {
    if (this.ratio > 0) this.#tokens = Math.min(this.max, this.#tokens + this.ratio);
  }

  /** True if a retry may go now (and spends a token); always true without a budget. */
  tryRetry(): boolean {
    if (this.ratio === 0) return true;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  get tokens(): number {
    return this.#tokens;
  }
}
