/**
 * Node params → the pure logic's options. One mapping, used by the HTTP nodes and by the simulation tests (which
 * read clusters/dynamo-kv.yaml), so the numbers the tests check are the numbers the lab runs.
 * Every param is read here, defaults included: the toy refuses params it never read, so a typo fails at start.
 */
import { BASELINE_POLICY, type MembershipPolicy } from './membership-client.js';
import type { Layout } from './partitioning.js';
import type { WorkerPoolOptions } from './worker-pool.js';

/** The part of toys/lib `Params` used here (tests pass a `Params` built from the cluster file). */
export interface ParamReader {
  num(name: string, fallback: number): number;
  bool(name: string, fallback: boolean): boolean;
  str(name: string, fallback: string): string;
  liveNum(name: string, fallback: number): () => number;
  liveBool(name: string, fallback: boolean): () => boolean;
  liveStr(name: string, fallback: string, oneOf?: readonly string[]): () => string;
}

export interface MetadataSettings {
  pool: WorkerPoolOptions;
  costBaseMs: number;
  costPerEntryMs: number;
  layout: Layout;
}

export function metadataSettings(p: ParamReader): MetadataSettings {
  // The mitigations' params are live (a config push while the service runs): the pool reads them per request.
  const queueLimit = p.liveNum('queueLimit', 0);
  const dropExpired = p.liveBool('dropExpired', false);
  return {
    pool: {
      workers: p.num('workers', 2),
      // 0 = unbounded: the baseline's queue grows as long as requests arrive faster than workers finish them.
      get maxQueue() {
        const q = queueLimit();
        return q > 0 ? q : Infinity;
      },
      get dropExpired() {
        return dropExpired();
      },
    },
    costBaseMs: p.num('costBaseMs', 100),
    costPerEntryMs: p.num('costPerEntryMs', 50),
    layout: {
      partitions: p.num('partitions', 24),
      nodes: p.num('storageNodes', 6),
      indexesPerPartition: p.num('indexesPerPartition', 2),
    },
  };
}

export interface StorageSettings {
  /** Without `refreshSlot`, which comes from the node's ordinal. */
  policy: Omit<MembershipPolicy, 'refreshSlot'>;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export function storageSettings(p: ParamReader): StorageSettings {
  const b = BASELINE_POLICY;
  // The mitigations' params are live (a config push while the node runs): the membership client reads its policy
  // per fetch, retry and failure, so they are getters here (copy them with `withRefreshSlot`, never a spread).
  const backoff = p.liveStr('backoff', b.backoff, ['fixed', 'full-jitter']) as () => MembershipPolicy['backoff'];
  const serveStale = p.liveBool('serveStale', b.serveStale);
  const retryBudget = p.liveNum('retryBudget', b.retryBudget);
  const breakerFailures = p.liveNum('breakerFailures', b.breakerFailures);
  return {
    policy: {
      timeoutMs: p.num('fetchTimeoutMs', b.timeoutMs),
      bootstrapTimeoutMs: p.num('bootstrapTimeoutMs', b.bootstrapTimeoutMs),
      refreshIntervalMs: p.num('refreshIntervalMs', b.refreshIntervalMs),
      refreshJitterMs: p.num('refreshJitterMs', b.refreshJitterMs),
      get serveStale() {
        return serveStale();
      },
      maxStaleMs: p.num('maxStaleMs', b.maxStaleMs),
      get backoff() {
        return backoff();
      },
      retryDelayMs: p.num('retryDelayMs', b.retryDelayMs),
      backoffBaseMs: p.num('backoffBaseMs', b.backoffBaseMs),
      backoffCapMs: p.num('backoffCapMs', b.backoffCapMs),
      get retryBudget() {
        return retryBudget();
      },
      retryBudgetBurst: p.num('retryBudgetBurst', b.retryBudgetBurst),
      get breakerFailures() {
        return breakerFailures();
      },
      breakerOpenMs: p.num('breakerOpenMs', b.breakerOpenMs),
      hosts: p.num('metadataHosts', b.hosts),
    },
    pingIntervalMs: p.num('pingIntervalMs', 1000),
    pingTimeoutMs: p.num('pingTimeoutMs', 500),
  };
}

/** The node's policy with its refresh slot, keeping the live params' getters (a spread would freeze them). */
export function withRefreshSlot(policy: Omit<MembershipPolicy, 'refreshSlot'>, refreshSlot: number): MembershipPolicy {
  return Object.defineProperties({ refreshSlot } as MembershipPolicy, Object.getOwnPropertyDescriptors(policy));
}
