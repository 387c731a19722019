/**
 * The toy's wall clock: `Date.now()`, as any program reads it. A clock fault skews the whole process from outside
 * (libfaketime, preloaded by the lab), so the toy cannot tell that a fault is on. The offset here is only for
 * in-process tests that need virtual time; nothing reaches it over the network. Toys read wall time through
 * `clock.now()` so such tests can move it.
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

  /** For in-process tests. Absolute, not cumulative: `setOffset(0)` undoes it. */
  setOffset(offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) throw new RangeError(`clock offset must be a finite number, got ${offsetMs}`);
    this.#offsetMs = Math.round(offsetMs);
  }
}
