/**
 * The game day's section of report.html: three lanes on one time axis: what the fault did, what the metrics
 * showed (the SLO series, first signal, recovery), what the team did. Static SVG: no script, fits the report's CSP.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FaultRecord } from '../run/result.js';
import type { Deal } from './deal.js';
import type { Score, SloSeries } from './score.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const W = 960;
const LEFT = 110;
const LANE = 70;

const secs = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

/** `series`: the SLO series the score was judged from (the first one is drawn). */
export function lanesHtml(deal: Deal, score: Score, faults: FaultRecord[], series: readonly SloSeries[]): string {
  const end = Math.max(score.endedMs, 1000);
  const x = (ms: number): number => LEFT + ((W - LEFT - 10) * Math.min(Math.max(ms, 0), end)) / end;
  const parts: string[] = [];
  const laneY = (i: number): number => 20 + i * LANE;
  ['fault', 'metrics', 'team'].forEach((name, i) => {
    parts.push(`<text x="4" y="${laneY(i) + LANE / 2}" class="lane">${name}</text><line x1="${LEFT}" x2="${W - 10}" y1="${laneY(i) + LANE - 4}" y2="${laneY(i) + LANE - 4}" stroke="#d0d7de"/>`);
  });
  // Fault lane.
  for (const f of faults) {
    if (f.appliedMs === null) continue;
    const x1 = x(f.appliedMs);
    const x2 = x(f.healedMs ?? end);
    parts.push(`<rect x="${x1}" y="${laneY(0) + 14}" width="${Math.max(2, x2 - x1)}" height="26" fill="#cf222e" opacity="0.75"><title>${esc(`${f.step}: ${f.description}`)}</title></rect><text x="${x1 + 4}" y="${laneY(0) + 10}" class="small">${esc(f.description)}</text>`);
  }
  // Metrics lane: the first SLO series, its threshold, the first signal and the recovery.
  const first = series[0];
  const s = first ? { name: first.name, threshold: first.condition.threshold, points: first.points } : undefined;
  if (s) {
    const values = s.points.map(([, v]) => v).filter(Number.isFinite);
    const top = Math.max(s.threshold * 2, ...values.map((v) => Math.min(v, s.threshold * 4)));
    const y = (v: number): number => laneY(1) + LANE - 6 - ((LANE - 12) * Math.min(v, top)) / top;
    const pts = s.points.filter(([, v]) => Number.isFinite(v)).map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    parts.push(`<line x1="${LEFT}" x2="${W - 10}" y1="${y(s.threshold)}" y2="${y(s.threshold)}" stroke="#57606a" stroke-dasharray="4 3"><title>SLO threshold ${s.threshold}</title></line>`);
    if (pts.length) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#0969da" stroke-width="1.5"><title>${esc(s.name)}</title></polyline>`);
  }
  for (const [ms, label, color] of [
    [score.firstSignalMs, 'first signal', '#cf222e'],
    [score.recoveredMs, 'recovered', '#1a7f37'],
  ] as const) {
    if (ms !== null) parts.push(`<line x1="${x(ms)}" x2="${x(ms)}" y1="${laneY(1)}" y2="${laneY(1) + LANE - 4}" stroke="${color}" stroke-width="2"><title>${label} at ${secs(ms)}</title></line><text x="${x(ms) + 3}" y="${laneY(1) + 10}" class="small" fill="${color}">${label}</text>`);
  }
  // Team lane.
  score.actions
    .filter((a) => a.by !== 'lab')
    .forEach((a, i) => {
      const cx = x(a.atMs);
      parts.push(`<circle cx="${cx}" cy="${laneY(2) + 30}" r="5" fill="${a.ok ? (a.by === 'team' ? '#8250df' : '#bf8700') : '#8c959f'}"><title>${esc(`${secs(a.atMs)} ${a.by} ${a.kind}${a.text ? `: ${a.text}` : ''}`)}</title></circle><text x="${cx + 6}" y="${laneY(2) + 18 + (i % 3) * 14}" class="small">${esc(a.kind)}</text>`);
    });
  const rows: [string, string][] = [
    ['hidden fault', `${deal.description}, on at ${secs(score.faultStartMs)}`],
    ['first signal', secs(score.firstSignalMs)],
    ['declared', `${secs(score.declaredMs)} (time to detect ${score.ttdSeconds ?? '—'} s)`],
    ['recovered', `${secs(score.recoveredMs)} (time to mitigate ${score.ttmSeconds ?? '—'} s; ${typeof score.recoveredBy === 'object' && score.recoveredBy ? `after ${score.recoveredBy.kind} ${score.recoveredBy.text}` : (score.recoveredBy ?? 'not recovered')})`],
    ['error budget', score.errorBudget ? `${score.errorBudget.bad} of ${score.errorBudget.total} requests bad: ${Math.round(score.errorBudget.burned * 100)} % of the game's budget at ${score.errorBudget.target * 100} %` : '—'],
    ['hints used', String(score.hintsUsed)],
  ];
  return `<section id="gameday"><h2>Game day: team ${esc(score.team)}, seed ${score.seed}</h2>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<svg viewBox="0 0 ${W} ${20 + 3 * LANE}" width="100%" role="img" aria-label="fault, metrics and team lanes"><style>.lane{font:600 13px sans-serif}.small{font:11px sans-serif}</style>${parts.join('')}
<text x="${LEFT}" y="${20 + 3 * LANE}" class="small">0 s</text><text x="${W - 60}" y="${20 + 3 * LANE}" class="small">${secs(end)}</text></svg>
<p>score.json and debrief.md are beside this report.</p></section>`;
}

/** Puts the section at the top of the run's report.html (the report writer made it when the run ended). */
export function insertLanes(runDir: string, section: string): void {
  const file = path.join(runDir, 'report.html');
  if (!existsSync(file)) {
    writeFileSync(file, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>game day</title></head><body><main>\n${section}\n</main></body></html>\n`);
    return;
  }
  const html = readFileSync(file, 'utf8');
  writeFileSync(file, html.includes('<main>\n') ? html.replace('<main>\n', `<main>\n${section}\n`) : html.replace('</body>', `${section}\n</body>`));
}
