/**
 * The dynamo toy's control plane in virtual time: one metadata worker pool, n membership clients with their
 * connection monitors, and links that can lose replies, lose everything, or refuse connections. The same classes as
 * the HTTP nodes, without HTTP: unit tests use it to show the cascade and its mitigations in milliseconds, and it
 * is how the cluster's numbers were chosen. It models no data plane: a node serves when its client says so.
 */
import { ConnectionMonitor } from './connection-monitor.js';
import { MembershipClient, type MembershipPolicy, type FetchResult } from './membership-client.js';
import { membershipCostMs, membershipFor, type Layout } from './partitioning.js';
import { ReplicaSync } from './replica-sync.js';
import { VirtualTimers } from './timers.js';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';

/** `replies-lost`: requests arrive, answers vanish. `blackhole`: nothing passes. `down`: connections refused. */
export type LinkState = 'ok' | 'replies-lost' | 'blackhole' | 'down';

export interface SimFault {
  /** Ordinals (1-based) of the storage nodes whose links to the metadata service break. */
  nodes: number[];
  /** Which metadata hosts' links: the primary's only (default), or all of them. */
  hosts?: 'primary' | 'all';
  state: Exclude<LinkState, 'ok'>;
  atMs: number;
  forMs: number;
}

/** Spare metadata hosts (AWS's added capacity): down until `upAtMs`, then they copy the table from the primary. */
export interface SimSpares {
  count: number;
  upAtMs: number;
  syncCostMs: number;
  syncTimeoutMs: number;
  syncRetryMs: number;
}

export interface SimOptions {
  layout: Layout;
  pool: WorkerPoolOptions;
  costBaseMs: number;
  costPerEntryMs: number;
  /** Storage nodes send their deadline and the service honours it (`pool.dropExpired`). */
  policy: Omit<MembershipPolicy, 'refreshSlot'>;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  durationMs: number;
  faults: SimFault[];
  spares?: SimSpares;
  seed: number;
  /** Samples per second of the series. */
  sampleEveryMs?: number;
}

export interface SimSample {
  t: number;
  serving: number;
  /** Queue depth of the primary metadata host. */
  queueDepth: number;
  /** Spare hosts that are up and have copied the table. */
  sparesReady: number;
  /** Fetches sent in the last sample period, by result. */
  fetches: Record<FetchResult, number>;
  /** Answers the service wrote to a client that had already given up, in the last sample period. */
  abandoned: number;
  /** Nodes serving from a membership older than 1.5 refresh periods plus the allowance (static stability at work). */
  servingStale: number;
  /** Nodes whose circuit breaker is open or half-open. */
  breakersOpen: number;
  /** Attempts the breaker kept from being sent, and retries that waited for the budget, in the last sample period. */
  breakerSkips: number;
  budgetWaits: number;
}

export interface SimResult {
  samples: SimSample[];
  clients: MembershipClient[];
  pool: WorkerPool;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulate(o: SimOptions): SimResult {
  const timers = new VirtualTimers();
  const random = mulberry32(o.seed);
  const pool = new WorkerPool(o.pool, timers);
  const n = o.layout.nodes;
  // Nodes bootstrap for STARTUP ms before the load's t = 0; fault times count from t = 0.
  const STARTUP = 10_000;
  const faults = o.faults.map((f) => ({ ...f, atMs: f.atMs + STARTUP }));
  const linkState = (ordinal: number, host: number): LinkState => {
    const t = timers.now();
    const f = faults.find((x) => x.nodes.includes(ordinal) && (host === 0 || x.hosts === 'all') && t >= x.atMs && t < x.atMs + x.forMs);
    return f ? f.state : 'ok';
  };
  const empty = (): Record<FetchResult, number> => ({ ok: 0, timeout: 0, rejected: 0, error: 0 });
  let fetches = empty();
  let abandoned = 0;
  let breakerSkips = 0;
  let budgetWaits = 0;
  // Each fetch and ping takes 1 ms of network each way: enough to order events, small enough to ignore.
  const NET = 1;

  // Host 0 is the primary; spares are down until upAtMs, then copy the table through the primary's queue.
  interface Host {
    pool: WorkerPool;
    up: () => boolean;
    ready: () => boolean;
  }
  const hosts: Host[] = [{ pool, up: () => true, ready: () => true }];
  const syncs: ReplicaSync[] = [];
  const sp = o.spares;
  for (let i = 0; i < (sp?.count ?? 0); i++) {
    const spare = sp!;
    const upAt = spare.upAtMs + STARTUP;
    const sync = new ReplicaSync(
      { timeoutMs: spare.syncTimeoutMs, retryMs: spare.syncRetryMs },
      {
        timers,
        copy: (timeoutMs, done) => {
          let aborted = false;
          timers.after(NET, () =>
            pool.submit({ costMs: spare.syncCostMs, deadlineAt: timers.now() + timeoutMs - NET }, (r) => timers.after(NET, () => !aborted && done(r.outcome === 'done'))),
          );
          return { abort: () => void (aborted = true) };
        },
      },
    );
    syncs.push(sync);
    timers.after(upAt, () => sync.start());
    hosts.push({ pool: new WorkerPool(o.pool, timers), up: () => timers.now() >= upAt, ready: () => sync.synced });
  }

  const clients: MembershipClient[] = [];
  const monitors: ConnectionMonitor[] = [];
  for (let ordinal = 1; ordinal <= n; ordinal++) {
    const membership = membershipFor(ordinal, o.layout, 1);
    const cost = membershipCostMs(membership.entries, o.costBaseMs, o.costPerEntryMs);
    const client = new MembershipClient(
      { ...o.policy, refreshSlot: ordinal - 1 },
      {
        timers,
        wallNow: () => timers.now(),
        random,
        events: { onFetch: (r) => void fetches[r]++, onBreakerSkip: () => void breakerSkips++, onBudgetWait: () => void budgetWaits++ },
        fetch: (attempt, done) => {
          let aborted = false;
          const host = hosts[attempt.host]!;
          const state = host.up() ? linkState(ordinal, attempt.host) : 'down';
          if (state === 'down') {
            timers.after(NET, () => done({ kind: 'error', reason: 'ECONNREFUSED' }));
          } else if (state !== 'blackhole') {
            timers.after(NET, () => {
              if (!host.ready()) {
                timers.after(NET, () => !aborted && done({ kind: 'error', reason: 'spare not synced' }));
                return;
              }
              const deadlineAt = timers.now() + attempt.timeoutMs - NET;
              host.pool.submit({ costMs: cost, deadlineAt }, (r) => {
                timers.after(NET, () => {
                  const lost = linkState(ordinal, attempt.host) !== 'ok';
                  if (aborted || lost) {
                    if (r.outcome === 'done') abandoned++;
                    return;
                  }
                  if (r.outcome === 'done') done({ kind: 'ok', membership });
                  else if (r.outcome === 'rejected') done({ kind: 'rejected' });
                  else done({ kind: 'error', reason: 'expired' });
                });
              });
            });
          }
          return { abort: () => void (aborted = true) };
        },
      },
    );
    const monitor = new ConnectionMonitor(
      { intervalMs: o.pingIntervalMs, timeoutMs: o.pingTimeoutMs },
      {
        timers,
        onLost: () => client.connectionLost(),
        ping: (_timeoutMs, done) => {
          const h = client.host;
          const state = hosts[h]!.up() ? linkState(ordinal, h) : 'down';
          if (state === 'down') timers.after(NET, () => done(false));
          else if (state === 'ok') timers.after(2 * NET, () => done(linkState(ordinal, h) === 'ok'));
          return { abort: () => {} };
        },
      },
    );
    clients.push(client);
    monitors.push(monitor);
  }

  // Start every node at once, as the lab does, and give them time to bootstrap before t = 0 of the load.
  for (const c of clients) c.start();
  for (const m of monitors) m.start();
  timers.advance(STARTUP);
  fetches = empty();
  abandoned = 0;
  breakerSkips = 0;
  budgetWaits = 0;

  // A healthy node refreshes at least every 1.5 periods (its slot is at least half a period away) plus the allowance.
  const staleAfterMs = 1.5 * o.policy.refreshIntervalMs + o.policy.timeoutMs;
  const every = o.sampleEveryMs ?? 1000;
  const samples: SimSample[] = [];
  for (let t = every; t <= o.durationMs; t += every) {
    timers.runUntil(STARTUP + t);
    const sparesReady = hosts.slice(1).filter((h) => h.up() && h.ready()).length;
    samples.push({
      t,
      serving: clients.filter((c) => c.serving).length,
      queueDepth: pool.depth,
      sparesReady,
      fetches,
      abandoned,
      servingStale: clients.filter((c) => c.serving && c.cacheAgeMs() > staleAfterMs).length,
      breakersOpen: clients.filter((c) => c.breakerState !== 'closed').length,
      breakerSkips,
      budgetWaits,
    });
    fetches = empty();
    abandoned = 0;
    breakerSkips = 0;
    budgetWaits = 0;
  }
  for (const c of clients) c.stop();
  for (const m of monitors) m.stop();
  for (const s of syncs) s.stop();
  return { samples, clients, pool };
}
