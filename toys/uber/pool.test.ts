import { describe, expect, it } from 'vitest';
import { NO_SHEDDING, WorkerPool } from './pool.js';

const shedding = { enabled: true, backgroundDelayMs: 100, criticalDelayMs: 1000, backgroundFloor: 0.2 };

describe('WorkerPool', () => {
  it('is FIFO over its workers: each arrival waits for the earliest free worker', () => {
    const p = new WorkerPool({ workers: 2, maxQueue: 10, shedding: NO_SHEDDING });
    expect(p.admit(0, 100, 'critical', 0)).toEqual({ ok: true, waitMs: 0, doneInMs: 100 });
    expect(p.admit(0, 100, 'critical', 0)).toEqual({ ok: true, waitMs: 0, doneInMs: 100 });
    expect(p.admit(0, 100, 'critical', 0)).toEqual({ ok: true, waitMs: 100, doneInMs: 200 });
    expect(p.queueDepth(0)).toBe(1);
    expect(p.queueDepth(100)).toBe(0);
    expect(p.queueDelayMs(50)).toBe(50);
  });

  it('does admitted work even if nobody waits: the backlog grows with the offered load', () => {
    const p = new WorkerPool({ workers: 1, maxQueue: 1000, shedding: NO_SHEDDING });
    // 20 requests of 100 ms each arriving within 1 s: 2 s of work.
    for (let i = 0; i < 20; i++) p.admit(i * 50, 100, 'background', 0);
    expect(p.queueDelayMs(1000)).toBe(1000);
    expect(p.busyMs).toBe(2000);
  });

  it('refuses arrivals beyond maxQueue', () => {
    const p = new WorkerPool({ workers: 1, maxQueue: 2, shedding: NO_SHEDDING });
    for (let i = 0; i < 3; i++) expect(p.admit(0, 10, 'critical', 0).ok).toBe(true);
    expect(p.admit(0, 10, 'critical', 0)).toMatchObject({ ok: false, reason: 'full' });
  });

  it('sheds background work first, keeps a floor of it, and sheds critical work only past its larger bound', () => {
    const p = new WorkerPool({ workers: 1, maxQueue: 1000, shedding });
    p.admit(0, 500, 'critical', 0); // 500 ms of delay for the next arrival
    expect(p.admit(0, 10, 'background', 0.5)).toMatchObject({ ok: false, reason: 'shed' });
    expect(p.admit(0, 10, 'background', 0.1).ok).toBe(true); // within the 20% floor
    expect(p.admit(0, 10, 'critical', 0.9).ok).toBe(true);
    p.admit(0, 1000, 'critical', 0);
    expect(p.admit(0, 10, 'critical', 0.9)).toMatchObject({ ok: false, reason: 'shed' });
  });

  it('without shedding admits whatever the delay', () => {
    const p = new WorkerPool({ workers: 1, maxQueue: 1000, shedding: NO_SHEDDING });
    p.admit(0, 60_000, 'critical', 0);
    expect(p.admit(0, 10, 'background', 0.9).ok).toBe(true);
  });

  it('refuses bad options', () => {
    expect(() => new WorkerPool({ workers: 0, maxQueue: 1, shedding: NO_SHEDDING })).toThrow(/workers/);
    expect(() => new WorkerPool({ workers: 1, maxQueue: 1, shedding: { ...shedding, backgroundFloor: 2 } })).toThrow(/backgroundFloor/);
  });
});
