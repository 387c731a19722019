import { describe, expect, it } from 'vitest';
import { VirtualTimers } from './timers.js';
import { WorkerPool, type JobResult } from './worker-pool.js';

function setup(opts: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) {
  const timers = new VirtualTimers();
  const pool = new WorkerPool({ workers: 2, maxQueue: Infinity, dropExpired: false, ...opts }, timers);
  const results: { id: number; at: number; r: JobResult }[] = [];
  const submit = (id: number, costMs = 700, deadlineAt?: number) =>
    pool.submit(deadlineAt === undefined ? { costMs } : { costMs, deadlineAt }, (r) => results.push({ id, at: timers.now(), r }));
  return { timers, pool, results, submit };
}

describe('WorkerPool', () => {
  it('runs up to `workers` jobs at once and queues the rest in FIFO order', () => {
    const { timers, pool, results, submit } = setup();
    for (let i = 1; i <= 5; i++) submit(i);
    expect(pool.busy).toBe(2);
    expect(pool.depth).toBe(3);
    timers.advance(700);
    expect(results.map((x) => [x.id, x.at])).toEqual([[1, 700], [2, 700]]);
    expect(pool.depth).toBe(1);
    timers.advance(1400);
    expect(results.map((x) => [x.id, x.at, x.r.waitedMs])).toEqual([
      [1, 700, 0], [2, 700, 0], [3, 1400, 700], [4, 1400, 700], [5, 2100, 1400],
    ]);
    expect(pool.busy).toBe(0);
    expect(pool.counts).toEqual({ done: 5, rejected: 0, expired: 0 });
  });

  it('unbounded (baseline): a long queue makes every answer late, and each is still worked in full', () => {
    const { timers, pool, results, submit } = setup();
    // 10 clients that give up after 1 s; the pool needs 3.5 s for all of them.
    for (let i = 1; i <= 10; i++) submit(i, 700, 1000);
    timers.advance(10_000);
    expect(pool.counts.done).toBe(10);
    expect(results.filter((x) => x.at <= 1000)).toHaveLength(2);
  });

  it('bounded: rejects at once when the queue is full', () => {
    const { pool, results, submit } = setup({ maxQueue: 1 });
    submit(1);
    submit(2);
    submit(3);
    submit(4);
    expect(pool.depth).toBe(1);
    expect(results).toEqual([{ id: 4, at: 0, r: { outcome: 'rejected', waitedMs: 0 } }]);
  });

  it('maxQueue 0 never lets a job wait', () => {
    const { pool, results, submit } = setup({ maxQueue: 0 });
    submit(1);
    submit(2);
    submit(3);
    expect(pool.busy).toBe(2);
    expect(results.map((x) => x.r.outcome)).toEqual(['rejected']);
  });

  it('dropExpired: skips a queued job whose answer could not arrive before its deadline, without working on it', () => {
    const { timers, pool, results, submit } = setup({ dropExpired: true });
    submit(1, 700, 1000);
    submit(2, 700, 1000);
    submit(3, 700, 1000); // reaches a worker at 700: 700 + 700 > 1000 → dropped
    submit(4, 700, 5000); // then starts at once: 700 + 700 <= 5000
    timers.advance(700);
    expect(results.map((x) => [x.id, x.r.outcome, x.at])).toEqual([
      [1, 'done', 700], [3, 'expired', 700], [2, 'done', 700],
    ]);
    expect(pool.busy).toBe(1);
    timers.advance(700);
    expect(results.at(-1)).toMatchObject({ id: 4, at: 1400, r: { outcome: 'done', waitedMs: 700 } });
    expect(pool.counts).toEqual({ done: 3, rejected: 0, expired: 1 });
  });

  it('without dropExpired, deadlines are ignored', () => {
    const { timers, pool, submit } = setup();
    for (let i = 0; i < 4; i++) submit(i, 700, 1);
    timers.advance(2000);
    expect(pool.counts).toEqual({ done: 4, rejected: 0, expired: 0 });
  });

  it('drains a long queue of expired jobs in one go', () => {
    const { timers, pool, submit } = setup({ dropExpired: true, workers: 1 });
    submit(0, 700);
    for (let i = 1; i <= 5000; i++) submit(i, 700, 500);
    submit(9999, 700, 10_000);
    timers.advance(700);
    expect(pool.counts.expired).toBe(5000);
    expect(pool.busy).toBe(1);
    expect(pool.depth).toBe(0);
  });

  it('refuses nonsense options', () => {
    const timers = new VirtualTimers();
    expect(() => new WorkerPool({ workers: 0, maxQueue: 1, dropExpired: false }, timers)).toThrow(/workers/);
    expect(() => new WorkerPool({ workers: 1, maxQueue: -1, dropExpired: false }, timers)).toThrow(/maxQueue/);
  });
});
