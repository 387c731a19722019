/**
 * twitter/queue: the fanout queue between the tweet API and the fanout workers (FanoutQueue over HTTP).
 *
 * Routes: `POST /enqueue {id, author, at, fanout}` → `{depth, lagMs}` (the API reads the lag as a health signal),
 * `POST /pull {maxJobs, maxInserts}` → `{jobs}` (leased for `leaseMs`), `POST /ack {ids}` → `{acked}`.
 * Metrics: `twitter_fanout_queue_depth`, `twitter_fanout_lag_seconds` (age of the oldest unfinished job),
 * `twitter_fanout_pending_inserts`, `twitter_fanout_jobs_total{event}`.
 */
import { Counter, Gauge } from 'prom-client';
import { runToyIfMain, type ToySetup } from '../lib/toy-node.js';
import { FanoutQueue } from './fanout-queue.js';
import { intField, intList } from './wire.js';

export const queue: ToySetup = (toy) => {
  const leaseMs = toy.params.num('leaseMs', 30_000);
  const q = new FanoutQueue(leaseMs);
  // Lease times are durations, so they use the monotonic clock; only tweet times use the toy's wall clock.
  const now = (): number => performance.now();

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
    q.enqueue({ id: intField(body, 'id'), author: intField(body, 'author'), at: intField(body, 'at'), fanout: intField(body, 'fanout') }, now());
    return { body: { depth: q.depth, lagMs: Math.round(q.lagMs(now())) } };
  });

  toy.route('POST', '/pull', async (req) => {
    const body = await req.json();
    const jobs = q.pull(now(), { maxJobs: intField(body, 'maxJobs', 100), maxInserts: intField(body, 'maxInserts', 5000) });
    return { body: { jobs: jobs.map(({ id, author, at, fanout, deliveries }) => ({ id, author, at, fanout, deliveries })) } };
  });

  toy.route('POST', '/ack', async (req) => {
    return { body: { acked: q.ack(intList(await req.json(), 'ids')) } };
  });
};

runToyIfMain(import.meta.url, queue);
