/**
 * report.html: one self-contained page per run (inline CSS, SVG and a little JS; nothing loaded
 * from the network, so it opens from disk and can be mailed or archived with the run folder).
 * It is a pure function of result.json and the journal, so `chaoslab report <runDir>` rebuilds the
 * same bytes the run wrote. Charts are drawn here as static SVG: they show without JavaScript; the
 * script only adds a hover read-out and the copy button.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Series } from '../observe/prometheus-client.js';
import type { StoredJournalRecord as JournalRecord } from '../run/journal.js';
import type { AssertionResult, RunResult, VariantResult } from '../run/result.js';

export const REPORT_FILE = 'report.html';

/** Where the run's spans went, as a row of the header (nothing when tracing was off). */
function tracesRow(result: RunResult): string {
  const t = result.traces;
  if (!t || t.mode === 'off') return '';
  const every = 1 / t.sampleRatio;
  const share = t.sampleRatio >= 1 ? 'every request' : Number.isInteger(Math.round(every * 1000) / 1000) ? `1 request in ${Math.round(every)}` : `${Math.round(t.sampleRatio * 1000) / 10}% of requests`;
  if (t.mode === 'otlp') return `<span>traces</span><span>sent over OTLP to <code>${esc(t.endpoint)}</code> <span class="muted">(${share} traced)</span></span>\n`;
  return `<span>traces</span><span><code>${esc(t.file)}</code> in the run folder <span class="muted">(${t.spans ?? 0} spans; ${share} traced)</span></span>\n`;
}

/** Writes `<runDir>/report.html` and returns its path. */
export function writeHtmlReport(runDir: string, result: RunResult, journalRecords: readonly JournalRecord[]): string {
  const file = path.join(runDir, REPORT_FILE);
  // Rendered from what result.json and journal.json hold (JSON turns NaN and ±Infinity into null),
  // so `chaoslab report` rebuilds exactly these bytes from the run folder.
  const stored = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  writeFileSync(file, renderHtmlReport(stored(result), stored(journalRecords)));
  return file;
}

// ---------------------------------------------------------------------------------------------
// The timeline of a variant, in seconds from its t0 (the load's start), from the result and journal.

export interface FaultSpan {
  step: string;
  description: string;
  /** Fault type from the journal (latency, kill, …); undefined when the journal lacks it. */
  type: string | undefined;
  scheduledSec: number;
  appliedSec: number | null;
  healScheduledSec: number | null;
  healedSec: number | null;
  /** Where the fault's shading starts and ends: applied (or scheduled) to healed (or the run's end). */
  fromSec: number;
  toSec: number;
  error?: string;
}

export interface PhaseSpan {
  phase: string;
  fromSec: number;
  toSec: number;
}

export interface LoadChange {
  step: string;
  action: string;
  rate: number | null;
  atSec: number;
}

export interface VariantTimeline {
  variant: string;
  durationSec: number;
  phases: PhaseSpan[];
  faults: FaultSpan[];
  loadChanges: LoadChange[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function variantTimeline(v: VariantResult, journal: readonly JournalRecord[]): VariantTimeline {
  const own = journal.filter((r) => r.variant === v.name);
  const loadStart = own.find((r) => r.kind === 'load-start');
  const loadEnd = own.find((r) => r.kind === 'load-end');
  const base = loadStart?.t ?? null;
  const rel = (r: JournalRecord): number | null => (base === null ? null : (r.t - base) / 1000);

  const loadMs = num(v.load?.['durationMs']);
  const fromJournal = base !== null && loadEnd ? (loadEnd.t - base) / 1000 : null;
  const windowEnd = Math.max(0, ...v.assertions.map((a) => a.window.endMs / 1000));
  const faultEnd = Math.max(0, ...v.faults.map((f) => (f.healedMs ?? f.appliedMs ?? f.scheduledMs) / 1000));
  const durationSec = loadMs !== null ? loadMs / 1000 : fromJournal ?? Math.max(windowEnd, faultEnd, 1);

  const phases: PhaseSpan[] = [];
  const phaseRecords = own.filter((r) => r.kind === 'phase' && typeof r['phase'] === 'string');
  phaseRecords.forEach((r, i) => {
    const from = rel(r);
    if (from === null) return;
    const next = phaseRecords[i + 1];
    const to = next ? (rel(next) ?? durationSec) : durationSec;
    const a = Math.max(0, from);
    const b = Math.min(durationSec, to);
    if (b > a) phases.push({ phase: String(r['phase']), fromSec: a, toSec: b });
  });

  const types = new Map<string, string>();
  for (const r of own) {
    if (r.kind === 'fault-apply' && typeof r['step'] === 'string') {
      const f = r['fault'] as { type?: unknown } | undefined;
      if (typeof f?.type === 'string') types.set(r['step'], f.type);
    }
  }
  // Faults still active at the end are healed by the runner's finally; they were active until then.
  const faults: FaultSpan[] = v.faults.map((f) => {
    const appliedSec = f.appliedMs === null ? null : f.appliedMs / 1000;
    const healedSec = f.healedMs === null ? null : f.healedMs / 1000;
    const from = appliedSec ?? f.scheduledMs / 1000;
    const to = healedSec ?? (appliedSec === null ? from : durationSec);
    return {
      step: f.step,
      description: f.description,
      type: types.get(f.step),
      scheduledSec: f.scheduledMs / 1000,
      appliedSec,
      healScheduledSec: f.healScheduledMs === null ? null : f.healScheduledMs / 1000,
      healedSec,
      fromSec: from,
      toSec: Math.max(from, to),
      ...(f.error !== undefined ? { error: f.error } : {}),
    };
  });

  const loadChanges: LoadChange[] = own
    .filter((r) => r.kind === 'load-change')
    .map((r) => ({
      step: String(r['step'] ?? ''),
      action: String(r['action'] ?? ''),
      rate: num(r['rate']),
      atSec: (num(r['actualMs']) ?? num(r['scheduledMs']) ?? 0) / 1000,
    }));

  return { variant: v.name, durationSec, phases, faults, loadChanges };
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
const esc = escapeHtml;

/** JSON for a <script> element: `<` escaped so no string can close the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function trimNumber(v: number, digits: number): string {
  return String(Number(v.toPrecision(digits)));
}

export type Unit = 'seconds' | 'plain';

/** Latency quantiles of a `_seconds` histogram are seconds; everything else is shown as a plain number. */
export function unitOf(query: string): Unit {
  return /histogram_quantile\s*\(/.test(query) && /_seconds_bucket\b/.test(query) ? 'seconds' : 'plain';
}

export function formatValue(v: number | null, unit: Unit = 'plain'): string {
  if (v === null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (unit === 'seconds') {
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a < 1) return `${trimNumber(v * 1000, 3)} ms`;
    return `${trimNumber(v, 3)} s`;
  }
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trimNumber(v / 1e6, 3)}M`;
  if (a >= 1e4) return `${trimNumber(v / 1e3, 3)}k`;
  if (a < 1e-3) return v.toExponential(1);
  return trimNumber(v, 3);
}

function formatSec(s: number): string {
  if (Math.abs(s) < 120) return `${trimNumber(s, 3)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

function formatTick(s: number, span: number): string {
  if (span <= 150) return `${Math.round(s * 10) / 10}s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s - m * 60)).padStart(2, '0')}`;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

function ticks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

export interface Condition {
  comparator: '<' | '<=' | '>' | '>=' | '==' | '!=';
  threshold: number;
}

export function parseCondition(condition: string): Condition | null {
  const m = /^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(condition);
  if (!m) return null;
  const threshold = Number(m[2]);
  if (!Number.isFinite(threshold)) return null;
  return { comparator: m[1] as Condition['comparator'], threshold };
}

function satisfies(v: number, c: Condition): boolean {
  switch (c.comparator) {
    case '<':
      return v < c.threshold;
    case '<=':
      return v <= c.threshold;
    case '>':
      return v > c.threshold;
    case '>=':
      return v >= c.threshold;
    case '==':
      return v === c.threshold;
    case '!=':
      return v !== c.threshold;
  }
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).filter(([k]) => k !== '__name__');
  if (entries.length === 0) return labels['__name__'] ?? 'value';
  return `${labels['__name__'] ?? ''}{${entries.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

const SERIES_COLORS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#9a6700', '#0a7b83', '#cf6b00', '#57606a'];
const PHASE_COLORS: Record<string, string> = { setup: '#d0d7de', steady: '#8dd3a0', fault: '#f2a09b', recovery: '#f5cf7a', teardown: '#d0d7de' };

// ---------------------------------------------------------------------------------------------
// Charts.

export interface ChartData {
  id: string;
  unit: Unit;
  x: [number, number];
  y: [number, number];
  box: { left: number; top: number; width: number; height: number };
  series: { name: string; color: string; points: [number, number | null][] }[];
}

const CW = 560;
const CH = 230;
const PAD = { left: 58, right: 16, top: 26, bottom: 28 };

interface ChartInput {
  id: string;
  assertion: AssertionResult;
  t0: number;
  timeline: VariantTimeline;
  xDomain: [number, number];
  yDomain: [number, number];
  unit: Unit;
  condition: Condition | null;
}

/** The y range shared by one assertion's charts across variants, so their heights compare. */
export function yDomainFor(assertions: AssertionResult[], condition: Condition | null): [number, number] {
  const values: number[] = [];
  for (const a of assertions) for (const s of a.series) for (const [, v] of s.points) if (Number.isFinite(v)) values.push(v);
  if (condition) values.push(condition.threshold);
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  if (hi === lo) hi = lo + 1;
  hi += (hi - lo) * 0.08;
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  return [lo, hi];
}

function renderChart(c: ChartInput): { svg: string; data: ChartData } {
  const a = c.assertion;
  const box = { left: PAD.left, top: PAD.top, width: CW - PAD.left - PAD.right, height: CH - PAD.top - PAD.bottom };
  const [x0, x1] = c.xDomain;
  const [y0, y1] = c.yDomain;
  const X = (s: number) => box.left + ((s - x0) / (x1 - x0 || 1)) * box.width;
  const Y = (v: number) => box.top + box.height - ((v - y0) / (y1 - y0 || 1)) * box.height;
  const r1 = (n: number) => Math.round(n * 10) / 10;
  const clampX = (s: number) => Math.min(Math.max(s, x0), x1);
  // A label beside a vertical line: to its right, or to its left where it would leave the plot.
  const lineLabel = (x: number, y: number, text: string, cls: string) => {
    const right = x + 3 + text.length * 5.9 <= box.left + box.width;
    return `<text class="${cls}${right ? '' : ' end'}" x="${r1(right ? x + 3 : x - 3)}" y="${y}">${esc(text)}</text>`;
  };
  const parts: string[] = [];
  const label = `${a.name}: ${a.series.length} series over ${a.window.label}`;
  parts.push(`<svg class="chart" id="${c.id}" viewBox="0 0 ${CW} ${CH}" role="img" aria-label="${esc(label)}" preserveAspectRatio="xMidYMid meet">`);
  parts.push(`<rect class="plot-bg" x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}"/>`);

  // The judged window: the rest of the timeline is context.
  const wa = X(clampX(a.window.startMs / 1000));
  const wb = X(clampX(a.window.endMs / 1000));
  parts.push(`<rect class="window" x="${r1(wa)}" y="${box.top}" width="${r1(Math.max(0, wb - wa))}" height="${box.height}"><title>${esc(`judged window: ${a.window.label} (+${formatSec(a.window.startMs / 1000)} to +${formatSec(a.window.endMs / 1000)})`)}</title></rect>`);

  // Fault windows, as the lab applied and healed them. Labels go in two lanes above the plot so
  // faults that start close together stay readable; the full text is in each window's tooltip.
  const laneEnds = [-Infinity, -Infinity];
  for (const f of c.timeline.faults) {
    const fa = X(clampX(f.fromSec));
    const fb = X(clampX(f.toSec));
    const w = Math.max(fb - fa, 1.5);
    parts.push(`<rect class="fault" x="${r1(fa)}" y="${box.top}" width="${r1(w)}" height="${box.height}"><title>${esc(`fault ${f.step}: ${f.description} (+${formatSec(f.fromSec)} to +${formatSec(f.toSec)})`)}</title></rect>`);
    const lx = fa + 3;
    const width = f.step.length * 5.4;
    const lane = laneEnds.findIndex((end) => lx > end + 4);
    if (lane >= 0) {
      laneEnds[lane] = lx + width;
      parts.push(`<text class="fault-label" x="${r1(lx)}" y="${box.top - 5 - lane * 11}">${esc(f.step)}</text>`);
    }
  }

  // Grid and axes.
  for (const t of ticks(y0, y1, 4)) {
    const y = r1(Y(t));
    parts.push(`<line class="grid" x1="${box.left}" x2="${box.left + box.width}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="tick y" x="${box.left - 6}" y="${y + 3.5}">${esc(formatValue(t, c.unit))}</text>`);
  }
  for (const t of ticks(x0, x1, 6)) {
    const x = r1(X(t));
    parts.push(`<line class="xtick" x1="${x}" x2="${x}" y1="${box.top + box.height}" y2="${box.top + box.height + 4}"/>`);
    parts.push(`<text class="tick x" x="${x}" y="${box.top + box.height + 16}">${esc(formatTick(t, x1 - x0))}</text>`);
  }
  parts.push(`<line class="axis" x1="${box.left}" x2="${box.left + box.width}" y1="${box.top + box.height}" y2="${box.top + box.height}"/>`);

  // The threshold the condition compares against.
  if (c.condition) {
    const y = r1(Y(c.condition.threshold));
    parts.push(`<line class="threshold" x1="${box.left}" x2="${box.left + box.width}" y1="${y}" y2="${y}"><title>${esc(`condition: ${a.condition}`)}</title></line>`);
    const above = y - box.top > 14;
    parts.push(`<text class="threshold-label" x="${box.left + box.width - 4}" y="${above ? y - 4 : y + 12}">${esc(`${c.condition.comparator} ${formatValue(c.condition.threshold, c.unit)}`)}</text>`);
  }

  // The series the verdict was judged on.
  const data: ChartData = { id: c.id, unit: c.unit, x: c.xDomain, y: c.yDomain, box, series: [] };
  a.series.forEach((s: Series, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length]!;
    const pts = s.points.map(([ts, v]) => [(ts * 1000 - c.t0) / 1000, v] as [number, number]);
    let d = '';
    let pen = false;
    for (const [t, v] of pts) {
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${r1(X(t))} ${r1(Y(v))}`;
      pen = true;
    }
    if (d) parts.push(`<path class="series" data-points="${pts.filter(([, v]) => Number.isFinite(v)).length}" d="${d}" stroke="${color}"/>`);
    for (const [t, v] of pts) {
      if (!Number.isFinite(v)) continue;
      // Per-sample marks only where every sample counts; with over: last/mean/… one number decides.
      const bad = c.condition && a.over === 'all' ? !satisfies(v, c.condition) : false;
      parts.push(`<circle class="${bad ? 'pt bad' : 'pt'}" cx="${r1(X(t))}" cy="${r1(Y(v))}" r="${bad ? 2.6 : 2}" fill="${bad ? '#cf222e' : color}"/>`);
    }
    data.series.push({ name: labelText(s.labels), color, points: pts.map(([t, v]) => [Math.round(t * 1000) / 1000, Number.isFinite(v) ? v : null]) });
  });

  // Time to recover, measured from the window's start (a heal), against the allowance if there is one.
  const allowance = recoveryAllowanceSec(a);
  if (allowance !== null && isRecoveryAssertion(a)) {
    const at = a.window.startMs / 1000 + allowance;
    if (at >= x0 && at <= x1) {
      const x = r1(X(at));
      parts.push(`<line class="deadline" x1="${x}" x2="${x}" y1="${box.top}" y2="${box.top + box.height}"><title>${esc(`the condition must hold from +${formatSec(at)} (${trimNumber(allowance, 3)}s after the heal)`)}</title></line>`);
      parts.push(lineLabel(x, box.top + 22, `allowed ${trimNumber(allowance, 3)}s`, 'deadline-label'));
    }
  }
  if (typeof a.timeToRecoverSec === 'number' && isRecoveryAssertion(a)) {
    const at = a.window.startMs / 1000 + a.timeToRecoverSec;
    if (at >= x0 && at <= x1) {
      const x = r1(X(at));
      parts.push(`<line class="ttr" x1="${x}" x2="${x}" y1="${box.top}" y2="${box.top + box.height}"><title>${esc(`condition held for good from +${formatSec(at)}`)}</title></line>`);
      parts.push(lineLabel(x, box.top + 11, `recovered +${trimNumber(a.timeToRecoverSec, 3)}s`, 'ttr-label'));
    }
  }
  if (a.series.length === 0) {
    parts.push(`<text class="empty" x="${box.left + box.width / 2}" y="${box.top + box.height / 2}">no data: Prometheus returned no series</text>`);
  }
  parts.push(`<line class="cursor" x1="0" x2="0" y1="${box.top}" y2="${box.top + box.height}" visibility="hidden"/>`);
  parts.push('</svg>');
  return { svg: parts.join(''), data };
}

function renderTimeline(t: VariantTimeline, domain: [number, number]): string {
  const W = 1100;
  const left = 170;
  const right = 20;
  const rowH = 24;
  const rows = 1 + t.faults.length + (t.loadChanges.length ? 1 : 0);
  const top = 8;
  const H = top + rows * rowH + 26;
  const width = W - left - right;
  const X = (s: number) => left + ((Math.min(Math.max(s, domain[0]), domain[1]) - domain[0]) / (domain[1] - domain[0] || 1)) * width;
  const r1 = (n: number) => Math.round(n * 10) / 10;
  const p: string[] = [];
  p.push(`<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`timeline of variant ${t.variant}`)}">`);
  let y = top;
  p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">phase</text>`);
  for (const ph of t.phases) {
    const a = X(ph.fromSec);
    const b = X(ph.toSec);
    p.push(`<rect class="phase" x="${r1(a)}" y="${y + 4}" width="${r1(Math.max(0, b - a))}" height="${rowH - 8}" fill="${PHASE_COLORS[ph.phase] ?? '#d0d7de'}"><title>${esc(`${ph.phase}: +${formatSec(ph.fromSec)} to +${formatSec(ph.toSec)}`)}</title></rect>`);
    if (b - a > 46) p.push(`<text class="phase-label" x="${r1(a + 5)}" y="${y + 16}">${esc(ph.phase)}</text>`);
  }
  y += rowH;
  for (const f of t.faults) {
    p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">${esc(f.step)}</text>`);
    // Scheduled span as an outline, actual span filled: the gap between them is the lab's skew.
    const sa = X(f.scheduledSec);
    const sb = X(f.healScheduledSec ?? f.toSec);
    p.push(`<rect class="scheduled" x="${r1(sa)}" y="${y + 3}" width="${r1(Math.max(1, sb - sa))}" height="${rowH - 6}"/>`);
    const a = X(f.fromSec);
    const b = X(f.toSec);
    const tip = `${f.description}\nscheduled +${formatSec(f.scheduledSec)}${f.healScheduledSec !== null ? ` to +${formatSec(f.healScheduledSec)}` : ''}\napplied ${f.appliedSec === null ? 'never' : `+${formatSec(f.appliedSec)}`}, healed ${f.healedSec === null ? (f.appliedSec === null ? '—' : 'at the end of the run') : `+${formatSec(f.healedSec)}`}${f.error ? `\nerror: ${f.error}` : ''}`;
    p.push(`<rect class="${f.error ? 'applied failed' : 'applied'}" x="${r1(a)}" y="${y + 6}" width="${r1(Math.max(2, b - a))}" height="${rowH - 12}"><title>${esc(tip)}</title></rect>`);
    // The description goes inside the bar, else after it, else before it, else shortened after it.
    const full = `${f.description}${f.error ? ` — failed: ${f.error}` : ''}`;
    const charW = 6.1;
    const roomAfter = W - 4 - (b + 6);
    const roomBefore = a - 6 - left;
    let cls = 'bar-label';
    let x = b + 6;
    let text = full;
    if (b - a > full.length * charW + 12) {
      cls = 'bar-label inside';
      x = a + 6;
    } else if (full.length * charW > roomAfter && full.length * charW <= roomBefore) {
      cls = 'bar-label before';
      x = a - 6;
    } else if (full.length * charW > roomAfter) {
      const keep = Math.max(4, Math.floor(Math.max(roomAfter, roomBefore) / charW) - 1);
      text = `${full.slice(0, keep)}…`;
      if (roomBefore > roomAfter) {
        cls = 'bar-label before';
        x = a - 6;
      }
    }
    p.push(`<text class="${cls}" x="${r1(x)}" y="${y + 16}">${esc(text)}</text>`);
    y += rowH;
  }
  if (t.loadChanges.length) {
    p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">load</text>`);
    for (const l of t.loadChanges) {
      const x = r1(X(l.atSec));
      p.push(`<path class="load-mark" d="M${x} ${y + 5}l6 7l-6 7l-6 -7z"><title>${esc(`${l.step} ${l.action}: ${l.rate === null ? '' : `${l.rate} req/s `}at +${formatSec(l.atSec)}`)}</title></path>`);
      p.push(`<text class="bar-label" x="${x + 9}" y="${y + 16}">${esc(`${l.rate === null ? l.action : `${trimNumber(l.rate, 4)}/s`}`)}</text>`);
    }
    y += rowH;
  }
  p.push(`<line class="axis" x1="${left}" x2="${left + width}" y1="${y + 2}" y2="${y + 2}"/>`);
  for (const s of ticks(domain[0], domain[1], 10)) {
    const x = r1(X(s));
    p.push(`<line class="xtick" x1="${x}" x2="${x}" y1="${y + 2}" y2="${y + 6}"/><text class="tick x" x="${x}" y="${y + 18}">${esc(formatTick(s, domain[1] - domain[0]))}</text>`);
  }
  p.push('</svg>');
  return p.join('');
}

// ---------------------------------------------------------------------------------------------
// The page.

function chip(kind: 'pass' | 'fail' | 'warn' | 'info', text: string): string {
  return `<span class="chip ${kind}">${esc(text)}</span>`;
}

function expectText(v: VariantResult): string {
  return v.expect === 'reproduce' ? 'should reproduce the incident' : 'should recover (hold its SLOs)';
}

function loadLine(load: Record<string, unknown> | null): string {
  if (!load) return '';
  const n = (k: string) => num(load[k]);
  const latency = load['latencyMs'] as Record<string, unknown> | undefined;
  const bits: string[] = [];
  if (n('sent') !== null) bits.push(`sent ${n('sent')}`);
  for (const k of ['ok', 'error', 'timeout', 'dropped']) if (n(k) !== null) bits.push(`${k} ${n(k)}`);
  if (n('achievedRate') !== null) bits.push(`${trimNumber(n('achievedRate')!, 4)} req/s${n('askedRate') !== null ? ` (asked ${n('askedRate')})` : ''}`);
  if (latency) {
    const q = (k: string) => num(latency[k]);
    if (q('p50') !== null && q('p99') !== null) bits.push(`latency p50 ${formatValue(q('p50')! / 1000, 'seconds')} · p99 ${formatValue(q('p99')! / 1000, 'seconds')}${q('max') !== null ? ` · max ${formatValue(q('max')! / 1000, 'seconds')}` : ''}`);
  }
  return bits.join(' · ');
}

const paramValue = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v));

/** `node.param` keys whose value is not the same in every variant: what the mitigations changed. */
function differingParams(variants: VariantResult[]): Set<string> {
  const out = new Set<string>();
  const keys = new Set<string>();
  for (const v of variants) for (const [node, ps] of Object.entries(v.params)) for (const k of Object.keys(ps)) keys.add(`${node}\u0000${k}`);
  for (const key of keys) {
    const [node, k] = key.split('\u0000') as [string, string];
    const values = new Set(variants.map((v) => paramValue(v.params[node]?.[k])));
    if (values.size > 1) out.add(`${node}.${k}`);
  }
  return out;
}

function paramsHtml(params: Record<string, Record<string, unknown>>, differing: Set<string>): string {
  return Object.entries(params)
    .map(([node, ps]) => `<div><b>${esc(node)}</b> ${Object.entries(ps).map(([k, v]) => {
      const text = esc(`${k}=${paramValue(v)}`);
      return differing.has(`${node}.${k}`) ? `<mark title="differs between variants">${text}</mark>` : text;
    }).join(', ')}</div>`)
    .join('');
}

function checkersHtml(checkers: Record<string, unknown> | undefined): string {
  if (!checkers) return '';
  const rows = Object.entries(checkers).map(([name, v]) => {
    const cells = v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).map(([k, x]) => `${esc(k)} <b>${esc(typeof x === 'string' ? x : JSON.stringify(x))}</b>`).join(' · ') : esc(JSON.stringify(v));
    return `<div class="kv"><span>checker ${esc(name)}</span><span>${cells}</span></div>`;
  });
  return rows.join('');
}

function variantCard(v: VariantResult, control: boolean, differing: Set<string>): string {
  const recoveries = v.assertions.filter((a) => isRecoveryAssertion(a) && a.timeToRecoverSec !== undefined);
  const held = v.assertions.filter((a) => a.passed).length;
  const verdict = v.passed ? chip('pass', 'PASS') : chip('fail', 'FAIL');
  const status = v.status === 'completed' ? '' : chip('warn', v.status);
  const expectation = control ? 'control run: no faults, every assertion at its control expectation' : expectText(v);
  const what = v.status !== 'completed' ? `did not complete (${v.status})` : v.passed ? (control ? 'stayed healthy' : v.expect === 'reproduce' ? 'reproduced the incident' : 'recovered') : `${v.assertions.length - held} of ${v.assertions.length} assertion(s) not as expected`;
  return `<div class="card ${v.passed ? 'ok' : 'bad'}">
<div class="card-head"><h3>${esc(v.name)}${control ? ' <small>(control)</small>' : ''}</h3>${verdict}${status}</div>
<p class="expect">${esc(expectation)}: <b>${esc(what)}</b></p>
<div class="kv"><span>assertions</span><span>${held} of ${v.assertions.length} as expected</span></div>
<div class="kv"><span>mitigations</span><span>${v.mitigations.length ? v.mitigations.map((m) => `<code>${esc(m)}</code>`).join(' ') : 'none'}</span></div>
${Object.keys(v.params).length ? `<div class="kv"><span>parameters</span><span class="small params">${paramsHtml(v.params, differing)}</span></div>` : ''}
${recoveries.map((a) => `<div class="kv"><span>recovery</span><span>${esc(a.name)}: ${typeof a.timeToRecoverSec === 'number' ? `<b>${trimNumber(a.timeToRecoverSec, 3)} s</b>` : '<b class="bad-text">never</b>'}</span></div>`).join('')}
${v.load ? `<div class="kv"><span>load</span><span class="small">${esc(loadLine(v.load))}</span></div>` : ''}
${checkersHtml(v.checkers)}
${v.error ? `<div class="error"><b>${esc(v.error.code)}</b> ${esc(v.error.message)}${v.error.hint ? `<br><span class="small">hint: ${esc(v.error.hint)}</span>` : ''}</div>` : ''}
</div>`;
}

function faultTable(t: VariantTimeline): string {
  if (!t.faults.length && !t.loadChanges.length) return '<p class="muted">No faults in this variant.</p>';
  const skew = (actual: number | null, scheduled: number | null) => (actual === null || scheduled === null ? '' : ` <span class="muted">(${Math.round(Math.abs(actual - scheduled) * 10000) / 10} ms ${actual >= scheduled ? 'late' : 'early'})</span>`);
  const rows = t.faults.map(
    (f) => `<tr><td><code>${esc(f.step)}</code></td><td>${esc(f.description)}</td><td>+${formatSec(f.scheduledSec)}</td><td>${f.appliedSec === null ? '<span class="bad-text">not applied</span>' : `+${formatSec(f.appliedSec)}${skew(f.appliedSec, f.scheduledSec)}`}</td><td>${f.healScheduledSec === null ? '—' : `+${formatSec(f.healScheduledSec)}`}</td><td>${f.healedSec === null ? (f.appliedSec === null ? '—' : 'at the end') : `+${formatSec(f.healedSec)}${skew(f.healedSec, f.healScheduledSec)}`}</td><td>${f.error ? `<span class="bad-text">${esc(f.error)}</span>` : ''}</td></tr>`,
  );
  const loads = t.loadChanges.map((l) => `<tr><td><code>${esc(l.step)}</code></td><td>load ${esc(l.action)}${l.rate === null ? '' : ` → ${l.rate} req/s`}</td><td colspan="5">+${formatSec(l.atSec)}</td></tr>`);
  return `<table class="events"><thead><tr><th>step</th><th>what</th><th>scheduled</th><th>applied</th><th>heal scheduled</th><th>healed</th><th></th></tr></thead><tbody>${[...rows, ...loads].join('')}</tbody></table>`;
}

interface AssertionGroup {
  name: string;
  first: AssertionResult;
  byVariant: Map<string, AssertionResult>;
}

function groupAssertions(variants: VariantResult[]): AssertionGroup[] {
  const groups = new Map<string, AssertionGroup>();
  for (const v of variants) {
    for (const a of v.assertions) {
      let g = groups.get(a.name);
      if (!g) groups.set(a.name, (g = { name: a.name, first: a, byVariant: new Map() }));
      g.byVariant.set(v.name, a);
    }
  }
  return [...groups.values()];
}

function outcomeChip(a: AssertionResult): string {
  const text = `${a.outcome}${a.passed ? '' : ` (expected ${a.expected})`}`;
  return chip(a.passed ? 'pass' : a.outcome === 'no-data' ? 'warn' : 'fail', `${a.passed ? '✓' : '✗'} ${text}`);
}

function stats(a: AssertionResult, unit: Unit): string {
  const o = a.observed;
  return `${o.samples} samples · min ${formatValue(o.min, unit)} · mean ${formatValue(o.mean, unit)} · max ${formatValue(o.max, unit)} · last ${formatValue(o.last, unit)}`;
}

/** An assertion about recovering: its window starts at a heal, or it has a recovery allowance. */
export function isRecoveryAssertion(a: AssertionResult): boolean {
  return a.window.label.startsWith('after ') || recoveryAllowanceSec(a) !== null;
}

/** The `recoverWithin` of the assertion, as the judge's reason states it. */
export function recoveryAllowanceSec(a: AssertionResult): number | null {
  const m = /within ([\d.]+)s of the heal/.exec(a.reason);
  return m ? Number(m[1]) : null;
}

function ttrText(a: AssertionResult): string {
  if (a.timeToRecoverSec === undefined || !isRecoveryAssertion(a)) return '';
  // "Never" is the expected answer while a fault is meant to break the condition; red only when it matters.
  if (a.timeToRecoverSec === null) return `<div class="ttr-text ${a.passed ? 'muted' : 'bad-text'}">time to recover: never (the condition did not hold for good within the window)</div>`;
  const allowance = recoveryAllowanceSec(a);
  return `<div class="ttr-text">time to recover: <b>${trimNumber(a.timeToRecoverSec, 3)} s</b> after the heal${allowance !== null ? ` (allowed ${trimNumber(allowance, 3)} s)` : ''}</div>`;
}

const CSS = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--soft)}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:0}small,.small{font-size:12px}.muted{color:var(--muted)}code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff1f3;padding:1px 4px;border-radius:4px}
header{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:16px 18px;display:grid;grid-template-columns:1fr auto;gap:6px 16px}
.big{font-size:20px;font-weight:700;padding:6px 14px;border-radius:6px;color:#fff;align-self:start;text-align:center}
.big.pass{background:var(--pass)}.big.fail{background:var(--fail)}
.meta{grid-column:1/-1;display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin-top:8px}
.meta span:nth-child(odd){color:var(--muted)}
.cmd{display:flex;gap:8px;align-items:center}.cmd code{font-size:13px;padding:3px 6px;user-select:all}
button{font:12px sans-serif;border:1px solid var(--line);background:var(--soft);border-radius:5px;padding:2px 8px;cursor:pointer}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:12px}
.card{background:var(--bg);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:12px 14px}
.card.ok{border-left-color:var(--pass)}.card.bad{border-left-color:var(--fail)}
.card-head{display:flex;gap:8px;align-items:center;margin-bottom:4px}.expect{margin:4px 0 8px}
.kv{display:grid;grid-template-columns:92px 1fr;gap:8px;padding:2px 0;border-top:1px dashed #eaeef2}.kv>span:first-child{color:var(--muted)}
.chip{display:inline-block;font-size:12px;font-weight:600;padding:1px 8px;border-radius:10px;border:1px solid}
.chip.pass{color:var(--pass);border-color:#4ac26b;background:#dafbe1}.chip.fail{color:var(--fail);border-color:#ff8182;background:#ffebe9}
.chip.warn{color:var(--warn);border-color:#d4a72c;background:#fff8c5}.chip.info{color:#0969da;border-color:#54aeff;background:#ddf4ff}
.error{margin-top:8px;padding:6px 8px;background:#ffebe9;border:1px solid #ff8182;border-radius:6px}
.bad-text{color:var(--fail)}
.panel{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin-bottom:12px}
.panel h3{display:flex;gap:8px;align-items:baseline}
table.events{border-collapse:collapse;width:100%;font-size:13px;margin-top:6px}
table.events th,table.events td{text-align:left;padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
table.events th{color:var(--muted);font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:2px 0 10px}
.sw{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
.variant-chart{border:1px solid #eaeef2;border-radius:6px;padding:8px 10px}
.variant-chart .vh{display:flex;gap:8px;align-items:center;justify-content:space-between}
.variant-chart .reason{font-size:12px;color:var(--muted);margin:4px 0 0}
.chart-wrap{position:relative}
.query{display:block;white-space:pre-wrap;word-break:break-all;margin:4px 0}
svg{display:block;width:100%;height:auto;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
.plot-bg{fill:#fff}.window{fill:#0969da;fill-opacity:.06;stroke:#0969da;stroke-opacity:.35;stroke-dasharray:2 3}
.fault{fill:#cf222e;fill-opacity:.12}
.ttr-label,.deadline-label,.threshold-label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.end{text-anchor:end}.fault-label{font-size:10px;fill:#a40e26}
.grid{stroke:#eaeef2}.axis{stroke:#8c959f}.xtick{stroke:#8c959f}
.tick{font-size:10px;fill:#656d76}.tick.y{text-anchor:end}.tick.x{text-anchor:middle}
.threshold{stroke:#bc4c00;stroke-width:1.4;stroke-dasharray:6 4}.threshold-label{font-size:10.5px;fill:#bc4c00;text-anchor:end;font-weight:600}
.series{fill:none;stroke-width:1.8;stroke-linejoin:round}.pt.bad{stroke:#fff;stroke-width:.8}
.ttr{stroke:#1a7f37;stroke-width:1.4}.deadline{stroke:#1a7f37;stroke-width:1;stroke-dasharray:2 3}.deadline-label{font-size:10px;fill:#1a7f37}
.params div{margin:1px 0}mark{background:#fff8c5;border-radius:3px;padding:0 2px;color:inherit}.ttr-label{font-size:10.5px;fill:#1a7f37;font-weight:600}
.ttr-text{font-size:13px;margin-top:4px}
.empty{font-size:12px;fill:#9a6700;text-anchor:middle}
.cursor{stroke:#57606a;stroke-dasharray:3 3}
.tip{position:absolute;pointer-events:none;background:rgba(31,35,40,.92);color:#fff;font-size:12px;padding:4px 7px;border-radius:5px;white-space:nowrap;display:none;z-index:2}
.timeline .row-label{font-size:12px;text-anchor:end;fill:#1f2328}
.timeline .scheduled{fill:none;stroke:#8c959f;stroke-dasharray:3 2}
.timeline .applied{fill:#cf222e;fill-opacity:.75}.timeline .applied.failed{fill:#9a6700}
.timeline .bar-label{font-size:11px;fill:#1f2328}.timeline .bar-label.inside{fill:#fff}.timeline .bar-label.before{text-anchor:end}
.timeline .phase-label{font-size:11px;fill:#1f2328}
.timeline .load-mark{fill:#8250df}
details{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px 14px}
summary{cursor:pointer;font-weight:600}
pre.journal{font-size:11.5px;max-height:480px;overflow:auto;background:var(--soft);padding:8px;border-radius:6px}
footer{margin-top:24px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}.tip,button{display:none}}
`;

// Hover read-out and copy button. Kept small and defensive: the report must work without it.
const SCRIPT = `
(function(){
  var data = {};
  try { JSON.parse(document.getElementById('chart-data').textContent).forEach(function(c){ data[c.id] = c; }); } catch (e) { return; }
  function fmt(v, unit){
    if (v === null) return '—';
    if (unit === 'seconds') return Math.abs(v) < 1 ? (+(v*1000).toPrecision(3)) + ' ms' : (+v.toPrecision(3)) + ' s';
    return String(+v.toPrecision(4));
  }
  document.querySelectorAll('svg.chart').forEach(function(svg){
    var c = data[svg.id]; if (!c) return;
    var tip = svg.parentNode.querySelector('.tip'); var cursor = svg.querySelector('.cursor');
    svg.addEventListener('mousemove', function(ev){
      var m = svg.getScreenCTM(); if (!m) return;
      var pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY; var p = pt.matrixTransform(m.inverse());
      if (p.x < c.box.left || p.x > c.box.left + c.box.width) { tip.style.display = 'none'; cursor.setAttribute('visibility','hidden'); return; }
      var t = c.x[0] + (p.x - c.box.left) / c.box.width * (c.x[1] - c.x[0]);
      var best = null;
      c.series.forEach(function(s){ s.points.forEach(function(q){ if (best === null || Math.abs(q[0]-t) < Math.abs(best-t)) best = q[0]; }); });
      if (best === null) return;
      var lines = ['+' + (+best.toFixed(2)) + 's'];
      c.series.forEach(function(s){ s.points.forEach(function(q){ if (q[0] === best) lines.push((c.series.length > 1 ? s.name + ': ' : '') + fmt(q[1], c.unit)); }); });
      var x = c.box.left + (best - c.x[0]) / (c.x[1] - c.x[0]) * c.box.width;
      cursor.setAttribute('x1', x); cursor.setAttribute('x2', x); cursor.setAttribute('visibility','visible');
      tip.textContent = lines.join('  ·  ');
      var r = svg.getBoundingClientRect(); var px = (x / ${CW}) * r.width;
      tip.style.display = 'block'; tip.style.left = Math.min(px + 10, r.width - tip.offsetWidth - 4) + 'px'; tip.style.top = Math.round((c.box.top / ${CH}) * r.height + 4) + 'px';
    });
    svg.addEventListener('mouseleave', function(){ tip.style.display = 'none'; cursor.setAttribute('visibility','hidden'); });
  });
  var btn = document.getElementById('copy');
  if (btn) btn.addEventListener('click', function(){
    var text = document.getElementById('replay').textContent;
    function done(){ btn.textContent = 'copied'; setTimeout(function(){ btn.textContent = 'copy'; }, 1500); }
    function select(){ var r = document.createRange(); r.selectNodeContents(document.getElementById('replay')); var s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, select); else select();
  });
})();
`;

function legendHtml(): string {
  const item = (style: string, text: string) => `<span><span class="sw" style="${style}"></span>${esc(text)}</span>`;
  return `<div class="legend">${[
    item('background:rgba(207,34,46,.18)', 'fault active (applied → healed)'),
    item('background:rgba(9,105,218,.08);outline:1px dashed rgba(9,105,218,.5)', 'window the verdict judged'),
    item('border-top:2px dashed #bc4c00;height:0;border-radius:0', 'threshold of the condition'),
    item('background:#cf222e;border-radius:50%;width:8px;height:8px', 'sample outside the condition'),
    item('border-left:2px solid #1a7f37;height:12px;width:0;border-radius:0', 'time to recover'),
  ].join('')}</div>`;
}

export function renderHtmlReport(result: RunResult, journalRecords: readonly JournalRecord[]): string {
  const timelines = new Map(result.variants.map((v) => [v.name, variantTimeline(v, journalRecords)]));
  // One time axis for the whole page, so every chart and timeline lines up.
  const maxDuration = Math.max(1, ...[...timelines.values()].map((t) => t.durationSec));
  const domain: [number, number] = [0, maxDuration];
  const started = Date.parse(result.startedAt);
  const ended = Date.parse(result.endedAt);
  const wall = Number.isFinite(started) && Number.isFinite(ended) ? formatSec(Math.round((ended - started) / 100) / 10) : '—';
  const chartData: ChartData[] = [];
  const overall = result.passed;
  const differing = differingParams(result.variants);

  const sections: string[] = [];
  sections.push(`<header>
<div><h1>${esc(result.title)}</h1><div class="muted">scenario <code>${esc(result.scenario)}</code>${result.control ? ' · ' + chip('info', 'control run: same load, no faults') : ''}</div></div>
<div class="big ${overall ? 'pass' : 'fail'}">${overall ? 'PASS' : 'FAIL'}<div class="small" style="font-weight:400">${overall ? 'every variant met its expectation' : 'not every variant met its expectation'}</div></div>
<div class="meta">
<span>replay</span><span class="cmd"><code id="replay">${esc(result.command)}</code><button id="copy" type="button">copy</button></span>
<span>seed</span><span><code>${result.seed}</code></span>
<span>started</span><span>${esc(result.startedAt)} <span class="muted">(${wall} in all)</span></span>
<span>run folder</span><span><code>${esc(result.runDir)}</code></span>
${tracesRow(result)}</div>
</header>`);

  sections.push(`<h2>Verdict per variant</h2><div class="cards">${result.variants.map((v) => variantCard(v, result.control, differing)).join('')}</div>`);
  if (result.variants.length === 0) sections.push('<p class="muted">No variant ran (see the journal below).</p>');

  sections.push('<h2>Timeline</h2>');
  for (const v of result.variants) {
    const t = timelines.get(v.name)!;
    sections.push(`<div class="panel"><h3>${esc(v.name)} <span class="muted small">load ran ${formatSec(t.durationSec)}; t = 0 is the load's start</span></h3>${renderTimeline(t, domain)}${faultTable(t)}</div>`);
  }

  const groups = groupAssertions(result.variants);
  sections.push(`<h2>Assertions</h2>${legendHtml()}`);
  let chartIndex = 0;
  for (const g of groups) {
    const a0 = g.first;
    const condition = parseCondition(a0.condition);
    const unit = unitOf(a0.query);
    const yDomain = yDomainFor([...g.byVariant.values()], condition);
    const cols: string[] = [];
    for (const v of result.variants) {
      const a = g.byVariant.get(v.name);
      if (!a) {
        cols.push(`<div class="variant-chart"><div class="vh"><b>${esc(v.name)}</b></div><p class="muted small">not evaluated in this variant</p></div>`);
        continue;
      }
      const id = `chart-${chartIndex++}`;
      const { svg, data } = renderChart({ id, assertion: a, t0: v.t0, timeline: timelines.get(v.name)!, xDomain: domain, yDomain, unit, condition });
      chartData.push(data);
      cols.push(`<div class="variant-chart"><div class="vh"><b>${esc(v.name)}</b>${outcomeChip(a)}</div>
<div class="chart-wrap">${svg}<div class="tip"></div></div>
<p class="reason">${esc(a.reason)}</p><p class="reason">${esc(stats(a, unit))}</p>${ttrText(a)}</div>`);
    }
    sections.push(`<div class="panel"><h3>${esc(g.name)}</h3>
${a0.description ? `<p class="muted" style="margin:2px 0">${esc(a0.description)}</p>` : ''}
<code class="query">${esc(a0.query)}</code>
<div class="small muted">condition: <b>${esc(a0.over)}</b> samples <b>${esc(a0.condition)}</b> over ${esc(a0.window.label)} (+${formatSec(a0.window.startMs / 1000)} to +${formatSec(a0.window.endMs / 1000)})</div>
<div class="grid2" style="margin-top:8px">${cols.join('')}</div></div>`);
  }
  if (groups.length === 0) sections.push('<p class="muted">No assertion was judged.</p>');

  const journalText = journalRecords.map((r) => JSON.stringify(r)).join('\n');
  sections.push(`<h2>Journal</h2><details><summary>${journalRecords.length} events, as the run recorded them (journal.json)</summary><pre class="journal">${esc(journalText)}</pre></details>`);
  sections.push(`<footer>chaoslab report · rebuild with <code>npx chaoslab report ${esc(result.runDir)}</code> · Prometheus data in <code>prometheus/data</code></footer>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(`${overall ? 'PASS' : 'FAIL'} ${result.scenario} (seed ${result.seed}) — chaoslab`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${sections.join('\n')}
</main>
<script type="application/json" id="chart-data">${scriptJson(chartData)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
