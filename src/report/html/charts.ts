/**
 * The page's pictures, drawn here as static SVG so they show without JavaScript: one series chart per assertion
 * and variant (the judged window, fault spans, threshold, time to recover) and one timeline per variant.
 */
import { satisfies, type Condition } from '../../check/condition.js';
import { formatNumber, formatSeconds, type Unit } from '../../common/format.js';
import type { Series } from '../../observe/prometheus-client.js';
import type { AssertionResult } from '../../run/result.js';
import type { ChartData } from './chart-data.js';
import { esc, formatTick, formatValue } from './format.js';
import { isRecoveryAssertion, recoveryAllowanceSec, type VariantTimeline } from './model.js';

export type { ChartData } from './chart-data.js';

const SERIES_COLORS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#9a6700', '#0a7b83', '#cf6b00', '#57606a'];
const PHASE_COLORS: Record<string, string> = { setup: '#d0d7de', steady: '#8dd3a0', fault: '#f2a09b', recovery: '#f5cf7a', teardown: '#d0d7de' };

/** The series chart's viewBox and the margins around its plot. */
export const CHART_SIZE = { width: 560, height: 230 } as const;
const PAD = { left: 58, right: 16, top: 26, bottom: 28 };

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** Round values from `lo` to `hi`, about `count` of them. */
export function ticks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
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

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).filter(([k]) => k !== '__name__');
  if (entries.length === 0) return labels['__name__'] ?? 'value';
  return `${labels['__name__'] ?? ''}{${entries.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

export interface ChartInput {
  id: string;
  assertion: AssertionResult;
  /** Unix ms of the variant's load start: t = 0 on the x axis. */
  t0: number;
  timeline: VariantTimeline;
  xDomain: [number, number];
  yDomain: [number, number];
  unit: Unit;
  condition: Condition | null;
}

export function renderChart(c: ChartInput): { svg: string; data: ChartData } {
  const a = c.assertion;
  const CW = CHART_SIZE.width;
  const CH = CHART_SIZE.height;
  const box = { left: PAD.left, top: PAD.top, width: CW - PAD.left - PAD.right, height: CH - PAD.top - PAD.bottom };
  const [x0, x1] = c.xDomain;
  const [y0, y1] = c.yDomain;
  const X = (s: number) => box.left + ((s - x0) / (x1 - x0 || 1)) * box.width;
  const Y = (v: number) => box.top + box.height - ((v - y0) / (y1 - y0 || 1)) * box.height;
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
  parts.push(`<rect class="window" x="${r1(wa)}" y="${box.top}" width="${r1(Math.max(0, wb - wa))}" height="${box.height}"><title>${esc(`judged window: ${a.window.label} (+${formatSeconds(a.window.startMs / 1000)} to +${formatSeconds(a.window.endMs / 1000)})`)}</title></rect>`);

  // Fault windows, as the lab applied and healed them. Labels go in two lanes above the plot so
  // faults that start close together stay readable; the full text is in each window's tooltip.
  const laneEnds = [-Infinity, -Infinity];
  for (const f of c.timeline.faults) {
    const fa = X(clampX(f.fromSec));
    const fb = X(clampX(f.toSec));
    const w = Math.max(fb - fa, 1.5);
    parts.push(`<rect class="fault" x="${r1(fa)}" y="${box.top}" width="${r1(w)}" height="${box.height}"><title>${esc(`fault ${f.step}: ${f.description} (+${formatSeconds(f.fromSec)} to +${formatSeconds(f.toSec)})`)}</title></rect>`);
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
  const data: ChartData = { id: c.id, x: c.xDomain, y: c.yDomain, box, size: { width: CW, height: CH }, series: [] };
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
    data.series.push({
      name: labelText(s.labels),
      color,
      points: pts.map(([t, v]) => {
        const value = Number.isFinite(v) ? v : null;
        return [Math.round(t * 1000) / 1000, value, `+${formatNumber(Math.round(t * 100) / 100, { digits: 4 })}s`, formatValue(value, c.unit)];
      }),
    });
  });

  // Time to recover, measured from the window's start (a heal), against the allowance if there is one.
  const allowance = recoveryAllowanceSec(a);
  if (allowance !== null && isRecoveryAssertion(a)) {
    const at = a.window.startMs / 1000 + allowance;
    if (at >= x0 && at <= x1) {
      const x = r1(X(at));
      parts.push(`<line class="deadline" x1="${x}" x2="${x}" y1="${box.top}" y2="${box.top + box.height}"><title>${esc(`the condition must hold from +${formatSeconds(at)} (${formatNumber(allowance)}s after the heal)`)}</title></line>`);
      parts.push(lineLabel(x, box.top + 22, `allowed ${formatNumber(allowance)}s`, 'deadline-label'));
    }
  }
  if (typeof a.timeToRecoverSec === 'number' && isRecoveryAssertion(a)) {
    const at = a.window.startMs / 1000 + a.timeToRecoverSec;
    if (at >= x0 && at <= x1) {
      const x = r1(X(at));
      parts.push(`<line class="ttr" x1="${x}" x2="${x}" y1="${box.top}" y2="${box.top + box.height}"><title>${esc(`condition held for good from +${formatSeconds(at)}`)}</title></line>`);
      parts.push(lineLabel(x, box.top + 11, `recovered +${formatNumber(a.timeToRecoverSec)}s`, 'ttr-label'));
    }
  }
  if (a.series.length === 0) {
    parts.push(`<text class="empty" x="${box.left + box.width / 2}" y="${box.top + box.height / 2}">no data: Prometheus returned no series</text>`);
  }
  parts.push(`<line class="cursor" x1="0" x2="0" y1="${box.top}" y2="${box.top + box.height}" visibility="hidden"/>`);
  parts.push('</svg>');
  return { svg: parts.join(''), data };
}

/** One variant's timeline: phases, each fault's scheduled and actual span, load changes. */
export function renderTimeline(t: VariantTimeline, domain: [number, number]): string {
  const W = 1100;
  const left = 170;
  const right = 20;
  const rowH = 24;
  const rows = 1 + t.faults.length + (t.actions.length ? 1 : 0) + (t.loadChanges.length ? 1 : 0);
  const top = 8;
  const H = top + rows * rowH + 26;
  const width = W - left - right;
  const X = (s: number) => left + ((Math.min(Math.max(s, domain[0]), domain[1]) - domain[0]) / (domain[1] - domain[0] || 1)) * width;
  const p: string[] = [];
  p.push(`<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`timeline of variant ${t.variant}`)}">`);
  let y = top;
  p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">phase</text>`);
  for (const ph of t.phases) {
    const a = X(ph.fromSec);
    const b = X(ph.toSec);
    p.push(`<rect class="phase" x="${r1(a)}" y="${y + 4}" width="${r1(Math.max(0, b - a))}" height="${rowH - 8}" fill="${PHASE_COLORS[ph.phase] ?? '#d0d7de'}"><title>${esc(`${ph.phase}: +${formatSeconds(ph.fromSec)} to +${formatSeconds(ph.toSec)}`)}</title></rect>`);
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
    const tip = `${f.description}\nscheduled +${formatSeconds(f.scheduledSec)}${f.healScheduledSec !== null ? ` to +${formatSeconds(f.healScheduledSec)}` : ''}\napplied ${f.appliedSec === null ? 'never' : `+${formatSeconds(f.appliedSec)}`}, healed ${f.healedSec === null ? (f.appliedSec === null ? '—' : 'at the end of the run') : `+${formatSeconds(f.healedSec)}`}${f.error ? `\nerror: ${f.error}` : ''}`;
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
  if (t.actions.length) {
    // Operator actions are instants: a mark each, like load changes, with the call in the tooltip.
    p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">actions</text>`);
    for (const a of t.actions) {
      const x = r1(X(a.atSec));
      p.push(`<path class="${a.error ? 'load-mark failed' : 'load-mark'}" d="M${x} ${y + 5}l6 7l-6 7l-6 -7z"><title>${esc(`${a.step}: ${a.description} at +${formatSeconds(a.atSec)}${a.error ? `\nerror: ${a.error}` : ''}`)}</title></path>`);
      p.push(`<text class="bar-label" x="${x + 9}" y="${y + 16}">${esc(a.step)}</text>`);
    }
    y += rowH;
  }
  if (t.loadChanges.length) {
    p.push(`<text class="row-label" x="${left - 10}" y="${y + 16}">load</text>`);
    for (const l of t.loadChanges) {
      const x = r1(X(l.atSec));
      p.push(`<path class="load-mark" d="M${x} ${y + 5}l6 7l-6 7l-6 -7z"><title>${esc(`${l.step} ${l.action}: ${l.rate === null ? '' : `${l.rate} req/s `}at +${formatSeconds(l.atSec)}`)}</title></path>`);
      p.push(`<text class="bar-label" x="${x + 9}" y="${y + 16}">${esc(`${l.rate === null ? l.action : `${formatNumber(l.rate, { digits: 4 })}/s`}`)}</text>`);
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
