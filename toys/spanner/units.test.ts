import { describe, expect, it } from 'vitest';
import { ClockCheck, offsetSample } from './clock-check.js';
import { FollowerPromise, LeaderLease } from './lease.js';
import { TrueTime } from './truetime.js';

describe('TrueTime', () => {
  it('is an interval of ±ε around the wall clock, and commit wait lasts until the timestamp has surely passed', () => {
    let wall = 1_000;
    const tt = new TrueTime(() => wall, 7);
    expect(tt.now()).toEqual({ earliest: 993, latest: 1007 });
    const s = tt.now().latest;
    expect(tt.after(s)).toBe(false);
    expect(tt.waitFor(s)).toBe(15); // 2ε + 1
    wall += 15;
    expect(tt.after(s)).toBe(true);
    expect(tt.before(wall + 8)).toBe(true);
  });
});

describe('leases', () => {
  const clocks = (o: { wall: number; mono: number }) => ({ wall: () => o.wall, mono: () => o.mono });

  it('wall design: the leader holds the majority-th promise, read on its own wall clock', () => {
    const t = { wall: 10_000, mono: 0 };
    const lease = new LeaderLease('wall', clocks(t), 1000, 1, 5);
    expect(lease.extend(0, [{ untilWall: 11_000 }])).toBe(false); // 2 of 5
    expect(lease.extend(0, [{ untilWall: 11_000 }, { untilWall: 10_900 }])).toBe(true);
    t.wall = 10_899;
    expect(lease.valid()).toBe(true);
    t.wall = 10_900;
    expect(lease.valid()).toBe(false);
    // The same lease, read by a leader whose clock is 3 s behind: still valid 3 s "later".
    t.wall = 10_900 - 3000 + 2999;
    expect(lease.valid()).toBe(true);
  });

  it('monotonic design: the lease runs L − ε from the send; a voter waits L + ε from the receipt', () => {
    const t = { wall: 0, mono: 100 };
    const lease = new LeaderLease('monotonic', clocks(t), 1000, 10, 3);
    lease.extend(100, [{ untilWall: 0 }]);
    t.mono = 1089;
    expect(lease.valid()).toBe(true);
    t.mono = 1090;
    expect(lease.valid()).toBe(false);
    const f = { wall: 0, mono: 105 };
    const promise = new FollowerPromise('monotonic', clocks(f), 1000, 10);
    promise.grant();
    f.wall = -1e9; // a wall clock step changes nothing
    f.mono = 1114;
    expect(promise.mayVote()).toBe(false);
    f.mono = 1115;
    expect(promise.mayVote()).toBe(true);
  });

  it('a revoked lease is invalid at once', () => {
    const t = { wall: 0, mono: 0 };
    const lease = new LeaderLease('monotonic', clocks(t), 1000, 1, 1);
    lease.extend(0, []);
    expect(lease.valid()).toBe(true);
    lease.revoke();
    expect(lease.valid()).toBe(false);
  });
});

describe('clock check', () => {
  it('measures offsets as NTP does and needs a majority of peers to disagree beyond ε + rtt/2', () => {
    expect(offsetSample(1000, 1010, 4005, 10, 0).offsetMs).toBe(3000);
    const check = new ClockCheck(7, 1000);
    check.record('1', { offsetMs: 3000, rttMs: 2, atMono: 0 });
    check.record('2', { offsetMs: 3001, rttMs: 2, atMono: 0 });
    expect(check.verdict(10, 5).bad).toBe(false); // two of five is no majority
    check.record('3', { offsetMs: 2999, rttMs: 2, atMono: 0 });
    expect(check.verdict(10, 5)).toMatchObject({ bad: true, medianOffsetMs: 3000, fresh: 3 });
    // Within ε plus half the round trip: not evidence.
    const near = new ClockCheck(7, 1000);
    for (const p of ['1', '2', '3']) near.record(p, { offsetMs: 20, rttMs: 30, atMono: 0 });
    expect(near.verdict(10, 5).bad).toBe(false);
    // Old samples say nothing.
    expect(check.verdict(5000, 5)).toMatchObject({ bad: false, fresh: 0 });
  });
});
