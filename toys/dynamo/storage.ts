/**
 * dynamo/storage: a storage node. Serves `GET/PUT /kv/:key` for the partitions its membership says it owns,
 * and keeps that membership fresh from the metadata service (see membership-client.ts for the rules).
 *
 * - 503 while it has no membership it trusts (out of service), 421 for a key of a partition it does not own.
 * - Pings the metadata service every `pingIntervalMs`; the first failed ping after a good one counts as a lost
 *   connection and triggers a re-fetch.
 * - Sends `x-timeout-ms` (its allowance) with every fetch; only a metadata service with `dropExpired` uses it.
 * - Metadata hosts: `peers.metadata` first, then `peers.metadata-spare`; it uses the first `metadataHosts` of them.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { ConnectionError, ToyConfigError, TimeoutError, runToyIfMain, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { Checks, loadExtension, type Extension, type ExtensionSpec } from '../lib/extension.js';
import { MembershipClient, type FetchReply, type Membership, type MembershipDecisions } from './membership-client.js';
import { storageSettings, withRefreshSlot } from './params.js';
import { ordinalOf, partitionOf } from './partitioning.js';
import { realTimers } from './timers.js';

const FETCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.5, 2.5, 5, 10];

/**
 * The storage node's workshop extension point (exercises 2 and 3): the module may export either or both; what it
 * does not export stays the policy's (the params).
 * - `retryDelay(attempt: number, lastError: 'timeout' | 'rejected' | 'error'): number | null`
 * - `allowAttempt(failures: number, msSinceLastFailure: number): boolean`
 */
export const STORAGE_EXTENSION: ExtensionSpec = {
  what: "the storage node's workshop module",
  functions: {
    retryDelay: { required: false, check: Checks.delayOrNull },
    allowAttempt: { required: false, check: Checks.boolean },
  },
};

function storageDecisions(ext: Extension): MembershipDecisions {
  return {
    ...(ext.has('retryDelay') ? { retryDelay: (attempt, lastError, defaultMs) => ext.call<number | null>('retryDelay', [attempt, lastError], defaultMs) } : {}),
    ...(ext.has('allowAttempt') ? { allowAttempt: (failures, ms) => ext.call('allowAttempt', [failures, ms], true) } : {}),
  };
}

export const storage: ToySetup = (toy) => {
  const s = storageSettings(toy.params);
  const name = toy.config.name;
  const hosts: PeerClient[] = [...toy.peerGroup('metadata'), ...toy.peerGroup('metadata-spare')];
  if (hosts.length < s.policy.hosts) {
    throw new ToyConfigError(`${name} has metadataHosts=${s.policy.hosts} but only ${hosts.length} metadata peer(s) (peers.metadata, peers.metadata-spare)`);
  }
  const reg = [toy.registry];

  const fetches = new Counter({
    name: 'membership_fetch_total',
    help: 'Membership fetches sent to the metadata service, by result (ok, timeout, rejected = 429, error) and reason (bootstrap, refresh, reconnect, retry).',
    labelNames: ['result', 'reason'],
    registers: reg,
  });
  for (const result of ['ok', 'timeout', 'rejected', 'error']) for (const reason of ['bootstrap', 'refresh', 'reconnect', 'retry']) fetches.inc({ result, reason }, 0);
  const fetchDuration = new Histogram({
    name: 'membership_fetch_duration_seconds',
    help: 'Time from sending a membership fetch to its answer or to giving up, by result.',
    labelNames: ['result'],
    buckets: FETCH_BUCKETS,
    registers: reg,
  });
  const breakerSkips = new Counter({ name: 'membership_breaker_skips_total', help: 'Fetches not sent because the circuit breaker was open.', registers: reg });
  const budgetWaits = new Counter({ name: 'membership_retry_budget_waits_total', help: 'Retries that had to wait for the retry budget.', registers: reg });
  const connectionLosses = new Counter({ name: 'metadata_connection_losses_total', help: 'Times this node lost its connection to the metadata service (failed ping after a good one).', registers: reg });
  const kvRequests = new Counter({
    name: 'storage_requests_total',
    help: 'Data requests by outcome: served, out_of_service (503), misdirected (421).',
    labelNames: ['op', 'outcome'],
    registers: reg,
  });
  for (const op of ['get', 'put']) for (const outcome of ['served', 'out_of_service', 'misdirected']) kvRequests.inc({ op, outcome }, 0);

  const extension = loadExtension(toy, STORAGE_EXTENSION);
  const client = new MembershipClient(
    withRefreshSlot(s.policy, ordinalOf(name) - 1),
    {
      timers: realTimers,
      wallNow: () => toy.clock.now(),
      random: () => toy.rng.next(),
      ...(extension ? { decisions: storageDecisions(extension) } : {}),
      fetch: (attempt, done) => {
        const peer = hosts[attempt.host]!;
        let finished = false;
        const finish = (r: FetchReply): void => {
          if (finished) return;
          finished = true;
          done(r);
        };
        // The client's own timer decides a timeout; the HTTP timeout, a hair later, only frees the socket.
        peer.get(`/membership?node=${encodeURIComponent(name)}`, { timeoutMs: attempt.timeoutMs + 5, headers: { 'x-timeout-ms': String(attempt.timeoutMs) } }).then(
          (reply) => {
            if (reply.status === 200) finish({ kind: 'ok', membership: reply.body as Membership });
            else if (reply.status === 429) finish({ kind: 'rejected' });
            else finish({ kind: 'error', reason: `status ${reply.status}` });
          },
          (e: unknown) => {
            if (e instanceof TimeoutError) return;
            finish({ kind: 'error', reason: e instanceof ConnectionError ? e.code : String(e) });
          },
        );
        return { abort: () => void (finished = true) };
      },
      events: {
        onFetch(result, ms, reason) {
          fetches.inc({ result, reason });
          fetchDuration.observe({ result }, ms / 1000);
        },
        onBreakerSkip: () => breakerSkips.inc(),
        onBudgetWait: () => budgetWaits.inc(),
        onServingChange: (serving) => {
          // Healthy once it has held a membership: the lab starts the load only when every node has one.
          if (serving) toy.ready = true;
          toy.log(serving ? `in service (membership v${client.membership?.version}, ${client.membership?.partitions.length} partitions)` : `out of service after ${client.consecutiveFailures} failed fetch(es)`);
        },
        onBreakerChange: (state) => toy.log(`breaker ${state}`),
      },
    },
  );

  const monitor = new ConnectionMonitor(
    { intervalMs: s.pingIntervalMs, timeoutMs: s.pingTimeoutMs },
    {
      timers: realTimers,
      onLost: () => {
        connectionLosses.inc();
        toy.log('lost the connection to the metadata service: re-fetching membership');
        client.connectionLost();
      },
      onRestored: () => toy.log('connection to the metadata service restored'),
      ping: (timeoutMs, done) => {
        let finished = false;
        hosts[client.host]!.get('/ping', { timeoutMs: timeoutMs + 5 }).then(
          (r) => !finished && done(r.status === 200),
          (e: unknown) => !finished && !(e instanceof TimeoutError) && done(false),
        );
        return { abort: () => void (finished = true) };
      },
    },
  );

  new Gauge({
    name: 'storage_node_serving',
    help: '1 while this storage node serves requests (it has a membership it trusts), else 0.',
    registers: reg,
    collect() {
      this.set(client.serving ? 1 : 0);
    },
  });
  new Gauge({
    name: 'membership_cache_age_seconds',
    help: 'Age of the membership this node holds, since the fetch that brought it.',
    registers: reg,
    collect() {
      this.set(client.cacheAgeMs() / 1000);
    },
  });
  new Gauge({
    name: 'membership_refresh_interval_seconds',
    help: 'Planned period of scheduled refreshes: sum(1 / this) is the fleet fetch rate of steady state.',
    registers: reg,
    collect() {
      this.set(s.policy.refreshIntervalMs / 1000);
    },
  });
  new Gauge({
    name: 'membership_breaker_open',
    help: '1 while the circuit breaker to the metadata service is open (half-open counts as open).',
    registers: reg,
    collect() {
      this.set(client.breakerState === 'closed' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'metadata_connected',
    help: '1 while pings to the metadata service succeed.',
    registers: reg,
    collect() {
      this.set(monitor.connected ? 1 : 0);
    },
  });

  toy.ready = false;

  const data = new Map<string, string>();
  const check = (op: 'get' | 'put', key: string) => {
    if (!client.serving) {
      kvRequests.inc({ op, outcome: 'out_of_service' });
      return { status: 503, body: { error: `${name} is out of service: no valid membership` } };
    }
    const m = client.membership!;
    const p = partitionOf(key, m.partitionCount);
    if (!m.partitions.includes(p)) {
      kvRequests.inc({ op, outcome: 'misdirected' });
      return { status: 421, body: { error: `${name} does not own partition ${p}` } };
    }
    kvRequests.inc({ op, outcome: 'served' });
    return undefined;
  };

  toy.route('GET', '/kv/:key', (req) => {
    const key = req.params.key!;
    const refused = check('get', key);
    if (refused) return refused;
    const value = data.get(key);
    return { body: { key, found: value !== undefined, value: value ?? null, node: name } };
  });

  toy.route('PUT', '/kv/:key', async (req) => {
    const key = req.params.key!;
    const body = await req.json();
    const refused = check('put', key);
    if (refused) return refused;
    const value = typeof body === 'object' && body !== null && 'value' in body ? String((body as { value: unknown }).value) : JSON.stringify(body ?? null);
    data.set(key, value);
    return { body: { key, stored: true, node: name } };
  });

  client.start();
  monitor.start();
  toy.onShutdown(() => {
    monitor.stop();
    client.stop();
  });
};

runToyIfMain(import.meta.url, storage);
