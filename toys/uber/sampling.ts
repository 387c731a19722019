/**
 * Adaptive sampling of location updates (the seed's third lesson). A driver's app sends a position every few
 * seconds; while the index shard that owns the driver's cell reports a queueing delay above `delayMs`, ingest keeps
 * at most one update per driver every `intervalMs` and answers the others at once (the app's next ping carries a
 * newer position anyway). Positions get coarser in time, but the index stays current instead of falling behind.
 */
export interface SamplingPolicy {
  enabled: boolean;
  /** Sample while the owning shard's reported queueing delay is above this. */
  delayMs: number;
  /** While sampling, at most one update per driver this often. */
  intervalMs: number;
}

export class AdaptiveSampler {
  readonly #lastForwarded = new Map<number, number>();

  constructor(readonly policy: SamplingPolicy) {}

  /** Whether to forward this update to the index; records it when forwarded. */
  forward(driver: number, now: number, shardDelayMs: number): boolean {
    const last = this.#lastForwarded.get(driver);
    const sampling = this.policy.enabled && shardDelayMs > this.policy.delayMs;
    if (sampling && last !== undefined && now - last < this.policy.intervalMs) return false;
    this.#lastForwarded.set(driver, now);
    return true;
  }
}
