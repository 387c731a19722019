/**
 * hello/frontend: `GET /item/:key` asks `peers.backend[0]` and returns its answer.
 * Params:
 * - `backendTimeoutMs` (default 0 = none): with 0 the frontend waits as long as the backend takes,
 *   which is the baseline's flaw a slow or partitioned backend exposes.
 * - `fallback` (default false): on backend timeout or error, answer 200 with the last known value for the key
 *   (or `defaultValue`) and header `x-fallback: 1`; without it answer 504 (timeout) or 502 (error).
 * - `defaultValue` (default "default").
 * - `extension` (default ""): a workshop module (toys/lib/extension.ts) that decides instead of the two params above:
 *   `timeoutMs(): number` before every backend call (0 = no timeout), and `fallback(key, lastKnown, outcome)` when
 *   the call fails: the value to serve (answer 200 with `x-fallback: 1`), or undefined/null to fail the request.
 * `backendTimeoutMs` and `fallback` are live: `POST /admin/params` changes them while the frontend runs.
 */
import { Counter, Histogram } from 'prom-client';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import { LATENCY_BUCKETS, TimeoutError, runToyIfMain, type PeerReply, type Reply, type ToySetup } from '../lib/toy-node.js';

/** The workshop's extension point of the frontend (exercise 1: timeouts and fallbacks). */
export const FRONTEND_EXTENSION: ExtensionSpec = {
  what: "the frontend's workshop module",
  functions: {
    timeoutMs: { required: true, check: Checks.nonNegativeNumber },
    fallback: { required: true, check: Checks.any },
  },
};

/** Bounds memory under a load generator that draws many keys. */
const MAX_REMEMBERED = 10_000;

export const frontend: ToySetup = (toy) => {
  // Live: a config push (`POST /admin/params`, the game day's `mitigate`) turns the mitigation on without a restart.
  const timeoutMs = toy.params.liveNum('backendTimeoutMs', 0);
  const fallback = toy.params.liveBool('fallback', false);
  const defaultValue = toy.params.str('defaultValue', 'default');
  const backend = toy.peer('backend', 0);
  const extension = loadExtension(toy, FRONTEND_EXTENSION);

  const calls = new Counter({
    name: 'hello_backend_calls_total',
    help: 'Calls from the frontend to the backend, by outcome (ok, timeout, error).',
    labelNames: ['outcome'],
    registers: [toy.registry],
  });
  for (const outcome of ['ok', 'timeout', 'error']) calls.inc({ outcome }, 0);
  const callDuration = new Histogram({
    name: 'hello_backend_call_duration_seconds',
    help: 'Time the frontend spent on a backend call, whatever its outcome.',
    buckets: LATENCY_BUCKETS,
    registers: [toy.registry],
  });
  const fallbacks = new Counter({
    name: 'hello_fallbacks_total',
    help: 'Answers served from the fallback value because the backend failed.',
    registers: [toy.registry],
  });

  const lastKnown = new Map<string, unknown>();
  function remember(key: string, value: unknown): void {
    lastKnown.delete(key);
    lastKnown.set(key, value);
    if (lastKnown.size > MAX_REMEMBERED) lastKnown.delete(lastKnown.keys().next().value!);
  }

  function degrade(key: string, outcome: 'timeout' | 'error', reason: string): Reply {
    if (extension) {
      const known = lastKnown.has(key);
      const value = extension.call<unknown>('fallback', [key, known ? lastKnown.get(key) : undefined, outcome], undefined);
      if (value === undefined || value === null) return { status: outcome === 'timeout' ? 504 : 502, body: { error: `backend ${outcome}: ${reason}` } };
      fallbacks.inc();
      return { body: { key, value, degraded: true, stale: known }, headers: { 'x-fallback': '1' } };
    }
    if (!fallback()) return { status: outcome === 'timeout' ? 504 : 502, body: { error: `backend ${outcome}: ${reason}` } };
    fallbacks.inc();
    const known = lastKnown.has(key);
    return {
      body: { key, value: known ? lastKnown.get(key) : defaultValue, degraded: true, stale: known },
      headers: { 'x-fallback': '1' },
    };
  }

  toy.route('GET', '/item/:key', async (req) => {
    const key = req.params.key!;
    const endTimer = callDuration.startTimer();
    let reply: PeerReply;
    try {
      const callTimeoutMs = extension ? extension.call('timeoutMs', [], timeoutMs()) : timeoutMs();
      reply = await backend.get(`/item/${encodeURIComponent(key)}`, { timeoutMs: callTimeoutMs });
    } catch (e) {
      endTimer();
      const outcome = e instanceof TimeoutError ? 'timeout' : 'error';
      calls.inc({ outcome });
      return degrade(key, outcome, e instanceof Error ? e.message : String(e));
    }
    endTimer();
    if (reply.status !== 200) {
      calls.inc({ outcome: 'error' });
      return degrade(key, 'error', `status ${reply.status}`);
    }
    calls.inc({ outcome: 'ok' });
    remember(key, (reply.body as { value?: unknown } | undefined)?.value);
    return { body: reply.body };
  });
};

runToyIfMain(import.meta.url, frontend);
