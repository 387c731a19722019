/** The leader lease's workshop hook (exercise 7): leaseValid decides instead of the design, from both designs' facts. */
import { describe, expect, it } from 'vitest';
import { LeaderLease, type LeaseValidity } from './lease.js';

function makeClocks() {
  const c = { wallMs: 1_000_000, monoMs: 500 };
  return { c, clocks: { wall: () => c.wallMs, mono: () => c.monoMs } };
}

describe('LeaderLease with a leaseValid hook', () => {
  it('is asked with the wall promise, the acknowledged round\'s send time and L; a revoked lease is not asked', () => {
    const { c, clocks } = makeClocks();
    const calls: Parameters<LeaseValidity>[] = [];
    const hook: LeaseValidity = (...args) => (calls.push(args), args[0].mono < args[1].sentMono + args[1].durationMs - args[2]);
    const lease = new LeaderLease('wall', clocks, 2000, 7, 5, hook);
    expect(lease.valid()).toBe(false);
    expect(calls).toHaveLength(0);
    lease.extend(400, [{ untilWall: 1_001_900 }, { untilWall: 1_002_100 }]);
    expect(lease.valid()).toBe(true);
    expect(calls[0]![0]).toEqual({ wall: 1_000_000, mono: 500 });
    expect(calls[0]![1]).toEqual({ promisedUntilWall: 1_001_900, sentMono: 400, durationMs: 2000 });
    expect(calls[0]![2]).toBe(7);
    expect(calls[0]![3]).toBe(true); // the wall design's own answer
    // The wall clock steps back 5 s: the wall design would still believe; the monotonic hook does not.
    c.wallMs -= 5000;
    c.monoMs = 400 + 2000;
    expect(lease.valid()).toBe(false);
    expect(calls.at(-1)![3]).toBe(true);
    lease.revoke();
    const n = calls.length;
    expect(lease.valid()).toBe(false);
    expect(calls).toHaveLength(n);
  });

  it('without a hook, each design answers as before', () => {
    const { c, clocks } = makeClocks();
    const lease = new LeaderLease('wall', clocks, 2000, 1, 5);
    lease.extend(400, [{ untilWall: 1_002_000 }, { untilWall: 1_002_000 }]);
    c.wallMs -= 5000;
    c.monoMs += 10_000;
    expect(lease.valid()).toBe(true);
  });
});
