import { describe, expect, it } from 'vitest';
import { WorkerPool } from './worker-pool.js';

describe('WorkerPool', () => {
  it('runs up to `workers` requests at once at their own cost, then queues them behind the first to finish', () => {
    const pool = new WorkerPool(2, 1000);
    expect(pool.admit(0, 10)).toEqual({ doneInMs: 10, waitMs: 0 });
    expect(pool.admit(0, 10)).toEqual({ doneInMs: 10, waitMs: 0 });
    expect(pool.busy(0)).toBe(2);
    expect(pool.admit(0, 10)).toEqual({ doneInMs: 20, waitMs: 10 });
    expect(pool.waitMs(5)).toBe(5);
    expect(pool.busy(25)).toBe(0);
    expect(pool.busyMs).toBe(30);
  });

  it('latency grows with the load: the same request costs more when arrivals outpace the pool', () => {
    const at = (ratePerSec: number): number => {
      const pool = new WorkerPool(4, 60_000);
      let last = 0;
      for (let i = 0; i < 200; i++) last = pool.admit((i * 1000) / ratePerSec, 20)!.doneInMs;
      return last;
    };
    expect(at(100)).toBe(20); // 100/s x 20 ms = 2 workers busy: no wait
    expect(at(400)).toBeGreaterThan(500); // 400/s x 20 ms = 8 workers' worth: the queue grows
  });

  it('refuses a request that would wait longer than maxWaitMs', () => {
    const pool = new WorkerPool(1, 15);
    pool.admit(0, 10);
    expect(pool.admit(0, 10)).toEqual({ doneInMs: 20, waitMs: 10 });
    expect(pool.admit(0, 10)).toBeUndefined();
    expect(() => new WorkerPool(0, 10)).toThrow(RangeError);
  });
});
