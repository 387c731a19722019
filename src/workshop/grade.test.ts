import { describe, expect, it } from 'vitest';
import type { AssertionResult } from '../run/result.js';
import { MODULE_HEALTH_ASSERTION } from './exercise.js';
import { defaultStat, gradeAttempt } from './grade.js';

function assertion(name: string, values: number[], outcome: AssertionResult['outcome'] = 'holds'): AssertionResult {
  const n = values.length;
  return {
    name,
    query: 'q',
    window: { label: 'w', startMs: 0, endMs: 1000 },
    condition: '< 1',
    over: 'all',
    expected: 'holds',
    outcome,
    passed: outcome === 'holds',
    observed: n ? { samples: n, min: Math.min(...values), max: Math.max(...values), mean: values.reduce((a, b) => a + b, 0) / n, last: values[n - 1]! } : { samples: 0, min: null, max: null, mean: null, last: null },
    reason: '',
    series: [{ labels: {}, points: values.map((v, i) => [1000 + i, v] as [number, number]) }],
  };
}

const ex = {
  targets: [
    { assertion: 'p99', label: 'p99', hint: 'use a timeout', tiers: { pass: '< 0.5', best: '<= 0.25' } },
    { assertion: 'errors', label: 'errors', hint: 'fall back', tiers: { better: '< 0.01' } },
  ],
};
const healthy = assertion(MODULE_HEALTH_ASSERTION, [0, 0]);

describe('grading an attempt in tiers', () => {
  it('the worst sample is graded for an upper bound, the best for a lower bound', () => {
    expect(defaultStat('< 0.5')).toBe('max');
    expect(defaultStat('>= 3')).toBe('min');
    expect(defaultStat('== 0')).toBe('mean');
  });

  it('no tier when pass is missed, with the hint of the target short of it', () => {
    const g = gradeAttempt(ex, [assertion('p99', [0.2, 0.9]), assertion('errors', [0]), healthy]);
    expect(g.reached).toBeNull();
    expect(g.targets[0]!.value).toBe(0.9);
    expect(g.next).toEqual({ tier: 'pass', target: 'p99', hint: 'use a timeout' });
  });

  it('a tier needs every tier before it: best thresholds met do not count without better', () => {
    const g = gradeAttempt(ex, [assertion('p99', [0.1, 0.2]), assertion('errors', [0.3]), healthy]);
    expect(g.reached).toBe('pass');
    expect(g.targets[0]!.tiers.best!.met).toBe(true);
    expect(g.next!.tier).toBe('better');
  });

  it('all thresholds met: best, nothing next; points are seconds into the window', () => {
    const g = gradeAttempt(ex, [assertion('p99', [0.1, 0.25]), assertion('errors', [0, 0]), healthy]);
    expect(g.reached).toBe('best');
    expect(g.next).toBeNull();
    expect(g.targets[0]!.points).toEqual([[0, 0.1], [1, 0.25]]);
  });

  it('no data never meets a threshold', () => {
    const g = gradeAttempt(ex, [assertion('p99', []), assertion('errors', [0]), healthy]);
    expect(g.targets[0]!.value).toBeNull();
    expect(g.reached).toBeNull();
  });

  it('a module that failed during the replay reaches no tier, whatever the numbers', () => {
    const g = gradeAttempt(ex, [assertion('p99', [0.1]), assertion('errors', [0]), assertion(MODULE_HEALTH_ASSERTION, [0, 4], 'violated')]);
    expect(g.moduleFailed).toEqual({ failures: 4 });
    expect(g.reached).toBeNull();
    expect(g.next!.target).toBe(MODULE_HEALTH_ASSERTION);
  });
});
