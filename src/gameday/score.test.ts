import { describe, expect, it } from 'vitest';
import { parseCondition } from '../check/condition.js';
import { computeScore, errorBudget, firstSignal, recoveredAt, type GameAction, type ScoreInput, type SloSeries } from './score.js';

const lt05 = parseCondition('< 0.5')!;
/** One point a second from 0 to `to` s, `value(t)` at each. */
function series(to: number, value: (s: number) => number, name = 'p99'): SloSeries {
  return { name, condition: lt05, points: Array.from({ length: to + 1 }, (_, s) => [s * 1000, value(s)] as [number, number]) };
}
const team = (atMs: number, kind: string, text = '', ok = true): GameAction => ({ atMs, kind, text, by: 'team', ok });

function input(over: Partial<ScoreInput>): ScoreInput {
  return { scenario: 's', seed: 1, team: 'blue', game: 'g', t0: 1_000_000, faultStartMs: 5000, faultHealedMs: null, endedMs: 30_000, endedBy: 'test', series: [], actions: [], budget: null, ...over };
}

describe('firstSignal', () => {
  it('is the first sample at or after the fault that breaks an SLO; NaN is no signal; earlier breaks do not count', () => {
    const s = series(20, (t) => (t === 2 ? 0.9 : t === 6 ? NaN : t >= 8 ? 0.8 : 0.1));
    expect(firstSignal([s], 5000)).toBe(8000);
    expect(firstSignal([s, series(20, (t) => (t >= 7 ? 1 : 0))], 5000)).toBe(7000);
    expect(firstSignal([series(20, () => 0.1)], 5000)).toBeNull();
  });
});

describe('recoveredAt', () => {
  it('is the start of the last run of good samples to the end, if it lasts long enough', () => {
    const s = series(30, (t) => (t >= 8 && t < 14 ? 0.8 : t === 17 ? 0.9 : 0.1));
    expect(recoveredAt([s], 8000)).toBe(18_000);
    // Broken at the end: not recovered.
    expect(recoveredAt([series(30, (t) => (t >= 8 ? 0.8 : 0.1))], 8000)).toBeNull();
    // Good for only 3 s at the end: not yet for good.
    expect(recoveredAt([series(30, (t) => (t >= 8 && t < 28 ? 0.8 : 0.1))], 8000)).toBeNull();
    expect(recoveredAt([series(30, (t) => (t >= 8 && t < 28 ? 0.8 : 0.1))], 8000, 2000)).toBe(28_000);
  });
});

describe('computeScore', () => {
  const slo = series(30, (t) => (t >= 7 && t < 15 ? 0.8 : 0.1));

  it('measures detect and mitigate from the fault, and attributes the recovery to the last change before it', () => {
    const s = computeScore(
      input({
        series: [slo],
        actions: [team(3000, 'declare', 'too early: before the fault'), team(9000, 'declare', 'p99 high'), team(10_000, 'hypothesis', 'backend slow'), team(11_000, 'set', 'frontend.x=1'), team(12_000, 'mitigate', 'timeout-and-fallback'), team(12_500, 'restart', 'backend', false), team(20_000, 'mitigate', 'late')],
        budget: errorBudget(1000, 5, 45, 0.99, {}),
      }),
    );
    expect(s).toMatchObject({ faultStartMs: 5000, firstSignalMs: 7000, declaredMs: 9000, recoveredMs: 15_000, ttdSeconds: 4, detectionLagSeconds: 2, ttmSeconds: 10, errorBudgetBurned: 5, hintsUsed: 0, fixHoldsUnderFault: true });
    // The refused restart and the change after the recovery do not count.
    expect(s.recoveredBy).toEqual({ atMs: 12_000, kind: 'mitigate', text: 'timeout-and-fallback' });
    expect(s.actions).toHaveLength(7);
  });

  it('never gives a negative detection lag: a declare on the live view just before the sampled signal is on time', () => {
    const s = computeScore(input({ series: [slo], actions: [team(6500, 'declare', 'p99 high on the live view')] }));
    expect(s).toMatchObject({ firstSignalMs: 7000, declaredMs: 6500, detectionLagSeconds: 0, ttdSeconds: 1.5 });
  });

  it('says self-healed when nothing changed, and not recovered while the SLO is still broken', () => {
    expect(computeScore(input({ series: [slo], actions: [team(9000, 'declare', 'x')] })).recoveredBy).toBe('self-healed');
    const broken = computeScore(input({ series: [series(30, (t) => (t >= 7 ? 0.8 : 0.1))], actions: [team(9000, 'mitigate', 'm')] }));
    expect(broken).toMatchObject({ recoveredMs: null, recoveredBy: null, ttmSeconds: null, fixHoldsUnderFault: null });
  });

  it('has no times before the fault is on, counts every hint, and flags a change after which the SLO got worse', () => {
    expect(computeScore(input({ faultStartMs: null, series: [slo], actions: [team(9000, 'declare', 'x')] }))).toMatchObject({ firstSignalMs: null, declaredMs: null, ttdSeconds: null, ttmSeconds: null });
    const hints: GameAction[] = [team(8000, 'hint', 'a'), { atMs: 9000, kind: 'hint', text: 'b', by: 'lab', ok: true }];
    expect(computeScore(input({ series: [slo], actions: hints })).hintsUsed).toBe(2);
    const worse = computeScore(input({ series: [series(30, (t) => (t >= 7 && t < 12 ? 0.6 : t >= 12 ? 2 : 0.1))], actions: [team(10_000, 'set', 'frontend.backendTimeoutMs=5000')] }));
    expect(worse.madeWorse).toEqual([{ atMs: 10_000, kind: 'set', text: 'frontend.backendTimeoutMs=5000' }]);
  });
});

describe('errorBudget', () => {
  it('is bad requests over the SLO allowance', () => {
    expect(errorBudget(10_000, 20, 30, 0.99, {})).toMatchObject({ bad: 50 });
    expect(errorBudget(10_000, 20, 30, 0.99, {}).burned).toBeCloseTo(0.5);
    expect(errorBudget(0, 0, 0, 0.99, {}).burned).toBe(0);
  });
});
