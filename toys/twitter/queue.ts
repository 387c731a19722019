/**
 * twitter/queue: the fanout queue between the tweet API and the fanout workers (FanoutQueue over HTTP).
 *
 * Routes: `POST /enqueue {id, author, at, fanout}` → `{depth, lagMs}` (the API reads the lag as a health signal);
 * `POST /pull {maxJobs, maxInserts, waitMs, ack}` → `{jobs}`: acknowledges `ack` (the ids of the worker's previous
 * round), then hands out jobs leased for `leaseMs`. With an empty queue the pull waits up to `waitMs` for work
 * (long polling: idle workers cost nothing), and once work arrives it lingers `lingerMs` so one round takes
 * several tweets.
 * Metrics: `twitter_fanout_queue_depth`, `twitter_fanout_lag_seconds` (age of the oldest unfinished job),
 * `twitter_fanout_pending_inserts`, `twitter_fanout_jobs_total{event}`.
 */
import { Counter, Gauge } from 'prom-client';
import { runToyIfMain, type ToySetup } from '../lib/toy-node.js';
import { FanoutQueue, type PullLimits, type QueuedJob } from './fanout-queue.js';
import { intField, intList, processMetrics } from './wire.js';

/** Longest a pull may wait, whatever it asks. */
const MAX_WAIT_MS = 5000;

interface Waiter {
  limits: PullLimits;
  resolve: (jobs: QueuedJob[]) => void;
  timer: NodeJS.Timeout;
}

export const queue: ToySetup = (toy) => {
  const leaseMs = toy.params.num('leaseMs', 30_000);
  const lingerMs = toy.params.num('lingerMs', 50);
  processMetrics(toy);
  const q = new FanoutQueue(leaseMs);
  // Lease times are durations, so they use the monotonic clock; only tweet times use the toy's wall clock.
  const now = (): number => performance.now();
  const waiters: Waiter[] = [];
  let flushTimer: NodeJS.Timeout | undefined;

  /** Hands waiting work to parked pulls, oldest pull first. */
  function flush(): void {
    flushTimer = undefined;
    while (waiters.length > 0 && q.waiting > 0) {
      const w = waiters[0]!;
      w.resolve(q.pull(now(), w.limits));
    }
  }

  toy.onShutdown(() => {
    clearTimeout(flushTimer);
    for (const w of [...waiters]) w.resolve([]);
  });

  new Gauge({
    name: 'twitter_fanout_queue_depth',
    help: 'Fanout jobs (tweets) not yet acknowledged: waiting or leased to a worker.',
    registers: [toy.registry],
    collect() {
      this.set(q.depth);
    },
  });
  new Gauge({
    name: 'twitter_fanout_lag_seconds',
    help: 'Age of the oldest unacknowledged fanout job: how far fanout is behind.',
    registers: [toy.registry],
    collect() {
      this.set(q.lagMs(now()) / 1000);
    },
  });
  new Gauge({
    name: 'twitter_fanout_pending_inserts',
    help: 'Timeline inserts still owed by unacknowledged jobs (followers to reach).',
    registers: [toy.registry],
    collect() {
      this.set(q.pendingInserts);
    },
  });
  new Counter({
    name: 'twitter_fanout_jobs_total',
    help: 'Fanout jobs by event: enqueued, acked, expired (lease ran out, delivered again).',
    labelNames: ['event'],
    registers: [toy.registry],
    collect() {
      this.reset();
      const s = q.stats;
      this.inc({ event: 'enqueued' }, s.enqueued);
      this.inc({ event: 'acked' }, s.acked);
      this.inc({ event: 'expired' }, s.expired);
    },
  });

  toy.route('POST', '/enqueue', async (req) => {
    const body = await req.json();
    const traceparent = toy.trace.current();
    q.enqueue({ id: intField(body, 'id'), author: intField(body, 'author'), at: intField(body, 'at'), fanout: intField(body, 'fanout'), ...(traceparent ? { traceparent } : {}) }, now());
    if (waiters.length > 0 && flushTimer === undefined) flushTimer = setTimeout(flush, lingerMs);
    return { body: { depth: q.depth, lagMs: Math.round(q.lagMs(now())) } };
  });

  toy.route('POST', '/pull', async (req) => {
    const body = await req.json();
    const acked = q.ack(body === undefined ? [] : intList({ ack: (body as { ack?: unknown }).ack ?? [] }, 'ack'));
    const limits = { maxJobs: intField(body, 'maxJobs', 100), maxInserts: intField(body, 'maxInserts', 5000) };
    const waitMs = Math.min(MAX_WAIT_MS, intField(body, 'waitMs', 0));
    let jobs = q.pull(now(), limits);
    if (jobs.length === 0 && waitMs > 0) {
      const socket = req.raw.socket;
      jobs = await new Promise<QueuedJob[]>((resolve) => {
        const done = (result: QueuedJob[]): void => {
          clearTimeout(w.timer);
          socket.off('close', gone);
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          resolve(result);
        };
        // A worker that hung up must not be handed jobs: they would sit leased to nobody until the lease ends.
        const gone = (): void => done([]);
        const w: Waiter = { limits, resolve: done, timer: setTimeout(() => done([]), waitMs) };
        waiters.push(w);
        socket.once('close', gone);
      });
    }
    return { body: { acked, jobs: jobs.map(({ id, author, at, fanout, deliveries, traceparent }) => ({ id, author, at, fanout, deliveries, traceparent })) } };
  });
};

runToyIfMain(import.meta.url, queue);
