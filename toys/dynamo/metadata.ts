/**
 * dynamo/metadata: hands each storage node its membership (the partitions it owns).
 *
 * - `GET /membership?node=storage-3`: queued FIFO for one of `workers` slots, held for
 *   `costBaseMs + entries · costPerEntryMs` (a membership of 4 partitions with 2 indexes each = 12 entries = 700 ms).
 *   200 with the membership; 429 at once when `queueLimit` waiting requests are already queued; 504 when
 *   `dropExpired` skipped it because the answer could no longer reach the client in time (header `x-timeout-ms`).
 * - `GET /ping`: answered by the HTTP layer at once; storage nodes use it to notice a lost connection.
 * - `GET /table`: the membership table, for a spare host; queued like a membership, costs `syncCostMs`.
 *
 * A spare host (`syncFromPrimary: true`, group metadata-spare: AWS's added capacity) first copies the table from
 * `peers.metadata[0]` through that queue (timeout `syncTimeoutMs`, retried every `syncRetryMs`); until the copy
 * arrives it answers memberships with 503.
 *
 * The service never learns that a client gave up, except when it writes the answer to a closed connection
 * (counted as `abandoned`), after the work is done.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { HttpError, LATENCY_BUCKETS, runToyIfMain, type Reply, type ToyRequest, type ToySetup } from '../lib/toy-node.js';
import { metadataSettings } from './params.js';
import { membershipCostMs, membershipFor, ordinalOf } from './partitioning.js';
import { realTimers } from './timers.js';
import { ReplicaSync } from './replica-sync.js';
import { WorkerPool, type Job, type JobResult } from './worker-pool.js';

export const metadata: ToySetup = (toy) => {
  const s = metadataSettings(toy.params);
  const pool = new WorkerPool(s.pool, realTimers);
  const reg = [toy.registry];
  const syncFromPrimary = toy.params.bool('syncFromPrimary', false);
  const syncCostMs = toy.params.num('syncCostMs', 700);
  const syncTimeoutMs = toy.params.num('syncTimeoutMs', 2000);
  const syncRetryMs = toy.params.num('syncRetryMs', 1000);

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

  const syncAttempts = new Counter({
    name: 'metadata_sync_attempts_total',
    help: 'Attempts of a spare host to copy the membership table from the primary, by result (ok, failed).',
    labelNames: ['result'],
    registers: reg,
  });
  for (const result of ['ok', 'failed']) syncAttempts.inc({ result }, 0);
  let sync: ReplicaSync | undefined;
  if (syncFromPrimary) {
    const primary = toy.peer('metadata', 0);
    sync = new ReplicaSync(
      { timeoutMs: syncTimeoutMs, retryMs: syncRetryMs },
      {
        timers: realTimers,
        copy: (timeoutMs, done) => {
          let finished = false;
          primary.get('/table', { timeoutMs: timeoutMs + 5, headers: { 'x-timeout-ms': String(timeoutMs) } }).then(
            (r) => !finished && done(r.status === 200),
            () => !finished && done(false),
          );
          return { abort: () => void (finished = true) };
        },
        onAttempt: (ok) => syncAttempts.inc({ result: ok ? 'ok' : 'failed' }),
        onSynced: () => toy.log(`membership table copied from the primary after ${sync!.attempts} attempt(s): serving`),
      },
    );
    sync.start();
    toy.onShutdown(() => sync!.stop());
  }
  new Gauge({
    name: 'metadata_table_synced',
    help: '1 when this host holds the membership table and can answer (always, for the primary).',
    registers: reg,
    collect() {
      this.set(!sync || sync.synced ? 1 : 0);
    },
  });

  /** Runs a job through the queue; `deadline` from the caller's `x-timeout-ms`. */
  const queued = (costMs: number, timeoutHeader: string | string[] | undefined): Promise<JobResult> => {
    const budget = Number(timeoutHeader);
    const job: Job = { costMs, ...(budget > 0 ? { deadlineAt: realTimers.now() + budget } : {}) };
    return new Promise<JobResult>((resolve) => pool.submit(job, resolve));
  };
  const refused = (r: JobResult): Reply | undefined => {
    wait.observe(r.waitedMs / 1000);
    if (r.outcome === 'rejected') {
      requests.inc({ result: 'rejected' });
      rejections.inc({ reason: 'queue_full' });
      return { status: 429, body: { error: 'metadata queue full' }, headers: { 'retry-after': '1' } };
    }
    if (r.outcome === 'expired') {
      requests.inc({ result: 'expired' });
      rejections.inc({ reason: 'expired' });
      return { status: 504, body: { error: 'deadline passed while queued' } };
    }
    return undefined;
  };
  const countAnswer = (req: ToyRequest): void => {
    const socket = req.raw.socket;
    const gone = req.raw.destroyed || !socket || socket.destroyed || !socket.writable;
    requests.inc({ result: gone ? 'abandoned' : 'answered' });
  };

  toy.route('GET', '/ping', () => ({ body: { ok: true } }));

  toy.route('GET', '/table', async (req) => {
    if (sync && !sync.synced) return { status: 503, body: { error: 'this host has no table yet' } };
    const r = await queued(syncCostMs, req.headers['x-timeout-ms']);
    const no = refused(r);
    if (no) return no;
    countAnswer(req);
    return { body: { partitions: s.layout.partitions, storageNodes: s.layout.nodes } };
  });

  toy.route('GET', '/membership', async (req) => {
    const node = req.query.get('node');
    if (!node) throw new HttpError(400, 'expected ?node=<storage node name>');
    const ordinal = ordinalOf(node);
    if (ordinal < 1 || ordinal > s.layout.nodes) throw new HttpError(404, `no storage node ${node} in a fleet of ${s.layout.nodes}`);
    if (sync && !sync.synced) return { status: 503, body: { error: 'spare host still copying the membership table' } };
    const membership = membershipFor(ordinal, s.layout, 1);
    const r = await queued(membershipCostMs(membership.entries, s.costBaseMs, s.costPerEntryMs), req.headers['x-timeout-ms']);
    const no = refused(r);
    if (no) return no;
    countAnswer(req);
    return { body: membership };
  });
};

runToyIfMain(import.meta.url, metadata);
