import { describe, expect, it } from 'vitest';
import { buildReportModel, differingParams, groupAssertions, isRecoveryAssertion, paramValue, recoveryAllowanceSec, unitOf, variantTimeline } from './model.js';
import { assertion, fixture, T0, variant } from './testing.js';

describe('variantTimeline', () => {
  it('places phases, faults and load changes in seconds from the load start', () => {
    const { result, journal } = fixture();
    const t = variantTimeline(result.variants[0]!, journal);
    expect(t.durationSec).toBe(36);
    expect(t.phases.map((p) => p.phase)).toEqual(['steady', 'fault', 'recovery']);
    expect(t.phases[0]).toEqual({ phase: 'steady', fromSec: 0, toSec: 12.004 });
    expect(t.phases[2]!.toSec).toBe(36);
    expect(t.faults[0]).toMatchObject({ step: 'slow-backend', type: 'latency', scheduledSec: 12, fromSec: 12.0042, toSec: 26.0105 });
    expect(t.loadChanges).toEqual([{ step: 'spike', action: 'apply', rate: 200, atSec: 28.001 }]);
  });

  it('places operator actions (timeline `action:`) as instants, with a failed call\'s error', () => {
    const { result, journal } = fixture();
    const at = journal[0]!.at;
    const extra = [
      { kind: 'action-end', t: 7000, at, variant: 'baseline', step: 'delete-state', description: 'POST lb-state /admin/delete', scheduledMs: 5000, actualMs: 5000.4, ok: true },
      { kind: 'action-end', t: 9000, at, variant: 'baseline', step: 'restore', description: 'POST lb-state /admin/restore', scheduledMs: 7000, actualMs: 7001, ok: false, error: 'lb-state: answered 500: x' },
    ];
    const t = variantTimeline(result.variants[0]!, [...journal, ...extra]);
    expect(t.actions).toEqual([
      { step: 'delete-state', description: 'POST lb-state /admin/delete', atSec: 5.0004 },
      { step: 'restore', description: 'POST lb-state /admin/restore', atSec: 7.001, error: 'lb-state: answered 500: x' },
    ]);
    expect(variantTimeline(result.variants[0]!, journal).actions).toEqual([]);
  });

  it('shades a fault that was never healed until the end of the run', () => {
    const v = variant('baseline', T0, { faults: [{ step: 'kill', description: 'kill backend', scheduledMs: 5000, appliedMs: 5001, healScheduledMs: null, healedMs: null }] });
    expect(variantTimeline(v, []).faults[0]).toMatchObject({ fromSec: 5.001, toSec: 36 });
  });

  it('without a load summary, takes the duration from the journal, else from the windows and faults', () => {
    const v = variant('baseline', T0, { load: null, assertions: [assertion({ name: 'a' })] });
    expect(variantTimeline(v, []).durationSec).toBe(26.0105);
    const { journal } = fixture();
    expect(variantTimeline(v, journal).durationSec).toBe(36);
  });
});

describe('buildReportModel', () => {
  const { result, journal } = fixture();
  const m = buildReportModel(result, journal);

  it('carries the verdict, the wall time and one time axis for the page', () => {
    expect(m.verdict).toBe('fail');
    expect(m.wall).toBe('79.2s');
    expect(m.domain).toEqual([0, 36]);
    expect([...m.timelines.keys()]).toEqual(['baseline', 'mitigated']);
  });

  it('groups each assertion across variants, with its condition and unit', () => {
    expect(m.groups.map((g) => [g.name, [...g.byVariant.keys()]])).toEqual([
      ['p99 under 500ms during the slow backend', ['baseline', 'mitigated']],
      ['p99 back under 500ms within 5s of the heal', ['baseline', 'mitigated']],
      ['fallback answers served while <script>alert(1)</script>', ['mitigated']],
    ]);
    expect(m.groups[0]).toMatchObject({ condition: { comparator: '<', threshold: 0.5 }, unit: 'seconds' });
    expect(m.groups[2]).toMatchObject({ condition: { comparator: '>', threshold: 0 }, unit: 'plain' });
  });

  it('marks what the mitigations changed', () => {
    expect([...m.differing].sort()).toEqual(['frontend.backendTimeoutMs', 'frontend.fallback']);
    expect(differingParams([result.variants[0]!])).toEqual(new Set());
  });

  it('says interrupted, not fail, for an interrupted run', () => {
    expect(buildReportModel({ ...result, interrupted: true }, journal).verdict).toBe('interrupted');
    const r = structuredClone(result);
    r.variants[1]!.status = 'interrupted';
    expect(buildReportModel(r, journal).verdict).toBe('interrupted');
    expect(buildReportModel({ ...result, passed: true }, journal).verdict).toBe('pass');
  });

  it('has no wall time without the run\'s start', () => {
    expect(buildReportModel({ ...result, startedAt: '' }, journal).wall).toBe('—');
  });
});

describe('assertion helpers', () => {
  it('tells latency quantiles (seconds) from plain numbers', () => {
    expect(unitOf('histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[3s])))')).toBe('seconds');
    expect(unitOf('sum(rate(x_total[3s]))')).toBe('plain');
  });

  it('finds recovery assertions and their allowance', () => {
    const a = assertion({ name: 'r', reason: 'max 0.1 over 5 samples from +5s, recovered after 2s; needed all < 0.5 within 5s of the heal' });
    expect(recoveryAllowanceSec(a)).toBe(5);
    expect(isRecoveryAssertion(a)).toBe(true);
    expect(isRecoveryAssertion(assertion({ name: 'x' }))).toBe(false);
    expect(isRecoveryAssertion(assertion({ name: 'x', window: { label: 'after slow-backend', startMs: 0, endMs: 1 } }))).toBe(true);
    expect(groupAssertions([])).toEqual([]);
  });
});

describe('paramValue', () => {
  it('shows an empty string as "" (an unset workshop extension), other strings as they are, the rest as JSON', () => {
    expect(paramValue('')).toBe('""');
    expect(paramValue('lb-a=api-1')).toBe('lb-a=api-1');
    expect(paramValue(false)).toBe('false');
    expect(paramValue(2.5)).toBe('2.5');
  });
});
