import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { summarize } from '../check/linearizability.js';
import type { RunResult } from '../run/result.js';
import { escapeHtml, formatValue } from './html/format.js';
import { PAGE_SCRIPT } from './html/page-script.generated.js';
import { fixture, T1, variant } from './html/testing.js';
import { renderHtmlReport, writeHtmlReport } from './html.js';

describe('page formatting', () => {
  it('formats latency quantiles as seconds and other values as plain numbers', () => {
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

  it("shows the incident's summary, lesson and sources when the result has them", () => {
    const withIncident: RunResult = { ...result, incident: { system: 'Toy <system>', date: '2015', summary: 'It broke.', lesson: 'Time out.', sources: ['AWS, aws.amazon.com/message/5467D2/'], assumed: 2 } };
    const page = renderHtmlReport(withIncident, journal);
    expect(page).toContain('<h2>The incident</h2>');
    expect(page).toContain('Toy &lt;system&gt;, 2015');
    expect(page).toContain('<b>Time out.</b>');
    expect(page).toContain('<li>AWS, aws.amazon.com/message/5467D2/</li>');
    expect(page).toContain('2 assumption(s)');
    // A result from before the field: no section, no error.
    expect(html).not.toContain('<h2>The incident</h2>');
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

  it('embeds the compiled page script, as a classic script', () => {
    expect(html).toContain(`<script>${PAGE_SCRIPT}</script>`);
    expect(PAGE_SCRIPT).not.toMatch(/\b(import|export)\b/);
    expect(PAGE_SCRIPT).not.toContain('</');
  });

  it('says an interrupted run was interrupted, and gives no verdict', () => {
    const r = structuredClone(result);
    r.interrupted = true;
    r.variants[1] = variant('mitigated', T1, { status: 'interrupted', passed: false, assertions: [] });
    const out = renderHtmlReport(r, journal);
    expect(out).toContain('<div class="big interrupted">INTERRUPTED<div class="small" style="font-weight:400">the run was interrupted before it could judge every variant</div></div>');
    expect(out).toContain('<title>INTERRUPTED hello-latency (seed 7) — chaoslab</title>');
    expect(out).not.toMatch(/class="big (pass|fail)"|<title>(PASS|FAIL)/);
    expect(out).not.toContain('not every variant met its expectation');
    // The variant that ran to its end keeps its own verdict chip; the interrupted one says interrupted.
    expect(out).toContain('<span class="chip warn">INTERRUPTED</span>');
    expect(out).toContain('did not complete (interrupted)');
    expect(out).toContain('<span>not judged: the run was interrupted</span>');
  });

  it('reports a variant that failed without assertions', () => {
    const r = structuredClone(result);
    r.variants[1] = variant('mitigated', T1, { status: 'failed', passed: false, assertions: [], error: { code: 'CHAOSLAB_NODE_FAILED', message: 'node backend exited', hint: 'see logs' } });
    const out = renderHtmlReport(r, journal);
    expect(out).toContain('CHAOSLAB_NODE_FAILED');
    expect(out).toContain('did not complete (failed)');
  });
});

describe('the linearizability counterexample', () => {
  const withCounterexample = () => {
    const { result, journal } = fixture();
    const write = { process: 7, f: 'write' as const, key: 'k3', value: 'app-1-97', callNs: 1e9, returnNs: 1.1875e9 };
    const read = { process: 10_000_277, f: 'read' as const, key: 'k3', value: 'app-3-79', callNs: 2e9, returnNs: 2.003e9 };
    const summary = summarize({ valid: false, checker: 'porcupine', ops: 2, keys: 1, reads: 1, writes: 1, indeterminate: 0, durationMs: 1, counterexample: { key: 'k3', linearized: [write], cannotFollow: [read], staleRead: read, expected: 'app-1-97' } });
    result.variants[0]!.checkers = { linearizable: summary };
    result.variants[1]!.checkers = { linearizable: summarize({ valid: true, checker: 'porcupine', ops: 2, keys: 1, reads: 1, writes: 1, indeterminate: 0, durationMs: 1 }) };
    return { result, journal };
  };

  it('has a section of its own: the sentence, the order that held, the write it missed and the stale read', () => {
    const { result, journal } = withCounterexample();
    const html = renderHtmlReport(JSON.parse(JSON.stringify(result)) as RunResult, journal);
    const section = html.slice(html.indexOf('<h2>Linearizability counterexample</h2>'), html.indexOf('<h2>Timeline</h2>'));
    expect(section).toContain('baseline: not linearizable on <code>k3</code>');
    expect(section).toContain('A strong read of k3 (process 10000277) returned &quot;app-3-79&quot;, but &quot;app-1-97&quot; had been acknowledged 812.5 ms before the read was invoked (process 7): a stale read.');
    expect(section).toMatch(/<tr><td>7<\/td><td>write <code>app-1-97<\/code> <mark>the write it missed<\/mark><\/td><td>−1 s<\/td><td>−813 ms<\/td><\/tr>/);
    expect(section).toMatch(/<tr class="stale"><td>10000277<\/td><td>read <code>app-3-79<\/code> .*expected <code>app-1-97<\/code>/);
    expect(section).toContain('baseline/linearizability.html');
    // The valid variant has no section, and the verdict card keeps the counts without the counterexample's JSON.
    expect(section).not.toContain('mitigated');
    expect(html).not.toContain('&quot;explanation&quot;');
  });

  it('is absent when no variant has one', () => {
    const { result, journal } = fixture();
    expect(renderHtmlReport(result, journal)).not.toContain('Linearizability counterexample');
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
