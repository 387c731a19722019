/**
 * dynamo/router: the request router. `GET/PUT /kv/:key` goes to the storage node that owns the key's partition
 * (partition p → `peers.storage[p mod n]`, i.e. storage-(p mod n + 1)) and returns its answer as is: a storage
 * node out of service makes the client see its 503.
 * Params: `partitions` (must match the metadata service's), `storageTimeoutMs`.
 */
import { Counter } from 'prom-client';
import { TimeoutError, ToyConfigError, runToyIfMain, type ToySetup } from '../lib/toy-node.js';
import { ownerOrdinal, partitionOf } from './partitioning.js';

export const router: ToySetup = (toy) => {
  const partitions = toy.params.num('partitions', 24);
  const timeoutMs = toy.params.num('storageTimeoutMs', 1000);
  const nodes = toy.peerGroup('storage');
  if (nodes.length === 0) throw new ToyConfigError('router needs peers.storage: declare a link from router to storage');

  const routed = new Counter({
    name: 'router_requests_total',
    help: 'Requests the router forwarded, by storage node and outcome (ok, unavailable = 503, error, timeout).',
    labelNames: ['storage', 'outcome'],
    registers: [toy.registry],
  });
  for (let i = 1; i <= nodes.length; i++) for (const outcome of ['ok', 'unavailable', 'error', 'timeout']) routed.inc({ storage: `storage-${i}`, outcome }, 0);

  const forward = async (method: 'GET' | 'PUT', key: string, body?: unknown) => {
    const ordinal = ownerOrdinal(partitionOf(key, partitions), nodes.length);
    const label = `storage-${ordinal}`;
    try {
      const r = await nodes[ordinal - 1]!.request(method, `/kv/${encodeURIComponent(key)}`, { timeoutMs, ...(body === undefined ? {} : { body }) });
      routed.inc({ storage: label, outcome: r.status < 400 ? 'ok' : r.status === 503 ? 'unavailable' : 'error' });
      return { status: r.status, body: r.body };
    } catch (e) {
      const timeout = e instanceof TimeoutError;
      routed.inc({ storage: label, outcome: timeout ? 'timeout' : 'error' });
      return { status: timeout ? 504 : 502, body: { error: `${label}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  };

  toy.route('GET', '/kv/:key', (req) => forward('GET', req.params.key!));
  toy.route('PUT', '/kv/:key', async (req) => forward('PUT', req.params.key!, (await req.json()) ?? {}));
};

runToyIfMain(import.meta.url, router);
