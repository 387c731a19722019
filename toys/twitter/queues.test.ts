import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { FanoutQueue } from './fanout-queue.js';
import { ServiceQueue } from './service-queue.js';
import { Ewma, shouldShed } from './shedding.js';

const job = (id: number, fanout = 10) => ({ id, author: id, at: 0, fanout });

describe('twitter/fanout-queue', () => {
  it('hands jobs out in order, bounded by jobs and by followers to reach', () => {
    const q = new FanoutQueue(1000);
    for (let i = 1; i <= 5; i++) q.enqueue(job(i, i === 2 ? 500 : 10), i);
    expect(q.pull(10, { maxJobs: 10, maxInserts: 100 }).map((j) => j.id)).toEqual([1]);
    // A big job alone is always handed out, or it could never be.
    expect(q.pull(10, { maxJobs: 10, maxInserts: 100 }).map((j) => j.id)).toEqual([2]);
    expect(q.pull(10, { maxJobs: 2, maxInserts: 100 }).map((j) => j.id)).toEqual([3, 4]);
    expect(q.depth).toBe(5);
    expect(q.waiting).toBe(1);
    expect(q.pendingInserts).toBe(10 + 500 + 30);
  });

  it('reports the age of the oldest unacknowledged job as the lag', () => {
    const q = new FanoutQueue(1000);
    expect(q.lagMs(50)).toBe(0);
    q.enqueue(job(1), 100);
    q.enqueue(job(2), 200);
    q.pull(250, { maxJobs: 1, maxInserts: 1000 });
    expect(q.lagMs(300)).toBe(200);
    expect(q.ack([1])).toBe(1);
    expect(q.lagMs(300)).toBe(100);
    expect(q.ack([2])).toBe(0);
  });

  it('redelivers a job whose lease ran out, before newer jobs, and ignores the late ack', () => {
    const q = new FanoutQueue(1000);
    q.enqueue(job(1), 0);
    q.enqueue(job(2), 0);
    q.pull(0, { maxJobs: 1, maxInserts: 1000 });
    const again = q.pull(1500, { maxJobs: 1, maxInserts: 1000 });
    expect(again.map((j) => [j.id, j.deliveries])).toEqual([[1, 2]]);
    expect(q.stats.expired).toBe(1);
    expect(q.ack([1])).toBe(1);
    expect(q.ack([1])).toBe(0);
    expect(q.depth).toBe(1);
    expect(q.pendingInserts).toBe(10);
  });
});

describe('twitter/service-queue', () => {
  it('runs commands one at a time in arrival order', () => {
    const s = new ServiceQueue(1000);
    expect(s.admit(0, 10)).toBe(10);
    expect(s.admit(0, 5)).toBe(15);
    expect(s.admit(5, 1)).toBe(11);
    expect(s.backlogMs(5)).toBe(11);
    expect(s.admit(100, 2)).toBe(2);
    expect(s.busyMs).toBe(18);
  });

  it('refuses work once the backlog passes its bound', () => {
    const s = new ServiceQueue(20);
    expect(s.admit(0, 25)).toBe(25);
    expect(s.admit(0, 1)).toBeUndefined();
    expect(s.admit(6, 1)).toBe(20);
  });
});

describe('twitter/breaker', () => {
  const opts = { window: 10, minCalls: 4, failureRatio: 0.5, cooldownMs: 1000, probes: 2 };

  it('opens on a failure ratio, refuses during the cooldown, then probes and closes', () => {
    const seen: BreakerState[] = [];
    const b = new CircuitBreaker(opts, (s) => seen.push(s));
    b.success(0);
    b.failure(0);
    b.failure(0);
    expect(b.state(0)).toBe('closed'); // 3 calls < minCalls
    b.failure(0);
    expect(b.state(0)).toBe('open');
    expect(b.allow(999)).toBe(false);
    expect(b.allow(1000)).toBe(true);
    expect(b.allow(1000)).toBe(true);
    expect(b.allow(1000)).toBe(false); // only `probes` calls in half-open
    b.success(1001);
    b.success(1002);
    expect(b.state(1002)).toBe('closed');
    expect(seen).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again when a probe fails', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 4; i++) b.failure(0);
    expect(b.allow(1000)).toBe(true);
    b.failure(1000);
    expect(b.state(1500)).toBe('open');
    expect(b.state(2000)).toBe('half-open');
  });

  it('forgets failures that slide out of the window', () => {
    const b = new CircuitBreaker({ ...opts, window: 4, minCalls: 4, failureRatio: 0.75 });
    b.failure(0);
    b.failure(0);
    b.success(0);
    b.success(0);
    b.success(0);
    b.failure(0); // window: F S S S → S S S F
    b.failure(0); // S S F F: 0.5
    expect(b.state(0)).toBe('closed');
  });
});

describe('twitter/shedding', () => {
  const policy = { enabled: true, lagMs: 1000, cacheLatencyMs: 50 };
  const healthy = { fanoutLagMs: 10, cacheLatencyMs: 5, breaker: 'closed' as const };

  it('sheds on any bad signal, never when disabled', () => {
    expect(shouldShed(policy, healthy)).toBe(false);
    expect(shouldShed(policy, { ...healthy, fanoutLagMs: 1001 })).toBe(true);
    expect(shouldShed(policy, { ...healthy, cacheLatencyMs: 51 })).toBe(true);
    expect(shouldShed(policy, { ...healthy, breaker: 'half-open' })).toBe(true);
    expect(shouldShed({ ...policy, enabled: false }, { ...healthy, breaker: 'open' })).toBe(false);
  });

  it('smooths samples', () => {
    const e = new Ewma(0.5);
    expect(e.value).toBe(0);
    expect(e.add(10)).toBe(10);
    expect(e.add(20)).toBe(15);
  });
});
