import { describe, expect, it } from 'vitest';
import type { Series } from '../observe/prometheus-client.js';
import { judge, type JudgeSpec } from './judge.js';

const T0 = 1_700_000_000;
/** One series with one sample per second from T0. */
function series(values: number[], labels: Record<string, string> = {}, from = T0): Series {
  return { labels, points: values.map((v, i) => [from + i, v]) };
}
const spec = (over: JudgeSpec['over'], comparator: JudgeSpec['comparator'], threshold: number, extra: Partial<JudgeSpec> = {}): JudgeSpec => ({
  over,
  comparator,
  threshold,
  windowStartSec: T0,
  windowEndSec: T0 + 100,
  ...extra,
});

describe('judge: no data is never a pass', () => {
  it('no series', () => {
    const j = judge([], spec('all', '<', 1));
    expect(j.outcome).toBe('no-data');
    expect(j.reason).toMatch(/no series/);
    expect(j.observed).toEqual({ samples: 0, min: null, max: null, mean: null, last: null });
    expect(j.timeToRecoverSec).toBeNull();
  });
  it('series with no samples in the window', () => {
    const j = judge([series([1, 2], {}, T0 - 50)], spec('any', '<', 10));
    expect(j.outcome).toBe('no-data');
    expect(j.reason).toMatch(/no samples in the window/);
  });
  it('only NaN', () => {
    const j = judge([series([NaN, NaN, NaN])], spec('all', '<', 1));
    expect(j.outcome).toBe('no-data');
    expect(j.reason).toMatch(/all 3 samples in the window are NaN/);
  });
  it.each(['all', 'any', 'mean', 'max', 'min', 'last'] as const)('%s with no data', (over) => {
    expect(judge([], spec(over, '!=', 12345)).outcome).toBe('no-data');
  });
});

describe('judge: aggregations', () => {
  const s = [series([0.1, 0.2, 0.84, 0.1]), series([0.05, 0.1], { instance: 'b' })];

  it('all: every sample of every series', () => {
    const j = judge(s, spec('all', '<', 0.3));
    expect(j.outcome).toBe('violated');
    expect(j.reason).toBe('max 0.84 over 6 samples (1 fail, first at +2s); needed all < 0.3');
    expect(judge(s, spec('all', '<', 0.9)).outcome).toBe('holds');
    expect(judge(s, spec('all', '<', 0.9)).reason).toBe('max 0.84 over 6 samples; needed all < 0.9');
  });

  it('any: at least one sample', () => {
    expect(judge(s, spec('any', '>', 0.8)).outcome).toBe('holds');
    const j = judge(s, spec('any', '>', 0.9));
    expect(j.outcome).toBe('violated');
    expect(j.reason).toBe('max 0.84 over 6 samples (none satisfy); needed any > 0.9');
  });

  it('mean/max/min over all samples', () => {
    const j = judge(s, spec('mean', '<', 0.3));
    expect(j.observed.mean).toBeCloseTo(1.39 / 6);
    expect(j.outcome).toBe('holds');
    expect(j.reason).toBe('mean 0.232 over 6 samples; needed mean < 0.3');
    expect(judge(s, spec('max', '<', 0.5)).outcome).toBe('violated');
    expect(judge(s, spec('min', '>=', 0.05)).outcome).toBe('holds');
    expect(judge(s, spec('min', '>', 0.05)).outcome).toBe('violated');
  });

  it('last: the latest sample, every series ending then must satisfy', () => {
    expect(judge([series([5, 5, 0])], spec('last', '==', 0)).outcome).toBe('holds');
    const two = [series([0, 0, 0]), series([0, 0, 3], { instance: 'b' })];
    const j = judge(two, spec('last', '==', 0));
    expect(j.outcome).toBe('violated');
    expect(j.observed.last).toBe(3);
    expect(j.reason).toBe('last 3 at +2s over 6 samples; needed last == 0');
  });

  it('skips NaN samples but keeps infinities', () => {
    const j = judge([series([NaN, 0.1, Infinity])], spec('all', '<', 1));
    expect(j.observed.samples).toBe(2);
    expect(j.outcome).toBe('violated');
    expect(j.reason).toMatch(/max \+Inf/);
  });

  it('only judges samples inside the window', () => {
    const j = judge([series([9, 0, 0, 9])], spec('all', '==', 0, { windowStartSec: T0 + 1, windowEndSec: T0 + 2 }));
    expect(j.outcome).toBe('holds');
    expect(j.observed.samples).toBe(2);
  });

  it('equality comparators show both ends', () => {
    const j = judge([series([1, 1, 2])], spec('all', '==', 1));
    expect(j.reason).toBe('min 1, max 2 over 3 samples (1 fail, first at +2s); needed all == 1');
    expect(judge([series([1, 1, 2])], spec('any', '!=', 1)).outcome).toBe('holds');
  });
});

describe('judge: recovery after a heal', () => {
  // Errors stay high for 4 s after the heal, then drop.
  const errors = series([0.9, 0.8, 0.7, 0.5, 0.02, 0.01, 0, 0, 0, 0, 0, 0]);

  it('holds when every sample after the allowance satisfies', () => {
    const j = judge([errors], spec('all', '<', 0.05, { windowEndSec: T0 + 11, recoverWithinMs: 5000 }));
    expect(j.outcome).toBe('holds');
    expect(j.timeToRecoverSec).toBe(4);
    expect(j.observed.samples).toBe(7);
    expect(j.reason).toBe('max 0.01 over 7 samples from +5s, recovered after 4s; needed all < 0.05 within 5s of the heal');
  });

  it('is violated when it recovers too late, and says when it did', () => {
    const j = judge([errors], spec('all', '<', 0.05, { windowEndSec: T0 + 11, recoverWithinMs: 2000 }));
    expect(j.outcome).toBe('violated');
    expect(j.timeToRecoverSec).toBe(4);
    expect(j.reason).toMatch(/max 0.7 over 10 samples from \+2s \(2 fail, last at \+3s\), recovered after 4s/);
  });

  it('ignores `over`: recovery means all samples', () => {
    const j = judge([errors], spec('any', '<', 0.05, { windowEndSec: T0 + 11, recoverWithinMs: 2000 }));
    expect(j.outcome).toBe('violated');
  });

  it('never recovered', () => {
    const j = judge([series([1, 1, 0, 1])], spec('all', '<', 0.5, { recoverWithinMs: 1000 }));
    expect(j.outcome).toBe('violated');
    expect(j.timeToRecoverSec).toBeNull();
    expect(j.reason).toMatch(/never recovered/);
  });

  it('no samples after the allowance is no-data even if earlier ones exist', () => {
    const j = judge([series([0, 0])], spec('all', '<', 0.5, { recoverWithinMs: 10_000 }));
    expect(j.outcome).toBe('no-data');
    expect(j.timeToRecoverSec).toBe(0);
    expect(j.reason).toMatch(/no samples from \+10s/);
  });

  it('computes time to recover without recoverWithinMs too, across series', () => {
    const a = series([1, 0, 0, 0, 0]);
    const b = series([1, 1, 1, 0, 0], { instance: 'b' });
    const j = judge([a, b], spec('all', '==', 0));
    expect(j.outcome).toBe('violated');
    expect(j.timeToRecoverSec).toBe(3);
    expect(judge([series([0, 0])], spec('all', '==', 0)).timeToRecoverSec).toBe(0);
  });
});
