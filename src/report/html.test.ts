import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredJournalRecord as JournalRecord } from '../run/journal.js';
import type { AssertionResult, RunResult, VariantResult } from '../run/result.js';
import { escapeHtml, formatValue, parseCondition, renderHtmlReport, unitOf, variantTimeline, writeHtmlReport, yDomainFor } from './html.js';

const T0 = 1_795_844_678_000;

function series(fromSec: number, values: number[], t0 = T0): AssertionResult['series'] {
  return [{ labels: {}, points: values.map((v, i) => [(t0 + (fromSec + i) * 1000) / 1000, v] as [number, number]) }];
}

function assertion(over: Partial<AssertionResult> & { name: string }, t0 = T0): AssertionResult {
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

function variant(name: string, t0: number, over: Partial<VariantResult> = {}): VariantResult {
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

const T1 = T0 + 40_000;

function fixture(): { result: RunResult; journal: JournalRecord[] } {
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

  it('shades a fault that was never healed until the end of the run', () => {
    const v = variant('baseline', T0, { faults: [{ step: 'kill', description: 'kill backend', scheduledMs: 5000, appliedMs: 5001, healScheduledMs: null, healedMs: null }] });
    expect(variantTimeline(v, []).faults[0]).toMatchObject({ fromSec: 5.001, toSec: 36 });
  });
});

describe('chart helpers', () => {
  it('parses conditions and keeps the threshold inside the y range', () => {
    expect(parseCondition('< 0.5')).toEqual({ comparator: '<', threshold: 0.5 });
    expect(parseCondition('>= -2')).toEqual({ comparator: '>=', threshold: -2 });
    expect(parseCondition('about 3')).toBeNull();
    const [lo, hi] = yDomainFor([assertion({ name: 'x' })], { comparator: '<', threshold: 0.5 });
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThanOrEqual(0.5);
  });

  it('formats latency quantiles as seconds and other values as plain numbers', () => {
    expect(unitOf('histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[3s])))')).toBe('seconds');
    expect(unitOf('sum(rate(x_total[3s]))')).toBe('plain');
    expect(formatValue(0.25, 'seconds')).toBe('250 ms');
    expect(formatValue(2.5, 'seconds')).toBe('2.5 s');
    expect(formatValue(0.0123)).toBe('0.0123');
    expect(formatValue(15300)).toBe('15.3k');
    expect(formatValue(null)).toBe('—');
    expect(formatValue(Infinity)).toBe('+Inf');
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderHtmlReport', () => {
  const { result, journal } = fixture();
  const html = renderHtmlReport(result, journal);

  it('is self-contained: nothing to load from anywhere', () => {
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toContain("default-src 'none'");
  });

  it('shows the verdict per variant, the seed and the replay command', () => {
    expect(html).toContain('>FAIL<');
    expect(html).toContain('<code>7</code>');
    expect(html).toContain('npx chaoslab run scenarios/hello-latency.yaml --seed 7');
    expect(html).toMatch(/baseline[\s\S]*should reproduce the incident/);
    expect(html).toMatch(/mitigated[\s\S]*should recover/);
  });

  it('says where the traces went, when the run was traced', () => {
    expect(html).not.toContain('<span>traces</span>');
    const file = renderHtmlReport({ ...result, traces: { mode: 'file', file: 'traces.jsonl', sampleRatio: 0.05, spans: 812 } }, journal);
    expect(file).toContain('<span>traces</span><span><code>traces.jsonl</code> in the run folder <span class="muted">(812 spans; 1 request in 20 traced)</span>');
    const otlp = renderHtmlReport({ ...result, traces: { mode: 'otlp', endpoint: 'http://collector:4318/v1/traces', sampleRatio: 0.3 } }, journal);
    expect(otlp).toContain('sent over OTLP to <code>http://collector:4318/v1/traces</code> <span class="muted">(30% of requests traced)</span>');
  });

  it('draws one chart per assertion and variant, with threshold, fault window and time to recover', () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(5);
    // Four charts have series, the no-data one says so.
    expect(html.match(/<path class="series"/g)).toHaveLength(4);
    expect(html).toContain('no data: Prometheus returned no series');
    expect(html.match(/<line class="threshold"/g)).toHaveLength(5);
    expect(html.match(/<rect class="fault"/g)).toHaveLength(5);
    expect(html).toContain('recovered +3s');
    expect(html).toContain('time to recover: <b>3 s</b>');
    expect(html).toContain('not evaluated in this variant');
    // Samples outside the condition are marked.
    expect(html.match(/class="pt bad"/g)!.length).toBeGreaterThanOrEqual(12);
  });

  it('draws the timeline of faults per variant', () => {
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(2);
    expect(html).toContain('latency 800ms±50ms downstream on frontend_to_backend');
    expect(html).toContain('+12s');
  });

  it('escapes what the scenario wrote, in HTML and in the embedded chart data', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const data = /<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(data).not.toContain('</');
    expect((JSON.parse(data) as unknown[]).length).toBe(5);
  });

  it('is the same bytes every time (a rebuild matches the run)', () => {
    expect(renderHtmlReport(result, journal)).toBe(html);
  });

  it('reports a variant that failed without assertions', () => {
    const r = structuredClone(result);
    r.variants[1] = variant('mitigated', T1, { status: 'failed', passed: false, assertions: [], error: { code: 'CHAOSLAB_NODE_FAILED', message: 'node backend exited', hint: 'see logs' } });
    const out = renderHtmlReport(r, journal);
    expect(out).toContain('CHAOSLAB_NODE_FAILED');
    expect(out).toContain('did not complete (failed)');
  });
});

describe('writeHtmlReport', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  it('writes report.html into the run folder', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-report-'));
    const { result, journal } = fixture();
    const file = writeHtmlReport(dir, result, journal);
    expect(file).toBe(path.join(dir, 'report.html'));
    expect(readFileSync(file, 'utf8')).toBe(renderHtmlReport(result, journal));
  });

  it('renders what result.json holds, so a rebuild from the folder gives the same bytes', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-report-'));
    const { result, journal } = fixture();
    const a = result.variants[0]!.assertions[0]!;
    a.series[0]!.points[1]![1] = Infinity;
    a.series[0]!.points[2]![1] = NaN;
    a.observed.max = Infinity;
    const file = writeHtmlReport(dir, result, journal);
    const fromDisk = JSON.parse(JSON.stringify(result)) as RunResult;
    expect(readFileSync(file, 'utf8')).toBe(renderHtmlReport(fromDisk, journal));
  });
});
