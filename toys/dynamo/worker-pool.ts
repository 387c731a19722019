/**
 * The metadata service's request handling: a FIFO queue in front of a few workers. A worker is a concurrency slot
 * held for the job's cost (a timer, not CPU), so "the service is busy" costs the machine nothing.
 *
 * The baseline flaw lives here: with `maxQueue: Infinity` and `dropExpired: false`, a job waits as long as the queue
 * is, and is then worked on in full even if its client gave up long ago: the service spends its capacity on answers
 * nobody reads. The mitigations are real mechanisms of the same pool: a bounded queue that rejects at once when full,
 * and dropping a queued job whose answer could no longer reach its client before the client's deadline.
 */
import type { Timers } from './timers.js';

export interface WorkerPoolOptions {
  /** Concurrency slots. */
  workers: number;
  /** Waiting jobs allowed beyond the busy workers; `Infinity` = unbounded (the baseline). 0 = no waiting at all. */
  maxQueue: number;
  /** When a job reaches a worker, skip it if `now + costMs` is past its deadline: its client will have given up. */
  dropExpired: boolean;
}

export interface Job {
  /** Time a worker spends on it. */
  costMs: number;
  /** Absolute time (`timers.now()` scale) after which the client no longer waits; undefined = no deadline known. */
  deadlineAt?: number;
}

/** `rejected`: queue full, answered at once. `expired`: dropped unworked at dequeue. */
export type JobOutcome = 'done' | 'rejected' | 'expired';

export interface JobResult {
  outcome: JobOutcome;
  /** Time spent waiting in the queue before a worker took it (or before it was dropped). */
  waitedMs: number;
}

interface Queued {
  job: Job;
  enqueuedAt: number;
  done: (r: JobResult) => void;
}

export class WorkerPool {
  readonly #opts: WorkerPoolOptions;
  readonly #timers: Timers;
  readonly #queue: Queued[] = [];
  /** Index of the queue head: shifting a long array per dequeue would be O(n). */
  #head = 0;
  #busy = 0;
  readonly counts: Record<JobOutcome, number> = { done: 0, rejected: 0, expired: 0 };

  constructor(opts: WorkerPoolOptions, timers: Timers) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be an integer >= 1, got ${opts.workers}`);
    if (!(opts.maxQueue >= 0)) throw new RangeError(`maxQueue must be >= 0 (Infinity = unbounded), got ${opts.maxQueue}`);
    this.#opts = opts;
    this.#timers = timers;
  }

  /** Jobs waiting for a worker (not those being worked on). */
  get depth(): number {
    return this.#queue.length - this.#head;
  }

  get busy(): number {
    return this.#busy;
  }

  get workers(): number {
    return this.#opts.workers;
  }

  /** `done` is called exactly once: synchronously for a rejection, later otherwise. */
  submit(job: Job, done: (r: JobResult) => void): void {
    const item: Queued = { job, enqueuedAt: this.#timers.now(), done };
    if (this.#busy < this.#opts.workers && this.depth === 0) {
      this.#start(item);
      return;
    }
    if (this.depth >= this.#opts.maxQueue) {
      this.#finish(item, 'rejected');
      return;
    }
    this.#queue.push(item);
  }

  /** Starts the job on a free worker, or drops it if it can no longer be useful. */
  #start(item: Queued): void {
    const now = this.#timers.now();
    const { deadlineAt, costMs } = item.job;
    if (this.#opts.dropExpired && deadlineAt !== undefined && now + costMs > deadlineAt) {
      this.#finish(item, 'expired');
      return;
    }
    this.#busy++;
    const waitedMs = now - item.enqueuedAt;
    this.#timers.after(costMs, () => {
      this.#busy--;
      this.counts.done++;
      item.done({ outcome: 'done', waitedMs });
      this.#next();
    });
  }

  #next(): void {
    while (this.#busy < this.#opts.workers && this.depth > 0) {
      const item = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined as unknown as Queued;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#start(item);
    }
  }

  #finish(item: Queued, outcome: 'rejected' | 'expired'): void {
    this.counts[outcome]++;
    item.done({ outcome, waitedMs: this.#timers.now() - item.enqueuedAt });
  }
}
