import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError } from '../errors/lab-error.js';
import type { RunResult } from '../run/result.js';
import { readRunFolder, reportCommand, resultFromJournal } from './report.js';

const at = '2026-11-28T05:44:36.659Z';
const records = [
  { kind: 'run-start', t: 0, at, scenario: 'hello-latency', seed: 42, control: false, command: 'npx chaoslab run scenarios/hello-latency.yaml --seed 42' },
  { kind: 'variant-start', t: 10, at, variant: 'baseline', mitigations: [], params: {} },
  { kind: 'load-start', t: 100, at, variant: 'baseline', t0: 1795844678346 },
  { kind: 'fault-apply', t: 12100, at, variant: 'baseline', step: 'slow-backend', fault: { type: 'latency' }, description: 'latency 800ms', scheduledMs: 12000 },
  { kind: 'fault-applied', t: 12102, at, variant: 'baseline', step: 'slow-backend', scheduledMs: 12000, actualMs: 12002 },
  { kind: 'fault-heal', t: 26100, at, variant: 'baseline', step: 'slow-backend', scheduledMs: 26000 },
  { kind: 'fault-healed', t: 26101, at, variant: 'baseline', step: 'slow-backend', scheduledMs: 26000, actualMs: 26001 },
  { kind: 'load-end', t: 36100, at, variant: 'baseline', summary: { sent: 3600, durationMs: 36000 } },
  { kind: 'assertion', t: 38000, at, variant: 'baseline', name: 'p99', query: 'x', window: { label: 'steady state', startMs: 5000, endMs: 12000 }, condition: '< 0.5', over: 'all', expected: 'holds', outcome: 'holds', passed: true, observed: { samples: 7, min: 0, max: 0.1, mean: 0.05, last: 0 }, reason: 'ok' },
  { kind: 'variant-end', t: 38100, at, variant: 'baseline', passed: true, status: 'completed' },
  { kind: 'variant-start', t: 38200, at, variant: 'mitigated', mitigations: ['timeout-and-fallback'], params: {} },
];

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { stream: out, text: () => text };
}

describe('chaoslab report', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-report-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rebuilds report.html from result.json and journal.json', async () => {
    const run = path.join(dir, 'run');
    mkdirSync(run);
    const result = resultFromJournal(run, records as never);
    writeFileSync(path.join(run, 'result.json'), JSON.stringify(result));
    writeFileSync(path.join(run, 'journal.json'), JSON.stringify({ scenario: 'hello-latency', records }));
    const out = capture();
    const code = await reportCommand(['run'], { cwd: dir, stdout: out.stream, stderr: out.stream });
    expect(code).toBe(0);
    expect(out.text()).toMatch(/^wrote run\/report\.html \(\d+\.\d KB, from result\.json and the journal\)/);
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    expect(html).toContain('--seed 42');
    expect(html).toContain('latency 800ms');
  });

  it('rebuilds what it can from journal.jsonl when the run crashed before result.json', () => {
    const lines = records.map((r) => JSON.stringify(r)).join('\n');
    writeFileSync(path.join(dir, 'journal.jsonl'), `${lines}\n{"kind":"phase","t":3`);
    const { result, source } = readRunFolder(dir);
    expect(source).toMatch(/journal only/);
    expect(result.seed).toBe(42);
    expect(result.command).toContain('--seed 42');
    expect(result.variants.map((v) => [v.name, v.expect, v.status])).toEqual([
      ['baseline', 'reproduce', 'completed'],
      ['mitigated', 'recover', 'interrupted'],
    ]);
    const b = result.variants[0]!;
    expect(b.t0).toBe(1795844678346);
    expect(b.faults).toEqual([{ step: 'slow-backend', description: 'latency 800ms', scheduledMs: 12000, appliedMs: 12002, healScheduledMs: 26000, healedMs: 26001 }]);
    expect(b.assertions[0]).toMatchObject({ name: 'p99', outcome: 'holds', series: [] });
    expect((b.load as { durationMs: number }).durationMs).toBe(36000);
  });

  it('refuses a folder that is not a run folder, as bad input (exit 2)', async () => {
    const out = capture();
    const missing = reportCommand([path.join(dir, 'nope')], { cwd: dir, stdout: out.stream, stderr: out.stream });
    await expect(missing).rejects.toSatisfy((e: unknown) => isLabError(e) && e.exitCode === 2 && /no run folder/.test(e.message));
    await expect(reportCommand([dir], { cwd: dir, stdout: out.stream, stderr: out.stream })).rejects.toSatisfy((e: unknown) => isLabError(e) && /neither result\.json nor journal/.test(e.message));
    await expect(reportCommand([], { cwd: dir, stdout: out.stream, stderr: out.stream })).rejects.toSatisfy((e: unknown) => isLabError(e) && e.exitCode === 2);
    writeFileSync(path.join(dir, 'result.json'), '{"scenario": ');
    await expect(reportCommand([dir], { cwd: dir, stdout: out.stream, stderr: out.stream })).rejects.toSatisfy((e: unknown) => isLabError(e) && /not valid JSON/.test(e.message));
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false);
  });

  it('keeps the stored result as it is (the report reads, never rewrites)', async () => {
    const result: RunResult = resultFromJournal(dir, records as never);
    writeFileSync(path.join(dir, 'result.json'), JSON.stringify(result));
    const before = readFileSync(path.join(dir, 'result.json'), 'utf8');
    const out = capture();
    await reportCommand([dir], { cwd: dir, stdout: out.stream, stderr: out.stream });
    expect(readFileSync(path.join(dir, 'result.json'), 'utf8')).toBe(before);
  });
});
