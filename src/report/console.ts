/**
 * The human view of a run. On a terminal: one live status line redrawn in place (phase, elapsed of
 * total, active faults, a few client numbers) above a log of events. Elsewhere: plain lines only.
 */
import type { LiveStats, Reporter } from '../run/reporter.js';
import type { RunResult, VariantResult } from '../run/result.js';
import { formatDuration } from '../common/duration.js';

export interface ConsoleOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  color: boolean;
  live: boolean;
}

const paint = (on: boolean) => ({
  green: (s: string) => (on ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (on ? `\x1b[31m${s}\x1b[0m` : s),
  yellow: (s: string) => (on ? `\x1b[33m${s}\x1b[0m` : s),
  dim: (s: string) => (on ? `\x1b[2m${s}\x1b[0m` : s),
  bold: (s: string) => (on ? `\x1b[1m${s}\x1b[0m` : s),
});

function num(v: number | null, digits = 3): string {
  if (v === null || Number.isNaN(v)) return '—';
  if (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)) return v.toExponential(2);
  return String(+v.toFixed(digits));
}

export function createConsoleReporter(opts: ConsoleOptions): Reporter {
  const c = paint(opts.color);
  let statusShown = false;
  const write = (line: string) => {
    if (statusShown) opts.out.write('\r\x1b[2K');
    statusShown = false;
    opts.out.write(`${line}\n`);
  };
  const status = (s: LiveStats) => {
    if (!opts.live) return;
    const faults = s.activeFaults.length ? c.yellow(s.activeFaults.join('; ')) : c.dim('no fault');
    const line = `  [${s.variant}] ${s.phase.padEnd(8)} ${formatDuration(s.elapsedMs).padStart(6)} / ${formatDuration(s.totalMs)}  ${num(s.requestRate, 0)} req/s  err ${(s.errorRatio * 100).toFixed(1)}%  p99 ${s.p99Ms === null ? '—' : `${Math.round(s.p99Ms)}ms`}  ${faults}`;
    const width = opts.out.columns ?? 120;
    opts.out.write(`\r\x1b[2K${line.length > width + 20 ? line.slice(0, width + 20) : line}`);
    statusShown = true;
  };
  return {
    onRunStart(i) {
      write(`${c.bold(i.scenario)} — ${i.title}`);
      write(c.dim(`seed ${i.seed} · variants ${i.variants.join(', ')}${i.control ? ' · CONTROL run (no faults)' : ''} · run folder ${i.runDir}`));
    },
    onMessage(line) {
      write(c.dim(`  ${line}`));
    },
    onVariantStart(v) {
      write(`\n${c.bold(`▶ variant ${v}`)}`);
    },
    onPhase(v, p) {
      if (!opts.live) write(c.dim(`  [${v}] phase ${p}`));
    },
    onFault(e) {
      const what = e.action === 'apply' ? c.yellow(`fault ${e.step}: ${e.description}`) : c.green(`healed ${e.step}`);
      write(`  [${e.variant}] ${what} ${c.dim(`(skew ${e.skewMs.toFixed(1)}ms)`)}${e.error ? c.red(` FAILED: ${e.error}`) : ''}`);
    },
    onTick: status,
    onVariantEnd(r) {
      write(renderVariant(r, c));
    },
    onRunEnd(r) {
      write(renderSummary(r, c));
    },
  };
}

function renderVariant(r: VariantResult, c: ReturnType<typeof paint>): string {
  const lines: string[] = [];
  const verdict = r.passed ? c.green('PASS') : c.red('FAIL');
  const meaning = r.expect === 'reproduce' ? 'reproduces the incident' : 'recovers';
  lines.push(`  ${verdict} variant ${c.bold(r.name)} (expected: ${meaning}; status ${r.status})`);
  if (r.error) lines.push(c.red(`    ${r.error.message}${r.error.hint ? `\n    hint: ${r.error.hint}` : ''}`));
  for (const a of r.assertions) {
    const mark = a.passed ? c.green('✓') : c.red('✗');
    const rec = a.timeToRecoverSec !== undefined ? `, recovered after ${a.timeToRecoverSec === null ? 'never' : `${a.timeToRecoverSec.toFixed(1)}s`}` : '';
    lines.push(`    ${mark} ${a.name} — ${a.window.label}: ${a.outcome}${a.outcome === a.expected ? '' : ` (expected ${a.expected})`}`);
    lines.push(c.dim(`        ${a.reason}${rec}`));
  }
  if (r.load) {
    const l = r.load as { sent?: number; ok?: number; error?: number; timeout?: number; dropped?: number; achievedRate?: number };
    lines.push(c.dim(`    load: sent ${l.sent ?? 0}, ok ${l.ok ?? 0}, error ${l.error ?? 0}, timeout ${l.timeout ?? 0}, dropped ${l.dropped ?? 0}, ${num(l.achievedRate ?? null, 1)} req/s`));
  }
  return lines.join('\n');
}

function renderSummary(r: RunResult, c: ReturnType<typeof paint>): string {
  const lines = ['', `${r.passed ? c.green('✔ every variant met its expectation') : c.red('✘ not every variant met its expectation')}  ${c.dim(`(seed ${r.seed})`)}`];
  lines.push(c.dim(`  run folder: ${r.runDir}`));
  lines.push(c.dim(`  report:     ${r.runDir}/report.html`));
  if (r.traces?.mode === 'file') lines.push(c.dim(`  traces:     ${r.runDir}/${r.traces.file} (${r.traces.spans ?? 0} spans)`));
  else if (r.traces?.mode === 'otlp') lines.push(c.dim(`  traces:     sent to ${r.traces.endpoint}`));
  lines.push(c.dim(`  replay:     ${r.command}`));
  return lines.join('\n');
}
