/**
 * A single-threaded server, like one Redis shard: commands run one at a time in arrival order, each taking its
 * cost in time. It is simulated with virtual time instead of busy loops (the machine has two cores shared with
 * everything): a command admitted at `now` finishes at `max(now, busyUntil) + cost`, and the caller waits for
 * that moment with a timer. Reads and writes share the one queue, so big fanout writes delay reads.
 * The queue is bounded in time: a command that would wait longer than `maxBacklogMs` is refused at once.
 */
export class ServiceQueue {
  #busyUntil = 0;
  #busyMs = 0;

  constructor(readonly maxBacklogMs: number) {
    if (!(maxBacklogMs > 0)) throw new RangeError(`maxBacklogMs must be > 0, got ${maxBacklogMs}`);
  }

  /** Milliseconds of admitted work not yet done at `now`. */
  backlogMs(now: number): number {
    return Math.max(0, this.#busyUntil - now);
  }

  /** Admits a command costing `costMs`; returns how long from `now` until it completes, or undefined if refused. */
  admit(now: number, costMs: number): number | undefined {
    if (!(costMs >= 0)) throw new RangeError(`cost must be >= 0, got ${costMs}`);
    if (this.backlogMs(now) > this.maxBacklogMs) return undefined;
    this.#busyUntil = Math.max(now, this.#busyUntil) + costMs;
    this.#busyMs += costMs;
    return this.#busyUntil - now;
  }

  /** Total work admitted so far (ms); its rate is the shard's utilisation. */
  get busyMs(): number {
    return this.#busyMs;
  }
}
