/**
 * A game day turns the Uber mitigations on while the nodes run (`POST /admin/params`, `Params.setLive`): each flag
 * is read per request, so the behaviour changes at the push, without a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Params, startToy, type RunningToy } from '../lib/toy-node.js';
import { retryPolicy } from './gateway.js';
import { samplingPolicy } from './ingest.js';
import { backoffDelayMs, RetryBudget } from './retry.js';
import { AdaptiveSampler } from './sampling.js';
import { poolFromParams, type Pooled } from './wire.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

describe('uber mitigations pushed live', () => {
  it('qalm-shedding: `shedding` pushed to a node sheds the next request whose queueing delay is over the bound', async () => {
    let pooled!: Pooled;
    const r = await startToy({ name: 'geo-index-1', group: 'geo-index', index: 0, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { shedding: false }, seed: 1, runId: 't' }, (toy) => {
      pooled = poolFromParams(toy, { workers: 1, maxQueue: 1000 });
    });
    running.push(r);
    const { pool } = pooled;
    expect(pool.admit(0, 500, 'background', 0.9).ok).toBe(true);
    // 500 ms of queueing delay, over the 100 ms bound for background work: admitted while shedding is off...
    expect(pool.admit(0, 10, 'background', 0.9).ok).toBe(true);
    const push = await fetch(`${r.url}/admin/params`, { method: 'POST', body: JSON.stringify({ shedding: true }) });
    expect(push.status).toBe(200);
    // ...and shed once it is pushed on.
    expect(pool.admit(0, 10, 'background', 0.9)).toMatchObject({ ok: false, reason: 'shed' });
  });

  it('adaptive-sampling: `sampling` pushed on keeps one update per driver per interval from then on', () => {
    const params = new Params({ sampling: false });
    const sampler = new AdaptiveSampler(samplingPolicy(params));
    expect(sampler.forward(7, 0, 500)).toBe(true);
    expect(sampler.forward(7, 10, 500)).toBe(true);
    params.setLive({ sampling: true });
    expect(sampler.forward(7, 20, 500)).toBe(false);
  });

  it('retry-budget: backoff, jitter and the budget pushed live change the next retry', () => {
    const params = new Params({});
    const policy = retryPolicy(params);
    const budget = new RetryBudget(() => policy.budgetRatio, 1);
    expect(backoffDelayMs(policy, 1, 0.5)).toBe(0);
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, true]);
    params.setLive({ retryBackoffMs: 200, retryJitter: true, retryBudget: 0.1 });
    expect(backoffDelayMs(policy, 2, 0.5)).toBe(200);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });
});
