/**
 * The toy's own wall clock. The lab skews it with `POST /admin/clock {"offsetMs": -500}` to replay
 * clock-skew incidents, so toys MUST read wall time through `clock.now()`, never `Date.now()` or `new Date()`.
 * Only wall time moves: timers and durations (setTimeout, performance.now) keep real time, as with a
 * badly synchronised NTP clock.
 */
export class Clock {
  #offsetMs = 0;

  /** Milliseconds since the epoch, as this node believes. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Absolute, not cumulative: `setOffset(0)` heals the skew. */
  setOffset(offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) throw new RangeError(`clock offset must be a finite number, got ${offsetMs}`);
    this.#offsetMs = Math.round(offsetMs);
  }
}
