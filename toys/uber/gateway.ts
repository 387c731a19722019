/**
 * uber/gateway: where the lab's load enters, standing in for the drivers' and riders' apps. A driver app sends its
 * true position (cells.ts `driverPosition`) to ingest; a rider app asks dispatch for a ride. Like mobile apps, each
 * attempt has a timeout (`tryTimeoutMs`) and a failed attempt is retried (retry.ts): at once in the baseline, with
 * jittered exponential backoff and a retry budget in the mitigation. A 429 (shed) is not retried: it says "back off".
 *
 * Routes: `POST /location/:driver`, `POST /ride/:rider`. Metrics: `uber_app_attempts_total{op,result}`,
 * `uber_app_retries_total{op}`, `uber_app_retry_budget_exhausted_total{op}`.
 */
import { Counter } from 'prom-client';
import { HttpError, runToyIfMain, sleep, TimeoutError, type Params, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { driverPosition } from './cells.js';
import { backoffDelayMs, RetryBudget, type RetryPolicy } from './retry.js';
import { CRITICALITY_HEADER, gridFromParams, intParam } from './wire.js';

const OPS = ['location', 'ride'] as const;
type Op = (typeof OPS)[number];

/**
 * The retry-budget mitigation's three params are live (a config push to the apps' client library): the policy's
 * fields are read per retry.
 */
export function retryPolicy(params: Params): RetryPolicy {
  const backoffMs = params.liveNum('retryBackoffMs', 0);
  const jitter = params.liveBool('retryJitter', false);
  const budgetRatio = params.liveNum('retryBudget', 0);
  return {
    retries: params.num('retries', 3),
    get backoffMs() {
      return backoffMs();
    },
    get jitter() {
      return jitter();
    },
    get budgetRatio() {
      return budgetRatio();
    },
  };
}

export const gateway: ToySetup = (toy) => {
  const policy = retryPolicy(toy.params);
  const tryTimeoutMs = toy.params.num('tryTimeoutMs', 2000);
  const grid = gridFromParams(toy);
  const ingest = toy.peer('ingest');
  const dispatch = toy.peer('dispatch');
  const rng = toy.rng.fork('retry');
  const budgets: Record<Op, RetryBudget> = { location: new RetryBudget(() => policy.budgetRatio), ride: new RetryBudget(() => policy.budgetRatio) };

  const attempts = new Counter({ name: 'uber_app_attempts_total', help: 'Attempts the apps made, by operation and result (ok, timeout, error, shed).', labelNames: ['op', 'result'], registers: [toy.registry] });
  const retries = new Counter({ name: 'uber_app_retries_total', help: 'Retries the apps sent (attempts after the first).', labelNames: ['op'], registers: [toy.registry] });
  const exhausted = new Counter({ name: 'uber_app_retry_budget_exhausted_total', help: 'Retries not sent because the retry budget was spent.', labelNames: ['op'], registers: [toy.registry] });
  for (const op of OPS) {
    retries.inc({ op }, 0);
    exhausted.inc({ op }, 0);
    for (const result of ['ok', 'timeout', 'error', 'shed']) attempts.inc({ op, result }, 0);
  }

  async function call(op: Op, peer: PeerClient, path: string, body: unknown): Promise<unknown> {
    budgets[op].onRequest();
    let last = '';
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (!budgets[op].tryRetry()) {
          exhausted.inc({ op });
          break;
        }
        retries.inc({ op });
        const wait = backoffDelayMs(policy, attempt, rng.next());
        if (wait > 0) await sleep(wait);
      }
      try {
        const reply = await peer.post(path, body, { timeoutMs: tryTimeoutMs, headers: { [CRITICALITY_HEADER]: op === 'ride' ? 'critical' : 'background' } });
        if (reply.status === 200) {
          attempts.inc({ op, result: 'ok' });
          return reply.body;
        }
        if (reply.status === 429) {
          attempts.inc({ op, result: 'shed' });
          throw new HttpError(429, `${op} shed by the server`);
        }
        attempts.inc({ op, result: 'error' });
        last = `answered ${reply.status}`;
      } catch (e) {
        if (e instanceof HttpError) throw e;
        attempts.inc({ op, result: e instanceof TimeoutError ? 'timeout' : 'error' });
        last = e instanceof Error ? e.message : String(e);
      }
      if (attempt >= policy.retries) break;
    }
    throw new HttpError(503, `${op} failed: ${last}`);
  }

  toy.route('POST', '/location/:driver', async (req) => {
    const driver = intParam(req.params.driver, 'driver');
    const at = toy.clock.now();
    const p = driverPosition(driver, at, grid.radiusMeters);
    return { body: await call('location', ingest, '/location', { driver, x: p.x, y: p.y, at }) };
  });

  toy.route('POST', '/ride/:rider', async (req) => {
    const rider = intParam(req.params.rider, 'rider');
    return { body: await call('ride', dispatch, '/ride', { rider }) };
  });
};

runToyIfMain(import.meta.url, gateway);
