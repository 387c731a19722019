/**
 * The human view of a run. On a terminal: a live block redrawn in place below the log of events: the phase and
 * client numbers, every active fault, and each assertion's value now (from Prometheus) against its threshold; during
 * a long start, the step and its progress. Elsewhere (a pipe, a file, CI): plain lines only, as before.
 */
import type { LiveStats, Progress, Reporter } from '../run/reporter.js';
import type { RunResult, VariantResult } from '../run/result.js';
import type { LiveAssertion } from '../run/live-probe.js';
import { formatDuration } from '../common/duration.js';
import { formatFixed, formatNumber, formatPercent } from '../common/format.js';
import { RUN_VERDICTS, runVerdict } from './verdict.js';

export interface ConsoleOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  color: boolean;
  live: boolean;
  /** For tests: the clock progress times are read from. */
  now?: () => number;
}

type Paint = ReturnType<typeof paint>;

const paint = (on: boolean) => ({
  green: (s: string) => (on ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (on ? `\x1b[31m${s}\x1b[0m` : s),
  yellow: (s: string) => (on ? `\x1b[33m${s}\x1b[0m` : s),
  dim: (s: string) => (on ? `\x1b[2m${s}\x1b[0m` : s),
  bold: (s: string) => (on ? `\x1b[1m${s}\x1b[0m` : s),
});

const ANSI = /\x1b\[[0-9;]*m/y;

/** Cuts a line to `width` visible columns, keeping colour codes intact: a wrapped line would break the redraw. */
export function fitLine(line: string, width: number): string {
  if (visibleLength(line) <= width) return line;
  let visible = 0;
  let out = '';
  let colored = false;
  for (let i = 0; i < line.length && visible < width - 1; ) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(line);
    if (m) {
      out += m[0];
      colored = m[0] !== '\x1b[0m';
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    out += ch;
    visible++;
    i += ch.length;
  }
  return `${out}…${colored ? '\x1b[0m' : ''}`;
}

function visibleLength(s: string): number {
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

function pad(s: string, n: number): string {
  const len = visibleLength(s);
  return len >= n ? s : s + ' '.repeat(n - len);
}

const WINDOW_WORD = { before: 'not yet', in: 'judging now', after: 'judged' } as const;

/** One line per assertion: its value now against the condition, and where the run is in its window. */
export function renderAssertionLines(assertions: LiveAssertion[], c: Paint): string[] {
  const nameWidth = Math.min(44, Math.max(0, ...assertions.map((a) => a.name.length)));
  const valueWidth = Math.max(1, ...assertions.map((a) => formatNumber(a.value).length));
  return assertions.map((a) => {
    const mark = a.holds === null ? c.dim('·') : a.holds ? c.green('✓') : c.red('✗');
    const value = formatNumber(a.value);
    const shownValue = a.holds === null ? c.dim(value) : a.holds ? c.green(value) : c.red(value);
    const name = a.name.length > nameWidth ? `${a.name.slice(0, nameWidth - 1)}…` : a.name;
    const where = `${a.windowLabel}: ${WINDOW_WORD[a.window]}`;
    const expectation = a.expected === 'violated' ? ` · expected violated` : '';
    const tail = a.error ? c.red(` query failed: ${a.error}`) : a.series > 1 ? c.dim(` (worst of ${a.series} series)`) : '';
    const windowText = a.window === 'in' ? c.bold(where) : c.dim(where);
    return `    ${mark} ${pad(name, nameWidth)}  ${pad(shownValue, valueWidth)} ${c.dim(a.condition)}  ${windowText}${c.dim(expectation)}${tail}`;
  });
}

/** The live block: header, active faults, assertions; or the progress of a long step. */
export function renderLiveBlock(state: { stats?: LiveStats; progress?: Progress; progressSinceMs?: number; nowMs: number }, c: Paint): string[] {
  const lines: string[] = [];
  const s = state.stats;
  if (s) {
    const load = s.totalMs > 0 ? `  ${formatNumber(Math.round(s.requestRate))} req/s  err ${formatPercent(s.errorRatio)}  p99 ${s.p99Ms === null ? '—' : `${formatNumber(Math.round(s.p99Ms))}ms`}` : '';
    lines.push(`  [${s.variant}] ${c.bold(s.phase.padEnd(8))} ${formatDuration(s.elapsedMs).padStart(6)} / ${formatDuration(s.totalMs)}${load}`);
    const faults = s.faults ?? s.activeFaults.map((description) => ({ step: '', description, sinceMs: NaN, healAtMs: null }));
    if (faults.length === 0) lines.push(c.dim('    no fault active'));
    for (const f of faults) {
      const when = Number.isNaN(f.sinceMs) ? '' : c.dim(`  since +${formatDuration(f.sinceMs)}${f.healAtMs !== null ? `, heals at +${formatDuration(f.healAtMs)}` : ''}`);
      lines.push(`    ${c.yellow(`fault ${f.step ? `${f.step}: ` : ''}${f.description}`)}${when}`);
    }
    if (s.assertions) lines.push(...renderAssertionLines(s.assertions, c));
  }
  if (state.progress) {
    const p = state.progress;
    const count = p.total !== undefined ? ` ${p.done ?? 0}/${p.total}` : '';
    const took = state.progressSinceMs !== undefined ? c.dim(`  ${formatDuration(Math.max(0, state.nowMs - state.progressSinceMs))}`) : '';
    lines.push(`  ${p.label}${count} …${took}${p.detail ? c.dim(`  ${p.detail}`) : ''}`);
  }
  return lines;
}

export function createConsoleReporter(opts: ConsoleOptions): Reporter {
  const c = paint(opts.color);
  const now = opts.now ?? (() => performance.now());
  let drawn = 0;
  let stats: LiveStats | undefined;
  let progress: Progress | undefined;
  let progressSince: number | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  const width = () => Math.max(20, (opts.out.columns || 120) - 1);
  const erase = () => {
    if (drawn === 0) return;
    opts.out.write(`\r${drawn > 1 ? `\x1b[${drawn - 1}A` : ''}\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    if (!opts.live) return;
    const lines = renderLiveBlock({ ...(stats ? { stats } : {}), ...(progress ? { progress } : {}), ...(progressSince !== undefined ? { progressSinceMs: progressSince } : {}), nowMs: now() }, c).map((l) => fitLine(l, width()));
    erase();
    if (lines.length === 0) return;
    opts.out.write(lines.join('\n'));
    drawn = lines.length;
  };
  const write = (line: string) => {
    erase();
    opts.out.write(`${line}\n`);
    draw();
  };
  const stopProgressTimer = () => {
    if (progressTimer) clearInterval(progressTimer);
    progressTimer = undefined;
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
      stats = undefined;
      write(`\n${c.bold(`▶ variant ${v}`)}`);
    },
    onPhase(v, p) {
      if (!opts.live) write(c.dim(`  [${v}] phase ${p}`));
    },
    onFault(e) {
      const what = e.action === 'apply' ? c.yellow(`fault ${e.step}: ${e.description}`) : c.green(`healed ${e.step}`);
      write(`  [${e.variant}] ${what} ${c.dim(`(skew ${formatFixed(e.skewMs, 1)}ms)`)}${e.error ? c.red(` FAILED: ${e.error}`) : ''}`);
    },
    onTick(s) {
      if (!opts.live) return;
      stats = s;
      draw();
    },
    onProgress(p) {
      if (!opts.live) return;
      if (p === null) {
        progress = undefined;
        progressSince = undefined;
        stopProgressTimer();
      } else {
        if (p.label !== progress?.label) progressSince = now();
        progress = p;
        // Keeps the elapsed time moving while a step (an image build) says nothing.
        progressTimer ??= setInterval(draw, 500).unref();
      }
      draw();
    },
    onVariantEnd(r) {
      stats = undefined;
      write(renderVariant(r, c));
    },
    onRunEnd(r) {
      stats = undefined;
      progress = undefined;
      stopProgressTimer();
      write(renderSummary(r, c));
    },
  };
}

function renderVariant(r: VariantResult, c: Paint): string {
  const lines: string[] = [];
  const meaning = r.expect === 'reproduce' ? 'reproduces the incident' : 'recovers';
  // An interrupted variant has no verdict: it says so, not PASS or FAIL.
  if (r.status === 'interrupted') lines.push(`  ${c.yellow('INTERRUPTED')} variant ${c.bold(r.name)} (expected: ${meaning})`);
  else lines.push(`  ${r.passed ? c.green('PASS') : c.red('FAIL')} variant ${c.bold(r.name)} (expected: ${meaning}; status ${r.status})`);
  if (r.error) lines.push(c.red(`    ${r.error.message}${r.error.hint ? `\n    hint: ${r.error.hint}` : ''}`));
  for (const a of r.assertions) {
    const mark = a.passed ? c.green('✓') : c.red('✗');
    const rec = a.timeToRecoverSec !== undefined ? `, recovered after ${a.timeToRecoverSec === null ? 'never' : `${formatFixed(a.timeToRecoverSec, 1)}s`}` : '';
    lines.push(`    ${mark} ${a.name} — ${a.window.label}: ${a.outcome}${a.outcome === a.expected ? '' : ` (expected ${a.expected})`}`);
    lines.push(c.dim(`        ${a.reason}${rec}`));
  }
  if (r.load) {
    const l = r.load as { sent?: number; ok?: number; error?: number; timeout?: number; dropped?: number; achievedRate?: number };
    lines.push(c.dim(`    load: sent ${l.sent ?? 0}, ok ${l.ok ?? 0}, error ${l.error ?? 0}, timeout ${l.timeout ?? 0}, dropped ${l.dropped ?? 0}, ${formatNumber(l.achievedRate ?? null)} req/s`));
  }
  return lines.join('\n');
}

function renderSummary(r: RunResult, c: Paint): string {
  const verdict = runVerdict(r);
  const text = RUN_VERDICTS[verdict].sentence;
  const headline = verdict === 'pass' ? c.green(`✔ ${text}`) : verdict === 'fail' ? c.red(`✘ ${text}`) : c.yellow(`■ ${text}`);
  const lines = ['', `${headline}  ${c.dim(`(seed ${r.seed})`)}`];
  lines.push(c.dim(`  run folder: ${r.runDir}`));
  lines.push(c.dim(`  report:     ${r.runDir}/report.html`));
  if (r.traces?.mode === 'file') lines.push(c.dim(`  traces:     ${r.runDir}/${r.traces.file} (${r.traces.spans ?? 0} spans)`));
  else if (r.traces?.mode === 'otlp') lines.push(c.dim(`  traces:     sent to ${r.traces.endpoint}`));
  lines.push(c.dim(`  replay:     ${r.command}`));
  return lines.join('\n');
}
