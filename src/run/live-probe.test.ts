import { describe, expect, it } from 'vitest';
import type { Series } from '../observe/prometheus-client.js';
import type { AssertionPlan } from '../scenario/plan.js';
import { liveAssertion, startLiveProbe, windowState, worstValue } from './live-probe.js';

function assertion(over: Partial<AssertionPlan> = {}): AssertionPlan {
  return {
    name: 'p99 under 500ms',
    description: undefined,
    query: 'histogram_quantile(0.99, x)',
    window: { startMs: 12_000, endMs: 26_000, label: 'during slow-backend' },
    comparator: '<',
    threshold: 0.5,
    over: 'all',
    recoverWithinMs: undefined,
    expect: {},
    variants: ['baseline'],
    ...over,
  };
}

const series = (...values: number[]): Series[] => values.map((v, i) => ({ labels: { instance: String(i) }, points: [[1000, v]] }));

describe('worstValue', () => {
  it('picks the series furthest on the wrong side of the threshold', () => {
    expect(worstValue([0.1, 0.9, 0.3], '<', 0.5)).toBe(0.9);
    expect(worstValue([0.1, 0.9, 0.3], '<=', 0.5)).toBe(0.9);
    expect(worstValue([10, 0, 3], '>', 0)).toBe(0);
    expect(worstValue([10, 2, 3], '>=', 5)).toBe(2);
    expect(worstValue([1, 4, 2], '==', 1)).toBe(4);
    expect(worstValue([3, 1, 2], '!=', 1)).toBe(1);
    expect(worstValue([3, 2], '!=', 1)).toBe(3);
  });

  it('ignores NaN (a quantile over no requests) and says null when nothing is left', () => {
    expect(worstValue([NaN, 0.2], '<', 0.5)).toBe(0.2);
    expect(worstValue([NaN], '<', 0.5)).toBeNull();
    expect(worstValue([], '>', 0)).toBeNull();
  });
});

describe('windowState', () => {
  it('is before, in, then after the judged window; checker windows come after the load', () => {
    const a = assertion();
    expect(windowState(a, 11_999)).toBe('before');
    expect(windowState(a, 12_000)).toBe('in');
    expect(windowState(a, 26_000)).toBe('in');
    expect(windowState(a, 26_001)).toBe('after');
    expect(windowState(assertion({ window: { startMs: 0, endMs: 0, label: 'final', final: true } }), 99_000)).toBe('before');
  });
});

describe('liveAssertion', () => {
  it('reads the latest value of the worst series and whether it meets the condition', () => {
    const l = liveAssertion(assertion(), 'violated', series(0.2, 0.95), 15_000);
    expect(l).toMatchObject({ name: 'p99 under 500ms', condition: '< 0.5', value: 0.95, holds: false, series: 2, window: 'in', windowLabel: 'during slow-backend', expected: 'violated' });
    expect(liveAssertion(assertion(), 'holds', series(0.2), 15_000)).toMatchObject({ value: 0.2, holds: true });
  });

  it('shows no value for no series, and the error for a failed query', () => {
    expect(liveAssertion(assertion(), 'holds', [], 0)).toMatchObject({ value: null, holds: null, series: 0, window: 'before' });
    expect(liveAssertion(assertion(), 'holds', new Error('connection refused'), 0)).toMatchObject({ value: null, holds: null, error: 'connection refused' });
  });
});

describe('startLiveProbe', () => {
  it('queries each assertion at once and then every interval, and not after stop()', async () => {
    const calls: string[] = [];
    let value = 0.1;
    const client = {
      query: async (expr: string) => {
        calls.push(expr);
        if (expr === 'broken') throw new Error('bad_data');
        return series(value);
      },
    };
    let elapsed = 13_000;
    const probe = startLiveProbe({
      client,
      assertions: [
        { plan: assertion(), expected: 'violated' },
        { plan: assertion({ name: 'broken one', query: 'broken' }), expected: 'holds' },
      ],
      elapsedMs: () => elapsed,
      intervalMs: 20,
    });
    try {
      await new Promise((r) => setTimeout(r, 5));
      expect(probe.latest()[0]).toMatchObject({ value: 0.1, holds: true, window: 'in' });
      expect(probe.latest()[1]).toMatchObject({ value: null, error: 'bad_data' });
      value = 0.9;
      elapsed = 30_000;
      await new Promise((r) => setTimeout(r, 60));
      expect(probe.latest()[0]).toMatchObject({ value: 0.9, holds: false, window: 'after' });
    } finally {
      probe.stop();
    }
    const n = calls.length;
    expect(n).toBeGreaterThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.length).toBe(n);
  });

  it('never stacks rounds: a slow Prometheus gets one query per assertion at a time', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    const probe = startLiveProbe({
      client: { query: async () => (calls++, await slow, series(1)) },
      assertions: [{ plan: assertion(), expected: 'holds' }],
      elapsedMs: () => 0,
      intervalMs: 10,
    });
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 40));
    probe.stop();
    expect(calls).toBeGreaterThan(1);
    expect(probe.latest()[0]).toMatchObject({ value: 1 });
  });
});
