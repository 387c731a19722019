/**
 * A game day pushes the Dynamo mitigations to running nodes (`POST /admin/params` → `Params.setLive`): the settings
 * built by params.ts read them per request, so the behaviour changes at the push, without a restart.
 */
import { describe, expect, it } from 'vitest';
import { Params } from '../lib/toy-node.js';
import { MembershipClient } from './membership-client.js';
import { metadataSettings, storageSettings, withRefreshSlot } from './params.js';
import { VirtualTimers } from './timers.js';
import { WorkerPool } from './worker-pool.js';

const M = { version: 1, partitions: [0, 6], entries: 6, nodes: 6, partitionCount: 12 };

function storage(params: Params) {
  const timers = new VirtualTimers();
  const answers: ((r: { kind: 'ok'; membership: typeof M } | { kind: 'rejected' }) => void)[] = [];
  const client = new MembershipClient(withRefreshSlot(storageSettings(params).policy, 0), {
    timers,
    wallNow: () => timers.now(),
    random: () => 0.5,
    fetch: (_attempt, done) => (answers.push(done), { abort: () => undefined }),
  });
  client.start();
  answers.at(-1)!({ kind: 'ok', membership: M });
  return { timers, client, answers };
}

describe('dynamo mitigations pushed live', () => {
  it('load-shedding / deadline-drop: queueLimit and dropExpired pushed to the metadata service bound its queue from the next request', () => {
    const params = new Params({});
    const timers = new VirtualTimers();
    const pool = new WorkerPool(metadataSettings(params).pool, timers);
    const submit = () => pool.submit({ costMs: 700 }, () => undefined);
    for (let i = 0; i < 6; i++) submit();
    expect(pool.counts.rejected).toBe(0);
    params.setLive({ queueLimit: 2, dropExpired: true });
    submit();
    expect(pool.counts.rejected).toBe(1);
    // dropExpired: a queued job that cannot finish before its deadline is dropped when a worker takes it.
    params.setLive({ queueLimit: 0 });
    pool.submit({ costMs: 700, deadlineAt: 100 }, () => undefined);
    timers.advance(10_000);
    expect(pool.counts.expired).toBe(1);
  });

  it('static-stability: serveStale pushed to a storage node keeps it serving through the next failed fetch', () => {
    const baseline = storage(new Params({}));
    const params = new Params({});
    const pushed = storage(params);
    params.setLive({ serveStale: true });
    for (const s of [baseline, pushed]) {
      s.client.connectionLost();
      s.answers.at(-1)!({ kind: 'rejected' });
    }
    expect(baseline.client.serving).toBe(false);
    expect(pushed.client.serving).toBe(true);
  });

  it('backoff-and-budget / circuit-breaker: backoff, retryBudget and breakerFailures are read from the live policy; a bad backoff is refused', () => {
    const params = new Params({});
    const policy = storageSettings(params).policy;
    params.setLive({ backoff: 'full-jitter', retryBudget: 0.2, breakerFailures: 2 });
    expect(withRefreshSlot(policy, 3)).toMatchObject({ refreshSlot: 3, backoff: 'full-jitter', retryBudget: 0.2, breakerFailures: 2 });
    expect(() => params.setLive({ backoff: 'exponential' })).toThrow(/"backoff" must be one of "fixed", "full-jitter"/);
  });
});
