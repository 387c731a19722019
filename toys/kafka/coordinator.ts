/**
 * kafka/coordinator: the ZooKeeper stand-in, one process, over HTTP (see coordinator-store.ts for the semantics).
 *   POST /session {timeoutMs}            → {sessionId, timeoutMs}
 *   POST /session/:id/heartbeat          → 200, or 404 {code: "SessionExpired"} (the client must start over)
 *   POST /op {ops: [...], sessionId?}    → 200 {results, zxid}, or 409 {code, path, message}: all ops or none
 *   GET  /node?path=/x                   → the node, or 404
 *   GET  /watch?since=N&waitMs=M         → long-poll: the whole tree {zxid, nodes} once zxid > N, or after M ms
 * Params: `expiryCheckMs` (default 100): how often silent sessions are expired.
 */
import { Counter, Gauge } from 'prom-client';
import { HttpError, runToyIfMain, type ToySetup } from '../lib/toy-node.js';
import { CoordinatorStore, type CoordOp } from './coordinator-store.js';

const MAX_WATCH_MS = 10_000;

export const coordinator: ToySetup = (toy) => {
  const expiryCheckMs = toy.params.num('expiryCheckMs', 100);

  const requests = new Counter({
    name: 'kafka_coordinator_requests_total',
    help: 'Coordinator requests by operation and result.',
    labelNames: ['op', 'result'],
    registers: [toy.registry],
  });
  const expiries = new Counter({
    name: 'kafka_coordinator_sessions_expired_total',
    help: 'Sessions the coordinator expired because their heartbeats stopped.',
    registers: [toy.registry],
  });
  const controllerChanges = new Counter({
    name: 'kafka_coordinator_controller_elected_total',
    help: 'Times a broker created the ephemeral /controller node.',
    registers: [toy.registry],
  });
  const failover = new Gauge({
    name: 'kafka_coordinator_controller_failover_seconds',
    help: 'Last controller failover: from the old controller’s last heartbeat to the new /controller node (0 before any).',
    registers: [toy.registry],
  });
  failover.set(0);

  // The last heartbeat of the session that held /controller when it expired: the start of a failover.
  let controllerLostAtMs: number | undefined;
  const store = new CoordinatorStore({
    now: () => Date.now(),
    onExpire: (session, paths) => {
      expiries.inc();
      if (paths.includes('/controller')) controllerLostAtMs = session.lastHeardMs;
      toy.log(`session ${session.id} expired (silent > ${session.timeoutMs} ms); removed ${paths.join(', ') || 'no nodes'}`);
    },
  });

  new Gauge({
    name: 'kafka_coordinator_controller_epoch',
    help: 'The controller epoch stored in /controller_epoch (0 before the first controller).',
    registers: [toy.registry],
    collect() {
      const data = store.get('/controller_epoch')?.data as { epoch?: number } | undefined;
      this.set(data?.epoch ?? 0);
    },
  });
  new Gauge({
    name: 'kafka_coordinator_live_brokers',
    help: 'Brokers registered under /brokers/ids (their sessions are alive).',
    registers: [toy.registry],
    collect() {
      this.set(store.children('/brokers/ids').length);
    },
  });

  const expiryTimer = setInterval(() => store.expireSessions(), expiryCheckMs);
  toy.onShutdown(() => {
    clearInterval(expiryTimer);
    store.close();
  });

  toy.route('POST', '/session', async (req) => {
    const body = (await req.json()) as { timeoutMs?: unknown } | undefined;
    if (typeof body?.timeoutMs !== 'number') throw new HttpError(400, 'expected {"timeoutMs": <number>}');
    const s = store.createSession(body.timeoutMs);
    requests.inc({ op: 'session', result: 'ok' });
    return { body: { sessionId: s.id, timeoutMs: s.timeoutMs } };
  });

  toy.route('POST', '/session/:id/heartbeat', (req) => {
    const alive = store.heartbeat(req.params.id!);
    requests.inc({ op: 'heartbeat', result: alive ? 'ok' : 'expired' });
    return alive ? { body: { ok: true } } : { status: 404, body: { code: 'SessionExpired', message: `session ${req.params.id} is expired` } };
  });

  toy.route('POST', '/op', async (req) => {
    const body = (await req.json()) as { ops?: unknown; sessionId?: unknown } | undefined;
    if (!Array.isArray(body?.ops)) throw new HttpError(400, 'expected {"ops": [...]}');
    const sessionId = typeof body.sessionId === 'string' ? body.sessionId : undefined;
    const ops = body.ops as CoordOp[];
    const hadController = store.get('/controller') !== undefined;
    const r = store.multi(ops, sessionId);
    const kind = ops.map((o) => o.op).join('+');
    requests.inc({ op: kind, result: r.ok ? 'ok' : r.code });
    if (!r.ok) return { status: 409, body: r };
    if (!hadController && store.get('/controller') !== undefined) {
      controllerChanges.inc();
      if (controllerLostAtMs !== undefined) {
        failover.set((Date.now() - controllerLostAtMs) / 1000);
        controllerLostAtMs = undefined;
      }
    }
    return { body: { ok: true, results: r.results, zxid: store.zxid } };
  });

  toy.route('GET', '/node', (req) => {
    const path = req.query.get('path') ?? '';
    const node = store.get(path);
    requests.inc({ op: 'get', result: node ? 'ok' : 'NoNode' });
    return node ? { body: node } : { status: 404, body: { code: 'NoNode', path } };
  });

  toy.route('GET', '/watch', async (req) => {
    const since = Number(req.query.get('since') ?? '-1');
    const waitMs = Math.min(MAX_WATCH_MS, Math.max(0, Number(req.query.get('waitMs') ?? '0')));
    if (!Number.isFinite(since) || !Number.isFinite(waitMs)) throw new HttpError(400, 'since and waitMs must be numbers');
    // A client with no view yet (since < 0) gets the tree at once.
    if (since >= 0) await store.waitForChange(since, waitMs);
    requests.inc({ op: 'watch', result: 'ok' });
    return { body: store.snapshot() };
  });
};

runToyIfMain(import.meta.url, coordinator);
