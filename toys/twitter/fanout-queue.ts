/**
 * The fanout queue: FIFO jobs handed to workers under a lease, acknowledged when every follower has the tweet.
 * A lease that runs out (a worker died or is too slow) puts the job back at the front, to be delivered again:
 * at-least-once, so cache inserts must be idempotent.
 */

export interface FanoutJob {
  id: number;
  author: number;
  /** When the tweet was written. */
  at: number;
  /** Followers to reach (the job's cost), known to the API when it enqueues. */
  fanout: number;
  /** The enqueuing request's trace, when it was traced: the worker's fanout continues it. */
  traceparent?: string;
}

export interface QueuedJob extends FanoutJob {
  enqueuedAt: number;
  /** How many times the job was handed out. */
  deliveries: number;
}

export interface PullLimits {
  maxJobs: number;
  /** Stop adding jobs once their followers reach this; the first job is always handed out. */
  maxInserts: number;
}

export class FanoutQueue {
  #waiting: QueuedJob[] = [];
  #head = 0;
  /** Expired leases, served before `#waiting`. */
  #redeliver: QueuedJob[] = [];
  readonly #leased = new Map<number, { job: QueuedJob; until: number }>();
  #enqueued = 0;
  #acked = 0;
  #expired = 0;
  #pendingInserts = 0;

  constructor(readonly leaseMs: number) {
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be > 0, got ${leaseMs}`);
  }

  enqueue(job: FanoutJob, now: number): void {
    this.#waiting.push({ ...job, enqueuedAt: now, deliveries: 0 });
    this.#enqueued++;
    this.#pendingInserts += job.fanout;
  }

  pull(now: number, limits: PullLimits): QueuedJob[] {
    this.expire(now);
    const out: QueuedJob[] = [];
    let inserts = 0;
    while (out.length < limits.maxJobs) {
      const job = this.#redeliver[0] ?? this.#waiting[this.#head];
      if (job === undefined) break;
      if (out.length > 0 && inserts + job.fanout > limits.maxInserts) break;
      if (this.#redeliver.length > 0) this.#redeliver.shift();
      else this.#head++;
      job.deliveries++;
      this.#leased.set(job.id, { job, until: now + this.leaseMs });
      out.push(job);
      inserts += job.fanout;
    }
    this.#compact();
    return out;
  }

  /** Returns how many of `ids` were still leased (an ack after the lease ran out is ignored). */
  ack(ids: readonly number[]): number {
    let n = 0;
    for (const id of ids) {
      const lease = this.#leased.get(id);
      if (lease === undefined) continue;
      this.#leased.delete(id);
      this.#pendingInserts -= lease.job.fanout;
      n++;
    }
    this.#acked += n;
    return n;
  }

  /** Puts jobs whose lease ran out back at the front, oldest first. */
  expire(now: number): number {
    const expired: QueuedJob[] = [];
    for (const [id, lease] of this.#leased) {
      if (lease.until <= now) {
        this.#leased.delete(id);
        expired.push(lease.job);
      }
    }
    if (expired.length === 0) return 0;
    expired.sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.id - b.id);
    this.#redeliver = [...expired, ...this.#redeliver].sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.id - b.id);
    this.#expired += expired.length;
    return expired.length;
  }

  /** Jobs not yet acknowledged: waiting or leased. */
  get depth(): number {
    return this.waiting + this.#leased.size;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head + this.#redeliver.length;
  }

  get leased(): number {
    return this.#leased.size;
  }

  /** Followers still to reach over all unacknowledged jobs. */
  get pendingInserts(): number {
    return this.#pendingInserts;
  }

  /** Fanout lag: age of the oldest unacknowledged job, 0 when there is none. */
  lagMs(now: number): number {
    // Redelivered jobs are older than any waiting one, and the waiting queue is in arrival order.
    let oldest = this.#redeliver[0]?.enqueuedAt ?? this.#waiting[this.#head]?.enqueuedAt ?? Infinity;
    for (const { job } of this.#leased.values()) oldest = Math.min(oldest, job.enqueuedAt);
    return oldest === Infinity ? 0 : Math.max(0, now - oldest);
  }

  get stats(): { enqueued: number; acked: number; expired: number } {
    return { enqueued: this.#enqueued, acked: this.#acked, expired: this.#expired };
  }

  #compact(): void {
    // Drop the consumed prefix now and then, so the array does not grow for the whole run.
    if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }
}
