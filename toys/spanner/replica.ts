/**
 * spanner/replica: one replica of a Spanner-like key-value group (see `replica-core.ts` for the mechanisms).
 * Each region is a node group; `regions` lists them. Peers are the other replicas, reached through Toxiproxy
 * links; every replica must link to every other.
 *
 * Routes: `POST /raft/append`, `POST /raft/vote`, `GET /raft/clock` (between replicas); `GET /kv/:key` (strong
 * read), `POST /kv/:key {"value"}` (write), `GET /snapshot/:key` (snapshot read with its staleness). A replica
 * that does not lead forwards strong operations to the leader it knows.
 *
 * Params: `regions` (the replica groups, in order; replica 0 of the first stands first), `leaseDesign` (`wall` | `monotonic`), `leaseMs` (3000), `epsilonMs` (1), `heartbeatMs` (250),
 * `electionJitterMs` (500), `clockCheck` (false, live), `failFast` (false, live: with it, a replica that has no leader it
 * heard from recently refuses strong operations at once instead of forwarding into the void), `writeTimeoutMs`.
 *
 * Wall time is the process's own (`Date.now()` through `toy.clock`): the lab skews it with libfaketime, so the
 * replica cannot tell a clock fault from a bad NTP step.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram } from 'prom-client';
import { ConnectionError, HttpError, runToyIfMain, TimeoutError, ToyConfigError, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import type { LeaseDesign } from './lease.js';
import { Refused, ReplicaCore, type AppendReply, type AppendRequest, type VoteReply, type VoteRequest } from './replica-core.js';

/**
 * The replica's workshop extension point (exercise 7: leases and clock uncertainty): `leaseValid(now: {wall, mono},
 * lease: {promisedUntilWall, sentMono, durationMs}, epsilonMs): boolean` decides, whenever the leader asks, whether
 * it still holds its lease (serves strong reads, keeps leading). A failed call: the `leaseDesign` param's answer.
 */
export const REPLICA_EXTENSION: ExtensionSpec = {
  what: "the replica's workshop module",
  functions: { leaseValid: { required: true, check: Checks.boolean } },
};

export const replica: ToySetup = (toy) => {
  const design = toy.params.str('leaseDesign', 'wall');
  if (design !== 'wall' && design !== 'monotonic') throw new ToyConfigError(`leaseDesign must be wall or monotonic, got ${design}`);
  const leaseMs = toy.params.num('leaseMs', 3000);
  const epsilonMs = toy.params.num('epsilonMs', 1);
  const heartbeatMs = toy.params.num('heartbeatMs', 250);
  const electionJitterMs = toy.params.num('electionJitterMs', 500);
  // Live (a config push while the replica runs): the clock check is read per tick, fail-fast per request. The lease
  // design and ε stay start-only: a lease granted under one design must be honoured under the same one.
  const clockCheck = toy.params.liveBool('clockCheck', false);
  const failFast = toy.params.liveBool('failFast', false);
  const writeTimeoutMs = toy.params.num('writeTimeoutMs', 1500);
  const extension = loadExtension(toy, REPLICA_EXTENSION);

  // The group spans regions, one node group each (`regions: "us,eu,asia"`): replica ids run over the regions
  // in that order, then by instance. The lab lists a group's peers in instance order, without this node.
  const regions = toy.params.str('regions', toy.config.group).split(',').map((r) => r.trim()).filter(Boolean);
  if (!regions.includes(toy.config.group)) throw new ToyConfigError(`regions "${regions.join(',')}" must include this node's group ${toy.config.group}`);
  const members: (PeerClient | null)[] = [];
  let id = -1;
  for (const region of regions) {
    const peers = toy.peerGroup(region);
    if (region !== toy.config.group) {
      members.push(...peers);
      continue;
    }
    const mine = toy.config.index - 1; // instance indexes start at 1
    members.push(...peers.slice(0, mine), null, ...peers.slice(mine));
    id = members.indexOf(null);
  }
  const size = members.length;
  const peerAt = (i: number): PeerClient => members[i]!;
  const rpcTimeoutMs = heartbeatMs * 2;

  const reg = [toy.registry];
  const role = new Gauge({ name: 'spanner_leader', help: '1 while this replica believes it leads its group.', registers: reg });
  const leaseHeld = new Gauge({ name: 'spanner_lease_held', help: '1 while this replica holds a leader lease it serves strong reads under (by its own clocks).', registers: reg });
  const termGauge = new Gauge({ name: 'spanner_term', help: 'Current election term.', registers: reg });
  const evictedGauge = new Gauge({ name: 'spanner_evicted', help: '1 while this replica has evicted itself for a bad clock.', registers: reg });
  const evictions = new Counter({ name: 'spanner_clock_evictions_total', help: 'Times this replica found its clock off by more than ε from a majority and evicted itself.', registers: reg });
  const elections = new Counter({ name: 'spanner_elections_total', help: 'Elections this replica started.', registers: reg });
  const offsetGauge = new Gauge({ name: 'spanner_clock_offset_from_peers_seconds', help: 'Median measured offset of the peers\' clocks from ours (positive: ours is behind).', registers: reg });
  const commitWait = new Histogram({ name: 'spanner_commit_wait_seconds', help: 'Commit wait: from choosing a write\'s TrueTime timestamp s until TT.after(s).', buckets: [0.001, 0.002, 0.005, 0.01, 0.014, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1], registers: reg });
  const strong = new Counter({ name: 'spanner_strong_ops_total', help: 'Strong reads and writes this replica answered, by op and outcome.', labelNames: ['op', 'outcome'], registers: reg });
  const snapshots = new Counter({ name: 'spanner_snapshot_reads_total', help: 'Snapshot reads served.', registers: reg });
  const staleness = new Histogram({ name: 'spanner_snapshot_staleness_seconds', help: 'How stale a served snapshot read may be: the time since the replica last heard its leader (monotonic clock) plus the leader\'s lag past the safe time then; 0 from the lease holder.', buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120], registers: reg });

  const core = new ReplicaCore({
    id,
    size,
    design: design as LeaseDesign,
    leaseMs,
    epsilonMs,
    heartbeatMs,
    electionJitterMs,
    get clockCheck() {
      return clockCheck();
    },
    clocks: { wall: () => toy.clock.now(), mono: () => performance.now() },
    random: () => toy.rng.next(),
    ...(extension ? { leaseValid: (now, lease, eps, byDesign) => extension.call('leaseValid', [now, lease, eps], byDesign) } : {}),
    transport: {
      append: async (p, req) => (await rpc(peerAt(p), '/raft/append', req)) as AppendReply,
      vote: async (p, req) => (await rpc(peerAt(p), '/raft/vote', req)) as VoteReply,
      clock: async (p) => {
        const r = await peerAt(p).get('/raft/clock', { timeoutMs: heartbeatMs });
        if (r.status !== 200) throw new Error(`clock: HTTP ${r.status}`);
        return (r.body as { wall: number }).wall;
      },
    },
    events: {
      becameLeader: (t) => toy.log(`leader for term ${t}`),
      steppedDown: (t, why) => toy.log(`stepped down in term ${t}: ${why}`),
      electionStarted: (t) => (elections.inc(), toy.log(`standing for election, term ${t}`)),
      evicted: (ms) => (evictions.inc(), offsetGauge.set(ms / 1000), toy.log(`clock off by ${ms.toFixed(1)} ms from a majority (ε ${epsilonMs} ms): evicted`)),
      readmitted: () => (offsetGauge.set(0), toy.log('clock agrees with the peers again: readmitted')),
      commitWait: (ms) => commitWait.observe(ms / 1000),
    },
  });

  async function rpc(peer: PeerClient, path: string, body: unknown): Promise<unknown> {
    const r = await peer.post(path, body, { timeoutMs: rpcTimeoutMs });
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    return r.body;
  }

  const ticker = setInterval(() => {
    core.tick();
    role.set(core.role === 'leader' ? 1 : 0);
    leaseHeld.set(core.holdsLease() ? 1 : 0);
    termGauge.set(core.term);
    evictedGauge.set(core.evicted ? 1 : 0);
  }, 10);
  toy.onShutdown(() => clearInterval(ticker));

  toy.route('POST', '/raft/append', async (req) => ({ body: core.handleAppend((await req.json()) as AppendRequest) }));
  toy.route('POST', '/raft/vote', async (req) => ({ body: core.handleVote((await req.json()) as VoteRequest) }));
  toy.route('GET', '/raft/clock', () => ({ body: { wall: toy.clock.now() } }));

  /** A strong op on a replica that does not lead: to the leader it knows, else refused. */
  async function forward(method: 'GET' | 'POST', path: string, body: unknown, op: 'read' | 'write') {
    const leader = core.leader;
    if (leader === null || leader === id || (failFast() && !core.promise.remainingMs())) {
      strong.inc({ op, outcome: 'no_leader' });
      return { status: 503, body: { error: 'no-leader', replica: toy.config.name } };
    }
    try {
      const r = await peerAt(leader).request(method, path, { body, timeoutMs: op === 'write' ? writeTimeoutMs + 500 : rpcTimeoutMs * 2, headers: { 'x-forwarded': '1' } });
      strong.inc({ op, outcome: r.status === 200 ? 'forwarded' : 'forward_refused' });
      return { status: r.status, body: r.body };
    } catch (e) {
      strong.inc({ op, outcome: 'forward_failed' });
      // A forwarded write that got no answer may have been appended by the leader: indeterminate.
      const why = e instanceof TimeoutError ? 'timeout' : e instanceof ConnectionError ? e.code : String(e);
      return { status: op === 'write' ? 504 : 503, body: { error: `forward to replica ${leader} failed: ${why}` } };
    }
  }

  toy.route('GET', '/kv/:key', async (req) => {
    const key = req.params.key!;
    try {
      const r = core.strongRead(key);
      strong.inc({ op: 'read', outcome: 'ok' });
      return { body: { key, ...r, replica: toy.config.name, term: core.term } };
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      if (e.reason === 'not-leader' && !req.headers['x-forwarded']) return forward('GET', `/kv/${encodeURIComponent(key)}`, undefined, 'read');
      strong.inc({ op: 'read', outcome: e.reason });
      return { status: 503, body: { error: e.reason, leader: e.leader } };
    }
  });

  toy.route('POST', '/kv/:key', async (req) => {
    const key = req.params.key!;
    const { value } = (await req.json()) as { value?: unknown };
    if (typeof value !== 'string') throw new HttpError(400, 'body must be {"value": "<string>"}');
    try {
      const r = await core.write(key, value, writeTimeoutMs);
      strong.inc({ op: 'write', outcome: 'ok' });
      return { body: { key, value, ...r, replica: toy.config.name, term: core.term } };
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      if (e.reason === 'not-leader' && !req.headers['x-forwarded']) return forward('POST', `/kv/${encodeURIComponent(key)}`, { value }, 'write');
      strong.inc({ op: 'write', outcome: e.reason });
      return { status: e.reason === 'indeterminate' ? 504 : 503, body: { error: e.reason, leader: e.leader } };
    }
  });

  toy.route('GET', '/snapshot/:key', (req) => {
    const key = req.params.key!;
    const r = core.snapshotRead(key);
    snapshots.inc();
    if (Number.isFinite(r.stalenessMs)) staleness.observe(r.stalenessMs / 1000);
    return { body: { key, value: r.value, ts: r.ts, stalenessMs: Number.isFinite(r.stalenessMs) ? Math.round(r.stalenessMs) : null, replica: toy.config.name } };
  });
};

runToyIfMain(import.meta.url, replica);
