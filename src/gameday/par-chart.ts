/**
 * Par's chart: error budget burned against time to mitigate, one line per seed through its sweep times, par
 * ringed. A self-contained SVG (par.svg) and a page around it with the numbers (par.html). Pure.
 */
import type { ParDoc } from './par.js';

const W = 640;
const H = 360;
const M = { left: 64, right: 24, top: 28, bottom: 48 };
const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#57606a'];

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** A round axis maximum at or above `v`: 1, 2 or 5 × 10^n. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

export function parSvg(doc: ParDoc): string {
  const pts = doc.seeds.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...pts.map((p) => p.ttmSeconds ?? 0), ...doc.sweepSeconds) * 1.1);
  const yMax = niceMax(Math.max(0.01, ...pts.map((p) => p.errorBudgetBurned)) * 1.1);
  const x = (v: number): number => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui,sans-serif" font-size="11">`,
    `<title>${esc(`${doc.scenario}: error budget burned against time to mitigate`)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax * i) / 5;
    const yv = (yMax * i) / 5;
    out.push(`<line x1="${x(xv)}" y1="${y(0)}" x2="${x(xv)}" y2="${y(yMax)}" stroke="#eaeef2"/><text x="${x(xv)}" y="${y(0) + 14}" text-anchor="middle">${+xv.toFixed(2)}</text>`);
    out.push(`<line x1="${x(0)}" y1="${y(yv)}" x2="${x(xMax)}" y2="${y(yv)}" stroke="#eaeef2"/><text x="${x(0) - 6}" y="${y(yv) + 4}" text-anchor="end">${+(yv * 100).toFixed(1)} %</text>`);
  }
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">time to mitigate (s, from the fault's start)</text>`);
  out.push(`<text x="14" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(M.top + H - M.bottom) / 2})">error budget burned</text>`);
  doc.seeds.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const done = s.points.filter((p) => p.recovered && p.ttmSeconds !== null).sort((a, b) => a.atSeconds - b.atSeconds);
    if (done.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${done.map((p) => `${x(p.ttmSeconds!)},${y(p.errorBudgetBurned)}`).join(' ')}"/>`);
    for (const p of s.points) {
      const label = `seed ${s.seed}, mitigated ${p.atSeconds} s after the fault: ${p.recovered ? `TTM ${p.ttmSeconds} s` : 'not recovered'}, ${p.badRequests} bad of ${p.totalRequests} requests (${Math.round(p.errorBudgetBurned * 100)} % of the budget)`;
      if (p.recovered && p.ttmSeconds !== null) {
        const isPar = s.par?.atSeconds === p.atSeconds;
        out.push(`<g class="point${isPar ? ' par' : ''}"><title>${esc(label)}</title><circle cx="${x(p.ttmSeconds)}" cy="${y(p.errorBudgetBurned)}" r="4" fill="${color}"/>${isPar ? `<circle cx="${x(p.ttmSeconds)}" cy="${y(p.errorBudgetBurned)}" r="8" fill="none" stroke="${color}" stroke-width="1.5"/>` : ''}<text x="${x(p.ttmSeconds) + 7}" y="${y(p.errorBudgetBurned) - 6}" fill="${color}">at ${p.atSeconds} s${isPar ? ' (par)' : ''}</text></g>`);
      } else {
        // Not recovered: on the right edge, hollow.
        out.push(`<g class="point unrecovered"><title>${esc(label)}</title><circle cx="${x(xMax)}" cy="${y(Math.min(p.errorBudgetBurned, yMax))}" r="4" fill="#fff" stroke="${color}"/><text x="${x(xMax) - 6}" y="${y(Math.min(p.errorBudgetBurned, yMax)) - 6}" text-anchor="end" fill="${color}">at ${p.atSeconds} s: not recovered</text></g>`);
      }
    }
    out.push(`<text x="${W - M.right - i * 70}" y="${M.top - 12}" text-anchor="end" fill="${color}">● seed ${s.seed}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

export function parHtml(doc: ParDoc): string {
  const rows = doc.seeds
    .flatMap((s) =>
      s.points.map(
        (p) =>
          `<tr${s.par?.atSeconds === p.atSeconds ? ' class="par"' : ''}><td>${s.seed}</td><td>${p.atSeconds} s</td><td>${p.recovered ? `${p.ttmSeconds} s` : 'not recovered'}</td><td>${p.badRequests} / ${p.totalRequests}</td><td>${Math.round(p.errorBudgetBurned * 1000) / 10} %</td><td>${s.par?.atSeconds === p.atSeconds ? 'par' : esc(p.error ?? '')}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>par: ${esc(doc.scenario)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}tr.par{background:#fff8c5}</style></head>
<body><h1>Par: ${esc(doc.scenario)}</h1>
<p>Mitigation: <code>${esc(doc.mitigation.join(' + '))}</code>, pushed ${doc.sweepSeconds.join(', ')} s after the dealt fault starts; each replay lasts ${doc.durationSeconds} s. SLO target ${doc.sloTarget * 100} % good requests.</p>
${parSvg(doc)}
<table><tr><th>seed</th><th>mitigated at</th><th>time to mitigate</th><th>bad / all requests</th><th>error budget burned</th><th></th></tr>
${rows}</table>
<p>${doc.median ? `Median par over the seeds: TTM ${doc.median.ttmSeconds} s, ${doc.median.badRequests} bad requests (${Math.round(doc.median.errorBudgetBurned * 1000) / 10} % of the budget).` : 'No replay recovered: no par.'}</p>
<p><small>${esc(doc.definition)}</small></p>
</body></html>
`;
}
