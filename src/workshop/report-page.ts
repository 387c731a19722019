/**
 * `workshop report`: one self-contained HTML page (no script, no network), per exercise a table of the attempts
 * (tier reached, each target's number) and one SVG chart per target where each attempt is a line, with the
 * tiers' thresholds as dashed lines: "measure, change one thing, measure again" at a glance.
 */
import { formatNumber } from '../common/format.js';
import { parseCondition } from '../check/condition.js';
import { escapeHtml as esc } from '../report/html/format.js';
import type { Attempt } from './attempts.js';
import { TIERS, type Exercise } from './exercise.js';

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const W = 520;
const H = 200;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

function attemptLabel(a: Attempt, i: number): string {
  return `${a.reference ? 'reference' : `#${i + 1}`} (seed ${a.seed})`;
}

function chart(exercise: Exercise, targetIndex: number, attempts: Attempt[]): string {
  const target = exercise.targets[targetIndex]!;
  // By assertion, not position: an attempt keeps the targets of the exercise as it was then.
  const lines = attempts.map((a) => a.grade?.targets.find((t) => t.assertion === target.assertion)?.points ?? []);
  const thresholds = TIERS.flatMap((tier) => {
    const c = target.tiers[tier] ? parseCondition(target.tiers[tier]!) : null;
    return c ? [{ tier, value: c.threshold }] : [];
  });
  const xs = lines.flat().map((p) => p[0]);
  const ys = [...lines.flat().map((p) => p[1]).filter(Number.isFinite), ...thresholds.map((t) => t.value)];
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1e-9, ...ys) * 1.1;
  const yMin = Math.min(0, ...ys);
  const x = (v: number) => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - ((v - yMin) / (yMax - yMin)) * (H - PAD.t - PAD.b);
  const paths = lines
    .map((pts, i) => {
      const d = pts.filter((p) => Number.isFinite(p[1])).map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
      return d ? `<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.5"><title>${esc(attemptLabel(attempts[i]!, i))}</title></path>` : '';
    })
    .join('');
  const rules = thresholds
    .map((t) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(t.value).toFixed(1)}" y2="${y(t.value).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/><text x="${W - PAD.r - 2}" y="${(y(t.value) - 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#666">${t.tier} ${esc(target.tiers[t.tier]!)}</text>`)
    .join('');
  const axes = `<line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#333"/><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#333"/>
<text x="${PAD.l - 4}" y="${PAD.t + 8}" font-size="10" text-anchor="end">${esc(formatNumber(yMax))}</text><text x="${PAD.l - 4}" y="${H - PAD.b}" font-size="10" text-anchor="end">${esc(formatNumber(yMin))}</text>
<text x="${W - PAD.r}" y="${H - 8}" font-size="10" text-anchor="end">${esc(formatNumber(xMax))} s into the window</text>`;
  return `<figure><figcaption>${esc(target.label)} <small>(${esc(target.assertion)})</small></figcaption><svg role="img" aria-label="${esc(target.label)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${axes}${rules}${paths}</svg></figure>`;
}

function table(exercise: Exercise, attempts: Attempt[]): string {
  const head = `<tr><th>attempt</th><th>when</th><th>tier</th>${exercise.targets.map((t) => `<th>${esc(t.label)}</th>`).join('')}<th>note</th></tr>`;
  const rows = attempts
    .map((a, i) => {
      const cells = exercise.targets.map((target) => {
        const g = a.grade?.targets.find((t) => t.assertion === target.assertion);
        return `<td>${g && g.value !== null ? esc(formatNumber(g.value)) : '–'}</td>`;
      });
      const note = a.problem ?? (a.grade?.moduleFailed ? `module failed ${a.grade.moduleFailed.failures} time(s)` : (a.grade?.next ? `next: ${a.grade.next.tier}: ${a.grade.next.target}` : ''));
      return `<tr><td><span class="dot" style="background:${COLOURS[i % COLOURS.length]}"></span>${esc(attemptLabel(a, i))}</td><td>${esc(a.at.replace('T', ' ').slice(0, 19))}</td><td class="tier">${esc(a.grade?.reached ?? 'none')}</td>${cells.join('')}<td>${esc(note)}</td></tr>`;
    })
    .join('');
  return `<table>${head}${rows}</table>`;
}

export function renderWorkshopReport(exercises: readonly Exercise[], attempts: readonly Attempt[]): string {
  const sections = exercises
    .map((ex) => {
      const mine = attempts.filter((a) => a.exercise === ex.number && a.id === ex.id);
      if (!mine.length) return `<section><h2>${ex.number}. ${esc(ex.title)}</h2><p class="none">No attempt yet: <code>chaoslab workshop start ${ex.number}</code>.</p></section>`;
      return `<section><h2>${ex.number}. ${esc(ex.title)}</h2><p>${esc(ex.goal)}</p>${table(ex, mine)}<div class="charts">${ex.targets.map((_, k) => chart(ex, k, mine)).join('')}</div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chaoslab workshop: attempts</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-weight:600}.none{color:#777}.tier{font-weight:600}</style>
</head><body><h1>Workshop attempts</h1><p>Each attempt is a line; dashed lines are the tiers' thresholds.</p>
${sections}
</body></html>
`;
}
