/**
 * dynamo/metadata: hands each storage node its membership (the partitions it owns).
 *
 * - `GET /membership?node=storage-3`: queued FIFO for one of `workers` slots, held for
 *   `costBaseMs + entries · costPerEntryMs` (a membership of 4 partitions with 2 indexes each = 12 entries = 700 ms).
 *   200 with the membership; 429 at once when `queueLimit` waiting requests are already queued; 504 when
 *   `dropExpired` skipped it because the answer could no longer reach the client in time (header `x-timeout-ms`).
 * - `GET /ping`: answered by the HTTP layer at once; storage nodes use it to notice a lost connection.
 *
 * The service never learns that a client gave up, except when it writes the answer to a closed connection
 * (counted as `abandoned`), after the work is done.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { HttpError, LATENCY_BUCKETS, runToyIfMain, type Reply, type ToySetup } from '../lib/toy-node.js';
import { metadataSettings } from './params.js';
import { membershipCostMs, membershipFor, ordinalOf } from './partitioning.js';
import { realTimers } from './timers.js';
import { WorkerPool, type JobResult } from './worker-pool.js';

export const metadata: ToySetup = (toy) => {
  const s = metadataSettings(toy.params);
  const pool = new WorkerPool(s.pool, realTimers);
  const reg = [toy.registry];

  new Gauge({
    name: 'metadata_queue_depth',
    help: 'Membership requests waiting for a worker.',
    registers: reg,
    collect() {
      this.set(pool.depth);
    },
  });
  new Gauge({
    name: 'metadata_workers_busy',
    help: 'Workers building a membership right now.',
    registers: reg,
    collect() {
      this.set(pool.busy);
    },
  });
  new Gauge({
    name: 'metadata_workers',
    help: 'Size of the worker pool.',
    registers: reg,
    collect() {
      this.set(pool.workers);
    },
  });
  const requests = new Counter({
    name: 'metadata_requests_total',
    help: 'Membership requests by how they ended: answered, abandoned (answer written to a client that had left), rejected (queue full), expired (dropped unworked: past its deadline).',
    labelNames: ['result'],
    registers: reg,
  });
  const rejections = new Counter({
    name: 'metadata_rejections_total',
    help: 'Membership requests refused without work, by reason (queue_full, expired).',
    labelNames: ['reason'],
    registers: reg,
  });
  const wait = new Histogram({
    name: 'metadata_queue_wait_seconds',
    help: 'Time a membership request waited for a worker.',
    buckets: LATENCY_BUCKETS,
    registers: reg,
  });
  for (const result of ['answered', 'abandoned', 'rejected', 'expired']) requests.inc({ result }, 0);
  for (const reason of ['queue_full', 'expired']) rejections.inc({ reason }, 0);

  toy.route('GET', '/ping', () => ({ body: { ok: true } }));

  toy.route('GET', '/membership', async (req) => {
    const node = req.query.get('node');
    if (!node) throw new HttpError(400, 'expected ?node=<storage node name>');
    const ordinal = ordinalOf(node);
    if (ordinal < 1 || ordinal > s.layout.nodes) throw new HttpError(404, `no storage node ${node} in a fleet of ${s.layout.nodes}`);
    const membership = membershipFor(ordinal, s.layout, 1);
    const budget = Number(req.headers['x-timeout-ms']);
    const arrived = realTimers.now();
    const job = { costMs: membershipCostMs(membership.entries, s.costBaseMs, s.costPerEntryMs), ...(budget > 0 ? { deadlineAt: arrived + budget } : {}) };

    const r = await new Promise<JobResult>((resolve) => pool.submit(job, resolve));
    wait.observe(r.waitedMs / 1000);
    if (r.outcome === 'rejected') {
      requests.inc({ result: 'rejected' });
      rejections.inc({ reason: 'queue_full' });
      return { status: 429, body: { error: 'metadata queue full' }, headers: { 'retry-after': '1' } } satisfies Reply;
    }
    if (r.outcome === 'expired') {
      requests.inc({ result: 'expired' });
      rejections.inc({ reason: 'expired' });
      return { status: 504, body: { error: 'deadline passed while queued' } };
    }
    const socket = req.raw.socket;
    const gone = req.raw.destroyed || !socket || socket.destroyed || !socket.writable;
    requests.inc({ result: gone ? 'abandoned' : 'answered' });
    return { body: membership };
  });
};

runToyIfMain(import.meta.url, metadata);
