/**
 * Shedding of non-essential work (Twitter turned off search and trends to keep timelines up in 2010). The API
 * sheds when what it can see says the core path is in trouble: the fanout queue is lagging, cache reads are slow,
 * or the cache breaker is not closed. None of these knows about an "incident"; they are ordinary health signals.
 */
import type { BreakerState } from './breaker.js';

export interface SheddingPolicy {
  enabled: boolean;
  /** Shed while the fanout lag the queue last reported is above this. */
  lagMs: number;
  /** Shed while the smoothed cache read latency is above this. */
  cacheLatencyMs: number;
}

export interface HealthSignals {
  fanoutLagMs: number;
  cacheLatencyMs: number;
  breaker: BreakerState;
}

export function shouldShed(policy: SheddingPolicy, s: HealthSignals): boolean {
  if (!policy.enabled) return false;
  return s.breaker !== 'closed' || s.fanoutLagMs > policy.lagMs || s.cacheLatencyMs > policy.cacheLatencyMs;
}

/** Exponentially weighted moving average over samples; `alpha` is the weight of each new sample. */
export class Ewma {
  #value: number | undefined;

  constructor(readonly alpha: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  }

  add(sample: number): number {
    this.#value = this.#value === undefined ? sample : this.#value + this.alpha * (sample - this.#value);
    return this.#value;
  }

  get value(): number {
    return this.#value ?? 0;
  }
}
