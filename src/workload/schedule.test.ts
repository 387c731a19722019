import { describe, expect, it } from 'vitest';
import { ArrivalSchedule, compileTemplate, type ScheduleSpec } from './schedule.js';

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  targets: ['http://a', 'http://b'],
  rate: 1000,
  arrival: 'constant',
  operations: [
    { name: 'put', method: 'PUT', path: '/kv/{key}', weight: 3, body: '{"v":{seq}}' },
    { name: 'get', method: 'GET', path: '/kv/{key}', weight: 1 },
  ],
  keys: { count: 100, distribution: 'zipf', exponent: 1 },
  seed: 1,
  ...over,
});

function takeUntil(s: ArrivalSchedule, untilMs: number): number[] {
  const times: number[] = [];
  while (s.peekTime() < untilMs) times.push(s.take().atMs);
  return times;
}

describe('ArrivalSchedule', () => {
  it('constant arrivals: exactly rate·D, evenly spaced from 0', () => {
    const times = takeUntil(new ArrivalSchedule(spec({ rate: 1000 })), 2000);
    expect(times).toHaveLength(2000);
    expect(times[0]).toBe(0);
    expect(times[1]).toBeCloseTo(1, 9);
    expect(times[1999]).toBeCloseTo(1999, 6);
  });

  it('poisson arrivals: mean count matches the rate and gaps vary', () => {
    const times = takeUntil(new ArrivalSchedule(spec({ rate: 2000, arrival: 'poisson' })), 10_000);
    expect(Math.abs(times.length - 20_000)).toBeLessThan(600); // ~4 sigma
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeGreaterThan(2 * Math.min(...gaps));
  });

  it('a linear ramp delivers the area under the rate', () => {
    const s = new ArrivalSchedule(spec({ rate: 0 }));
    expect(s.peekTime()).toBe(Infinity);
    s.setRate(0, 1000, 1000); // 0 → 1000 req/s over 1 s: 500 arrivals in the ramp, then 1000/s
    expect(takeUntil(s, 1000).length).toBeGreaterThanOrEqual(499);
    expect(takeUntil(s, 2000).length).toBeGreaterThanOrEqual(999);
    expect(s.expectedArrivals(2000)).toBeCloseTo(1500, 6);
  });

  it('a rate change re-solves the pending arrival but not past ones', () => {
    const s = new ArrivalSchedule(spec({ rate: 10 })); // every 100 ms
    expect(takeUntil(s, 150)).toEqual([0, 100]);
    expect(s.peekTime()).toBeCloseTo(200, 9);
    s.setRate(150, 100, 0); // from 150 ms on, every 10 ms: half the gap was used at the old rate
    expect(s.peekTime()).toBeCloseTo(155, 9);
    s.setRate(150, 0, 0);
    expect(s.peekTime()).toBe(Infinity);
  });

  it('same seed ⇒ same (op, key, time, target) sequence', () => {
    const run = (seed: number): string[] => {
      const s = new ArrivalSchedule(spec({ seed, arrival: 'poisson' }));
      return Array.from({ length: 500 }, () => {
        const a = s.take();
        return `${a.seq} ${a.op.name} ${a.key} ${a.atMs} ${a.target}`;
      });
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('weights choose operations and can change mid-run', () => {
    const s = new ArrivalSchedule(spec());
    const names = Array.from({ length: 4000 }, () => s.take().op.name);
    expect(names.filter((n) => n === 'put').length / 4000).toBeCloseTo(0.75, 1);
    s.setWeights({ put: 0 });
    expect(Array.from({ length: 100 }, () => s.take().op.name).every((n) => n === 'get')).toBe(true);
    expect(() => s.setWeights({ nope: 1 })).toThrow(/unknown operation/);
    expect(() => s.setWeights({ get: 0 })).toThrow(/sum to 0/);
  });

  it('fills {key} and {seq}', () => {
    expect(compileTemplate('/kv/{key}?s={seq}&k={key}')(7, 3)).toBe('/kv/3?s=7&k=3');
    expect(compileTemplate('/plain')(1, 2)).toBe('/plain');
  });
});
