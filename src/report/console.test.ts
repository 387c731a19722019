import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LiveAssertion } from '../run/live-probe.js';
import type { LiveStats } from '../run/reporter.js';
import type { RunResult, VariantResult } from '../run/result.js';
import { createConsoleReporter, fitLine, renderLiveBlock } from './console.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

function live(over: Partial<LiveAssertion> = {}): LiveAssertion {
  return { name: 'p99 under 500ms during the slow backend', condition: '< 0.5', value: 0.995, holds: false, series: 1, window: 'in', windowLabel: 'during slow-backend', expected: 'violated', ...over };
}

function stats(over: Partial<LiveStats> = {}): LiveStats {
  return {
    variant: 'baseline',
    phase: 'fault',
    elapsedMs: 15_000,
    totalMs: 36_000,
    activeFaults: ['latency 800ms on frontend_to_backend'],
    requestRate: 100,
    errorRatio: 0,
    p99Ms: 812,
    faults: [{ step: 'slow-backend', description: 'latency 800ms on frontend_to_backend', sinceMs: 12_000, healAtMs: 26_000 }],
    assertions: [live(), live({ name: 'steady p99 under 500ms', value: 0.0123, holds: true, window: 'after', windowLabel: 'steady', expected: 'holds' })],
    ...over,
  };
}

/** A terminal stand-in: a real Writable that keeps what was written. */
class Out extends Writable {
  text = '';
  isTTY = true;
  columns = 80;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  override write(s: string | Uint8Array): boolean {
    this.text += s.toString();
    return true;
  }
}

const variantResult: VariantResult = { name: 'baseline', expect: 'reproduce', mitigations: [], params: {}, status: 'completed', passed: true, t0: 0, assertions: [], faults: [], load: null };

describe('fitLine', () => {
  it('leaves short lines alone and cuts long ones to the width with an ellipsis', () => {
    expect(fitLine('abc', 10)).toBe('abc');
    expect(fitLine('abcdefghij', 10)).toBe('abcdefghij');
    expect(fitLine('abcdefghijk', 10)).toBe('abcdefghi…');
  });

  it('does not count colour codes, and closes a colour it cut', () => {
    const red = '\x1b[31mabcdefghijkl\x1b[0m';
    expect(fitLine(red, 12)).toBe(red);
    const cut = fitLine(red, 6);
    expect(strip(cut)).toBe('abcde…');
    expect(cut.endsWith('\x1b[0m')).toBe(true);
  });
});

describe('renderLiveBlock', () => {
  it('shows the phase and client numbers, each active fault with its times, and each assertion against its threshold', () => {
    const lines = renderLiveBlock({ stats: stats(), nowMs: 0 }, plain);
    expect(lines[0]).toBe('  [baseline] fault       15s / 36s  100 req/s  err 0.0%  p99 812ms');
    expect(lines[1]).toBe('    fault slow-backend: latency 800ms on frontend_to_backend  since +12s, heals at +26s');
    expect(lines[2]).toBe('    ✗ p99 under 500ms during the slow backend  0.995  < 0.5  during slow-backend: judging now · expected violated');
    expect(lines[3]).toBe('    ✓ steady p99 under 500ms                   0.0123 < 0.5  steady: judged');
    expect(lines).toHaveLength(4);
  });

  it('says when no fault is active, when a query has no data yet or failed, and which of several series it shows', () => {
    const lines = renderLiveBlock(
      { stats: stats({ faults: [], activeFaults: [], assertions: [live({ value: null, holds: null, window: 'before' }), live({ name: 'errors', value: null, holds: null, error: 'Prometheus unreachable' }), live({ name: 'per node', series: 3 })] }), nowMs: 0 },
      plain,
    );
    expect(lines[1]).toBe('    no fault active');
    expect(lines[2]).toContain('· p99 under 500ms during the slow backend  —');
    expect(lines[2]).toContain('during slow-backend: not yet');
    expect(lines[3]).toContain('query failed: Prometheus unreachable');
    expect(lines[4]).toContain('(worst of 3 series)');
  });

  it('leaves the load numbers out when no load runs (`up` without --load)', () => {
    expect(renderLiveBlock({ stats: stats({ totalMs: 0, assertions: [] }), nowMs: 0 }, plain)[0]).toBe('  [baseline] fault       15s / 0ms');
  });

  it('shows a long step with its count, its time and the latest detail', () => {
    expect(renderLiveBlock({ progress: { label: 'starting nodes', done: 3, total: 7 }, progressSinceMs: 1000, nowMs: 3500 }, plain)).toEqual(['  starting nodes 3/7 …  2.5s']);
    expect(renderLiveBlock({ progress: { label: 'building chaoslab-toys:latest', detail: 'Step 2/3 : COPY app /app' }, progressSinceMs: 0, nowMs: 12_000 }, plain)).toEqual(['  building chaoslab-toys:latest …  12s  Step 2/3 : COPY app /app']);
  });
});

describe('createConsoleReporter', () => {
  it('off a terminal: plain lines only, no live block, no progress, no cursor movement', () => {
    const out = new Out();
    out.isTTY = false;
    const r = createConsoleReporter({ out, color: false, live: false });
    r.onVariantStart!('baseline');
    r.onProgress!({ label: 'starting nodes', done: 1, total: 2 });
    r.onTick!(stats());
    r.onPhase!('baseline', 'fault');
    r.onVariantEnd!(variantResult);
    expect(out.text).not.toContain('\x1b');
    expect(out.text).not.toContain('starting nodes');
    expect(out.text).toContain('[baseline] phase fault');
    expect(out.text).toContain('PASS variant baseline');
  });

  it('on a terminal: redraws the block in place, keeps log lines above it, and clears it when the variant ends', () => {
    const out = new Out();
    out.columns = 60;
    const r = createConsoleReporter({ out, color: false, live: true, now: () => 0 });
    r.onVariantStart!('baseline');
    const before = out.text.length;
    r.onTick!(stats());
    const first = out.text;
    // Every block line fits the terminal: a wrapped line would break the redraw (log lines above may wrap).
    for (const line of strip(first.slice(before)).split('\n')) expect([...line].length).toBeLessThanOrEqual(59);
    expect(first.endsWith('\n')).toBe(false); // the cursor stays on the block's last line
    r.onTick!(stats({ elapsedMs: 16_000 }));
    // Up three lines from the fourth, then clear to the end of the screen, then the new block.
    expect(out.text.slice(first.length).startsWith('\r\x1b[3A\x1b[J')).toBe(true);
    r.onMessage!('something happened');
    const afterMessage = out.text.slice(out.text.lastIndexOf('something happened'));
    expect(afterMessage).toContain('16s / 36s');
    r.onVariantEnd!(variantResult);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(strip(out.text.slice(out.text.lastIndexOf('PASS variant')))).not.toContain('36s');
  });

  it('shows progress until it is done, then the block takes its place', () => {
    const out = new Out();
    const r = createConsoleReporter({ out, color: false, live: true, now: () => 0 });
    r.onProgress!({ label: 'starting nodes', done: 2, total: 7 });
    expect(strip(out.text)).toContain('starting nodes 2/7 …');
    r.onProgress!(null);
    const cleared = out.text.length;
    r.onTick!(stats({ assertions: [] }));
    expect(strip(out.text.slice(cleared))).not.toContain('starting nodes');
    r.onRunEnd!({ scenario: 's', title: 't', seed: 1, control: false, passed: true, runDir: '/r', startedAt: '', endedAt: '', command: 'c', variants: [] });
  });
});

describe('the end of a run', () => {
  const run = { scenario: 's', title: 't', seed: 1, control: false, runDir: '/r', startedAt: '', endedAt: '', command: 'c' };
  const end = (r: RunResult, variants: VariantResult[] = []): string => {
    const out = new Out();
    const reporter = createConsoleReporter({ out, color: false, live: false });
    for (const v of variants) reporter.onVariantEnd!(v);
    reporter.onRunEnd!(r);
    return out.text;
  };

  it('states the verdict of a run that ran to its end', () => {
    expect(end({ ...run, passed: true, variants: [variantResult] })).toContain('✔ every variant met its expectation  (seed 1)');
    expect(end({ ...run, passed: false, variants: [{ ...variantResult, passed: false }] })).toContain('✘ not every variant met its expectation  (seed 1)');
  });

  it('says an interrupted run was interrupted, and nothing like a verdict', () => {
    const interrupted: VariantResult = { ...variantResult, name: 'mitigated', expect: 'recover', status: 'interrupted', passed: false };
    for (const text of [
      end({ ...run, passed: false, interrupted: true, variants: [] }),
      end({ ...run, passed: false, variants: [variantResult, interrupted] }, [variantResult, interrupted]),
    ]) {
      expect(text).toContain('■ the run was interrupted before it could judge every variant  (seed 1)');
      expect(text).not.toMatch(/every variant met|✔|✘|FAIL/);
    }
    const text = end({ ...run, passed: false, interrupted: true, variants: [interrupted] }, [interrupted]);
    expect(text).toContain('  INTERRUPTED variant mitigated (expected: recovers)\n');
  });
});
