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
}

export interface MetadataSettings {
  pool: WorkerPoolOptions;
  costBaseMs: number;
  costPerEntryMs: number;
  layout: Layout;
}

export function metadataSettings(p: ParamReader): MetadataSettings {
  const queueLimit = p.num('queueLimit', 0);
  return {
    pool: {
      workers: p.num('workers', 2),
      // 0 = unbounded: the baseline's queue grows as long as requests arrive faster than workers finish them.
      maxQueue: queueLimit > 0 ? queueLimit : Infinity,
      dropExpired: p.bool('dropExpired', false),
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
  const backoff = p.str('backoff', b.backoff);
  if (backoff !== 'fixed' && backoff !== 'full-jitter') throw new RangeError(`param "backoff" must be "fixed" or "full-jitter", got "${backoff}"`);
  return {
    policy: {
      timeoutMs: p.num('fetchTimeoutMs', b.timeoutMs),
      bootstrapTimeoutMs: p.num('bootstrapTimeoutMs', b.bootstrapTimeoutMs),
      refreshIntervalMs: p.num('refreshIntervalMs', b.refreshIntervalMs),
      refreshJitterMs: p.num('refreshJitterMs', b.refreshJitterMs),
      serveStale: p.bool('serveStale', b.serveStale),
      maxStaleMs: p.num('maxStaleMs', b.maxStaleMs),
      backoff,
      retryDelayMs: p.num('retryDelayMs', b.retryDelayMs),
      backoffBaseMs: p.num('backoffBaseMs', b.backoffBaseMs),
      backoffCapMs: p.num('backoffCapMs', b.backoffCapMs),
      retryBudget: p.num('retryBudget', b.retryBudget),
      retryBudgetBurst: p.num('retryBudgetBurst', b.retryBudgetBurst),
      breakerFailures: p.num('breakerFailures', b.breakerFailures),
      breakerOpenMs: p.num('breakerOpenMs', b.breakerOpenMs),
      hosts: p.num('metadataHosts', b.hosts),
    },
    pingIntervalMs: p.num('pingIntervalMs', 1000),
    pingTimeoutMs: p.num('pingTimeoutMs', 500),
  };
}
