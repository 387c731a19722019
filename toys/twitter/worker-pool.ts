/**
 * A server with a fixed pool of workers and a queue in front of them (the tweet store behind read-time merges).
 * Each request takes its cost on one worker; when every worker is busy it waits for the first one to free up,
 * so the time a request takes grows with the load: its cost alone while a worker is idle, its cost plus the
 * queue once the pool is saturated. Simulated with virtual time, like ServiceQueue: a request admitted at `now`
 * starts when the earliest worker is free and finishes `cost` later. The queue is bounded in time: a request that
 * would wait longer than `maxWaitMs` is refused at once.
 */
export class WorkerPool {
  readonly #freeAt: number[];
  #busyMs = 0;

  constructor(
    readonly workers: number,
    readonly maxWaitMs: number,
  ) {
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${workers}`);
    if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${maxWaitMs}`);
    this.#freeAt = Array.from({ length: workers }, () => 0);
  }

  /** How long a request arriving at `now` would wait for a worker. */
  waitMs(now: number): number {
    return Math.max(0, Math.min(...this.#freeAt) - now);
  }

  /** Workers busy at `now`. */
  busy(now: number): number {
    return this.#freeAt.filter((t) => t > now).length;
  }

  /** Admits a request costing `costMs`: how long until it completes and how much of that is waiting, or undefined if refused. */
  admit(now: number, costMs: number): { doneInMs: number; waitMs: number } | undefined {
    if (!(costMs >= 0)) throw new RangeError(`cost must be >= 0, got ${costMs}`);
    let w = 0;
    for (let i = 1; i < this.#freeAt.length; i++) if (this.#freeAt[i]! < this.#freeAt[w]!) w = i;
    const start = Math.max(now, this.#freeAt[w]!);
    if (start - now > this.maxWaitMs) return undefined;
    this.#freeAt[w] = start + costMs;
    this.#busyMs += costMs;
    return { doneInMs: start + costMs - now, waitMs: start - now };
  }

  /** Total work admitted (ms); its rate divided by `workers` is the pool's utilisation. */
  get busyMs(): number {
    return this.#busyMs;
  }
}
