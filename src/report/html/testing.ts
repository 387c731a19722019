/** Runs for the report's tests (report.html, junit.xml): hello-latency with two variants, one failing on no data. */
import { Errors } from '../../errors/catalog.js';
import type { StoredJournalRecord as JournalRecord } from '../../run/journal.js';
import type { AssertionResult, RunResult, VariantResult } from '../../run/result.js';

export const T0 = 1_795_844_678_000;

export function series(fromSec: number, values: number[], t0 = T0): AssertionResult['series'] {
  return [{ labels: {}, points: values.map((v, i) => [(t0 + (fromSec + i) * 1000) / 1000, v] as [number, number]) }];
}

export function assertion(over: Partial<AssertionResult> & { name: string }, t0 = T0): AssertionResult {
  return {
    query: 'histogram_quantile(0.99, sum by (le) (rate(chaoslab_client_request_duration_seconds_bucket[3s])))',
    window: { label: 'during slow-backend', startMs: 15_000, endMs: 26_000 },
    condition: '< 0.5',
    over: 'all',
    expected: 'holds',
    outcome: 'holds',
    passed: true,
    observed: { samples: 12, min: 0.1, max: 0.2, mean: 0.15, last: 0.1 },
    reason: 'max 0.2 over 12 samples; needed all < 0.5',
    series: series(15, [0.1, 0.2, 0.15, 0.1, 0.12, 0.11, 0.1, 0.13, 0.1, 0.1, 0.1, 0.1], t0),
    ...over,
  };
}

export function variant(name: string, t0: number, over: Partial<VariantResult> = {}): VariantResult {
  return {
    name,
    expect: name === 'baseline' ? 'reproduce' : 'recover',
    mitigations: name === 'baseline' ? [] : ['timeout-and-fallback'],
    params: { frontend: { backendTimeoutMs: name === 'baseline' ? 0 : 200, fallback: name !== 'baseline' } },
    status: 'completed',
    passed: true,
    t0,
    assertions: [],
    faults: [{ step: 'slow-backend', description: 'latency 800ms±50ms downstream on frontend_to_backend', scheduledMs: 12_000, appliedMs: 12_004.2, healScheduledMs: 26_000, healedMs: 26_010.5 }],
    load: { sent: 3600, ok: 3600, error: 0, timeout: 0, dropped: 0, askedRate: 100, achievedRate: 100, durationMs: 36_000, latencyMs: { p50: 20, p99: 900, max: 1000 } },
    ...over,
  };
}

export const T1 = T0 + 40_000;

export function fixture(): { result: RunResult; journal: JournalRecord[] } {
  const baseline = variant('baseline', T0, {
    assertions: [
      assertion({ name: 'p99 under 500ms during the slow backend', expected: 'violated', outcome: 'violated', series: series(15, [0.99, 0.99, 0.995, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99]) }),
      assertion({ name: 'p99 back under 500ms within 5s of the heal', window: { label: 'after slow-backend', startMs: 26_000, endMs: 36_000 }, timeToRecoverSec: 3, series: series(26, [0.99, 0.99, 0.9, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]) }),
    ],
  });
  const mitigated = variant('mitigated', T1, {
    assertions: [
      assertion({ name: 'p99 under 500ms during the slow backend' }, T1),
      assertion({ name: 'p99 back under 500ms within 5s of the heal', window: { label: 'after slow-backend', startMs: 26_000, endMs: 36_000 }, timeToRecoverSec: 0 }, T1),
      assertion({ name: 'fallback answers served while <script>alert(1)</script>', query: 'sum(rate(hello_fallbacks_total[3s]))', condition: '> 0', series: [] , outcome: 'no-data', passed: false, observed: { samples: 0, min: null, max: null, mean: null, last: null }, reason: 'no data' }, T1),
    ],
    passed: false,
  });
  const result: RunResult = {
    scenario: 'hello-latency',
    title: "A slow backend breaks the frontend's latency SLO",
    seed: 7,
    control: false,
    passed: false,
    runDir: '/tmp/runs/x',
    startedAt: '2026-11-28T05:44:36.659Z',
    endedAt: '2026-11-28T05:45:55.824Z',
    command: 'npx chaoslab run scenarios/hello-latency.yaml --seed 7',
    variants: [baseline, mitigated],
  };
  const at = '2026-11-28T05:44:36.659Z';
  const journal: JournalRecord[] = [
    { kind: 'run-start', t: 0, at, scenario: 'hello-latency', seed: 7 },
    { kind: 'variant-start', t: 1000, at, variant: 'baseline' },
    { kind: 'phase', t: 1001, at, variant: 'baseline', phase: 'setup' },
    { kind: 'load-start', t: 2000, at, variant: 'baseline', t0: T0 },
    { kind: 'phase', t: 2000, at, variant: 'baseline', phase: 'steady' },
    { kind: 'fault-apply', t: 14000, at, variant: 'baseline', step: 'slow-backend', fault: { type: 'latency' }, scheduledMs: 12000 },
    { kind: 'phase', t: 14004, at, variant: 'baseline', phase: 'fault' },
    { kind: 'phase', t: 28010, at, variant: 'baseline', phase: 'recovery' },
    { kind: 'load-change', t: 30000, at, variant: 'baseline', step: 'spike', action: 'apply', rate: 200, scheduledMs: 28000, actualMs: 28001 },
    { kind: 'phase', t: 38000, at, variant: 'baseline', phase: 'teardown' },
    { kind: 'load-end', t: 38000, at, variant: 'baseline' },
    { kind: 'variant-end', t: 40000, at, variant: 'baseline', passed: true },
  ];
  return { result, journal };
}

/** The runs CI meets: every expectation met, one missed, a part that would not start, and an interrupted one. */
export function junitRuns(): Record<'passed' | 'failed' | 'errored' | 'interrupted', RunResult> {
  const { result } = fixture();
  const passed = structuredClone(result);
  passed.passed = true;
  passed.variants[1]!.assertions = passed.variants[1]!.assertions.slice(0, 2);
  passed.variants[1]!.passed = true;
  const errored = structuredClone(result);
  errored.variants[1] = variant('mitigated', T1, { status: 'failed', passed: false, assertions: [], load: null, error: { code: Errors.NodeFailed.code, message: 'node backend exited with code 1 before it was healthy\u001b[0m', hint: 'see mitigated/logs/backend.log' } });
  const interrupted = structuredClone(result);
  interrupted.interrupted = true;
  interrupted.variants[1] = variant('mitigated', T1, { status: 'interrupted', passed: false, assertions: [] });
  return { passed, failed: result, errored, interrupted };
}
