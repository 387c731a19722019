import { describe, expect, it } from 'vitest';
import { BASELINE_POLICY, MembershipClient, type MembershipDecisions, type FetchAttempt, type FetchReply, type FetchResult, type MembershipPolicy } from './membership-client.js';
import { VirtualTimers } from './timers.js';

const M = { version: 1, partitions: [0, 6], entries: 6, nodes: 6, partitionCount: 12 };

interface Call {
  attempt: FetchAttempt;
  at: number;
  answer(reply: FetchReply): void;
  aborted: boolean;
}

function setup(policy: Partial<MembershipPolicy> = {}, opts: { random?: () => number; wallOffset?: number; decisions?: MembershipDecisions } = {}) {
  const timers = new VirtualTimers();
  const calls: Call[] = [];
  const fetched: { result: FetchResult; ms: number; reason: string; host: number }[] = [];
  const events = { breakerSkips: 0, budgetWaits: [] as number[], breaker: [] as string[], serving: [] as boolean[] };
  const client = new MembershipClient(
    { ...BASELINE_POLICY, refreshJitterMs: 0, ...policy },
    {
      timers,
      wallNow: () => timers.now() + (opts.wallOffset ?? 0),
      random: opts.random ?? (() => 0.5),
      ...(opts.decisions ? { decisions: opts.decisions } : {}),
      fetch: (attempt, done) => {
        const call: Call = { attempt, at: timers.now(), answer: done, aborted: false };
        calls.push(call);
        return { abort: () => void (call.aborted = true) };
      },
      events: {
        onFetch: (result, ms, reason, host) => void fetched.push({ result, ms, reason, host }),
        onBreakerSkip: () => void events.breakerSkips++,
        onBudgetWait: (ms) => void events.budgetWaits.push(ms),
        onBreakerChange: (s) => void events.breaker.push(s),
        onServingChange: (s) => void events.serving.push(s),
      },
    },
  );
  const last = (): Call => calls.at(-1)!;
  /** Bootstraps the client: first fetch answered at once. */
  const boot = (): void => {
    client.start();
    last().answer({ kind: 'ok', membership: M });
  };
  return { timers, client, calls, fetched, events, last, boot };
}

describe('MembershipClient: baseline', () => {
  it('is out of service until its bootstrap fetch succeeds, which has the longer allowance', () => {
    const { timers, client, calls, last } = setup();
    client.start();
    expect(client.serving).toBe(false);
    expect(calls).toHaveLength(1);
    expect(last().attempt).toEqual({ timeoutMs: 10_000, host: 0, reason: 'bootstrap' });
    timers.advance(5000); // slower than a normal allowance, within the bootstrap one
    last().answer({ kind: 'ok', membership: M });
    expect(client.serving).toBe(true);
    expect(client.membership).toEqual(M);
    expect(client.owns(6)).toBe(true);
    expect(client.owns(1)).toBe(false);
  });

  it('a fetch that misses the allowance times out, is aborted, takes the node out of service and is retried after a fixed delay', () => {
    const { timers, client, calls, fetched, last, boot, events } = setup();
    boot();
    client.connectionLost();
    const slow = last();
    expect(slow.attempt).toEqual({ timeoutMs: 1000, host: 0, reason: 'reconnect' });
    timers.advance(999);
    expect(client.serving).toBe(true);
    timers.advance(1);
    expect(slow.aborted).toBe(true);
    expect(fetched.at(-1)).toEqual({ result: 'timeout', ms: 1000, reason: 'reconnect', host: 0 });
    expect(client.serving).toBe(false);
    expect(events.serving).toEqual([true, false]);
    // A late reply is ignored: the node already gave up on it.
    slow.answer({ kind: 'ok', membership: M });
    expect(client.serving).toBe(false);
    timers.advance(99);
    expect(calls).toHaveLength(2);
    timers.advance(1);
    expect(calls).toHaveLength(3);
    expect(last().attempt.reason).toBe('retry');
    last().answer({ kind: 'ok', membership: { ...M, version: 2 } });
    expect(client.serving).toBe(true);
    expect(client.membership?.version).toBe(2);
    expect(client.consecutiveFailures).toBe(0);
  });

  it('429 and connection errors are failures too', () => {
    const { timers, client, fetched, last, boot } = setup();
    boot();
    client.connectionLost();
    last().answer({ kind: 'rejected' });
    expect(client.serving).toBe(false);
    timers.advance(100);
    last().answer({ kind: 'error', reason: 'ECONNRESET' });
    expect(fetched.map((f) => f.result)).toEqual(['ok', 'rejected', 'error']);
    expect(client.consecutiveFailures).toBe(2);
  });

  it('refreshes in its own slot of the period, at least half a period after the last fetch', () => {
    // Slot 2 of 6 in a 6 s period: refreshes at wall times ≡ 2000 (mod 6000).
    const { timers, calls, boot } = setup({ refreshSlot: 2 }, { wallOffset: 1500 });
    boot(); // at wall 1500: the 2000 slot is too close, so the next is 8000
    timers.advance(6499);
    expect(calls).toHaveLength(1);
    timers.advance(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.attempt.reason).toBe('refresh');
    calls[1]!.answer({ kind: 'ok', membership: M });
    timers.advance(6000);
    expect(calls.map((c) => c.at + 1500)).toEqual([1500, 8000, 14000]);
  });

  it('adds refresh jitter from its random source', () => {
    const { timers, calls, boot } = setup({ refreshJitterMs: 100 }, { random: () => 0.25 });
    boot();
    timers.advance(6024);
    expect(calls).toHaveLength(1);
    timers.advance(1);
    expect(calls).toHaveLength(2);
  });

  it('connectionLost re-fetches at once, but not while a fetch is in flight', () => {
    const { client, calls, boot } = setup();
    boot();
    client.connectionLost();
    client.connectionLost();
    expect(calls).toHaveLength(2);
  });

  it('moves to the next metadata host after a failure', () => {
    const { timers, client, calls, last, boot } = setup({ hosts: 3 });
    boot();
    client.connectionLost();
    last().answer({ kind: 'error', reason: 'refused' });
    timers.advance(100);
    last().answer({ kind: 'error', reason: 'refused' });
    timers.advance(100);
    last().answer({ kind: 'error', reason: 'refused' });
    timers.advance(100);
    expect(calls.map((c) => c.attempt.host)).toEqual([0, 0, 1, 2, 0]);
  });

  it('stop ends every activity', () => {
    const { timers, client, calls, last, boot } = setup();
    boot();
    client.connectionLost();
    const inFlight = last();
    client.stop();
    expect(inFlight.aborted).toBe(true);
    timers.advance(60_000);
    expect(calls).toHaveLength(2);
    expect(timers.pending).toBe(0);
  });
});

describe('MembershipClient: mitigations', () => {
  it('serveStale keeps serving from the last known good membership, until it is older than maxStaleMs', () => {
    const { timers, client, last, boot } = setup({ serveStale: true, maxStaleMs: 30_000 });
    boot();
    client.connectionLost();
    timers.advance(1000);
    expect(client.consecutiveFailures).toBe(1);
    expect(client.serving).toBe(true);
    expect(client.cacheAgeMs()).toBe(1000);
    // Every later fetch fails too.
    for (let t = 0; t < 40; t++) {
      timers.advance(1000);
    }
    expect(client.cacheAgeMs()).toBe(41_000);
    expect(client.serving).toBe(false);
    // Any success restores it.
    while (!client.fetchInFlight) timers.advance(1);
    last().answer({ kind: 'ok', membership: M });
    expect(client.serving).toBe(true);
    expect(client.cacheAgeMs()).toBe(0);
  });

  it('full jitter: retry delays are uniform below min(cap, base·2^(n-1))', () => {
    const draws = [0.999, 0.5, 0.25];
    let i = 0;
    const { client } = setup({ backoff: 'full-jitter', backoffBaseMs: 1000, backoffCapMs: 5000 }, { random: () => draws[i++ % draws.length]! });
    expect(client.retryDelayMs(1)).toBeCloseTo(999);
    expect(client.retryDelayMs(2)).toBe(1000);
    expect(client.retryDelayMs(3)).toBe(1000);
    expect(client.retryDelayMs(4)).toBeCloseTo(4995); // 0.999 · min(5000, 8000)
    expect(client.retryDelayMs(30)).toBe(2500);
  });

  it('full jitter spaces retries out exponentially', () => {
    const { timers, client, calls, last, boot } = setup({ backoff: 'full-jitter', backoffBaseMs: 1000, backoffCapMs: 16_000 }, { random: () => 0.99 });
    boot();
    timers.advance(100); // random 0.99 also delays the refresh slot; stay clear of it
    client.connectionLost();
    for (let n = 0; n < 4; n++) {
      const before = calls.length;
      last().answer({ kind: 'rejected' });
      while (calls.length === before) timers.advance(1);
    }
    last().answer({ kind: 'ok', membership: M });
    const gaps = calls.slice(2).map((c, k) => c.at - calls[k + 1]!.at);
    expect(gaps.map(Math.round)).toEqual([990, 1980, 3960, 7920]);
  });

  it('retry budget: retries beyond the burst wait for a token; other fetches do not need one', () => {
    const { timers, client, calls, last, boot, events } = setup({ retryBudget: 0.5, retryBudgetBurst: 2, retryDelayMs: 100 });
    boot();
    client.connectionLost(); // not a retry: free
    last().answer({ kind: 'rejected' });
    timers.advance(100); // retry 1: token
    last().answer({ kind: 'rejected' });
    timers.advance(100); // retry 2: token
    last().answer({ kind: 'rejected' });
    // Retry 3 at t=300: the bucket (full at 2) paid retries 1 and 2; since retry 1, 0.2 s × 0.5/s = 0.1 token came
    // back, and the missing 0.9 takes 1.8 s.
    timers.advance(100);
    expect(calls).toHaveLength(4);
    expect(events.budgetWaits).toEqual([1800]);
    timers.advance(1799);
    expect(calls).toHaveLength(4);
    timers.advance(1);
    expect(calls).toHaveLength(5);
    expect(last().attempt.reason).toBe('retry');
  });

  it('breaker: opens after N consecutive failures, sends nothing while open, then probes once', () => {
    const { timers, client, calls, last, boot, events } = setup({ breakerFailures: 3, breakerOpenMs: 5000, retryDelayMs: 100 });
    boot();
    client.connectionLost();
    last().answer({ kind: 'rejected' });
    timers.advance(100);
    last().answer({ kind: 'rejected' });
    timers.advance(100);
    last().answer({ kind: 'rejected' }); // third failure at t=200: open until 5200
    expect(client.breakerState).toBe('open');
    timers.advance(100); // the retry finds the breaker open: skipped, retried when it closes
    expect(calls).toHaveLength(4);
    expect(events.breakerSkips).toBe(1);
    client.connectionLost(); // even a reconnect waits for the breaker
    expect(calls).toHaveLength(4);
    timers.advance(4899);
    expect(calls).toHaveLength(4);
    timers.advance(1);
    expect(calls).toHaveLength(5);
    expect(client.breakerState).toBe('half-open');
    last().answer({ kind: 'rejected' }); // the probe fails: open again at once
    expect(client.breakerState).toBe('open');
    timers.advance(5100);
    expect(calls).toHaveLength(6);
    last().answer({ kind: 'ok', membership: M });
    expect(client.breakerState).toBe('closed');
    expect(events.breaker).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});

describe('MembershipClient: decisions of a workshop module', () => {
  it('retryDelay decides the delay before each retry, with the attempt number and the last error; null waits for the next refresh', () => {
    const seen: [number, string][] = [];
    const { timers, client, calls, last, boot } = setup({}, { decisions: { retryDelay: (attempt, lastError) => (seen.push([attempt, lastError]), attempt < 2 ? 300 : null) } });
    boot();
    client.connectionLost();
    last().answer({ kind: 'rejected' });
    expect(seen).toEqual([[1, 'rejected']]);
    const before = calls.length;
    timers.advance(299);
    expect(calls).toHaveLength(before);
    timers.advance(1);
    expect(last().attempt.reason).toBe('retry');
    last().answer({ kind: 'error', reason: 'x' });
    expect(seen.at(-1)).toEqual([2, 'error']);
    timers.advance(2000);
    expect(calls).toHaveLength(before + 1); // no retry: the next fetch is the scheduled refresh
    timers.advance(10_000);
    expect(last().attempt.reason).toBe('refresh');
  });

  it('allowAttempt false skips a retry (a fast rejection) and asks again after the retry delay', () => {
    let allow = false;
    const { timers, client, calls, last, boot, events } = setup({}, { decisions: { allowAttempt: (failures, ms) => allow && failures === 1 && ms >= 300 } });
    boot();
    client.connectionLost();
    last().answer({ kind: 'rejected' });
    const before = calls.length;
    timers.advance(350);
    expect(calls).toHaveLength(before);
    expect(events.breakerSkips).toBe(3);
    allow = true;
    timers.advance(100);
    expect(calls).toHaveLength(before + 1);
    expect(last().attempt.reason).toBe('retry');
  });
});
