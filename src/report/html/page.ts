/** The HTML of report.html, assembled from the report model, the charts, the stylesheet and the page script. */
import { formatNumber, formatSeconds, type Unit } from '../../common/format.js';
import type { StoredJournalRecord as JournalRecord } from '../../run/journal.js';
import type { AssertionResult, RunResult, VariantResult } from '../../run/result.js';
import { RUN_VERDICTS } from '../verdict.js';
import { renderChart, renderTimeline, yDomainFor, type ChartData } from './charts.js';
import { esc, formatValue, scriptJson } from './format.js';
import { buildReportModel, counterexampleOf, isRecoveryAssertion, paramValue, recoveryAllowanceSec, type ReportModel, type VariantTimeline } from './model.js';
import { PAGE_SCRIPT } from './page-script.generated.js';
import { CSS } from './style.js';

/** Where the run's spans went, as a row of the header (nothing when tracing was off). */
function tracesRow(result: RunResult): string {
  const t = result.traces;
  if (!t || t.mode === 'off') return '';
  const every = 1 / t.sampleRatio;
  const share = t.sampleRatio >= 1 ? 'every request' : Number.isInteger(Math.round(every * 1000) / 1000) ? `1 request in ${Math.round(every)}` : `${Math.round(t.sampleRatio * 1000) / 10}% of requests`;
  if (t.mode === 'otlp') return `<span>traces</span><span>sent over OTLP to <code>${esc(t.endpoint)}</code> <span class="muted">(${share} traced)</span></span>\n`;
  return `<span>traces</span><span><code>${esc(t.file)}</code> in the run folder <span class="muted">(${t.spans ?? 0} spans; ${share} traced)</span></span>\n`;
}

function chip(kind: 'pass' | 'fail' | 'warn' | 'info', text: string): string {
  return `<span class="chip ${kind}">${esc(text)}</span>`;
}

function expectText(v: VariantResult): string {
  return v.expect === 'reproduce' ? 'should reproduce the incident' : 'should recover (hold its SLOs)';
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function loadLine(load: Record<string, unknown>): string {
  const n = (k: string) => finite(load[k]);
  const latency = load['latencyMs'] as Record<string, unknown> | undefined;
  const bits: string[] = [];
  if (n('sent') !== null) bits.push(`sent ${n('sent')}`);
  for (const k of ['ok', 'error', 'timeout', 'dropped']) if (n(k) !== null) bits.push(`${k} ${n(k)}`);
  if (n('achievedRate') !== null) bits.push(`${formatNumber(n('achievedRate'), { digits: 4 })} req/s${n('askedRate') !== null ? ` (asked ${formatNumber(n('askedRate'), { digits: 4 })})` : ''}`);
  if (latency) {
    const q = (k: string) => finite(latency[k]);
    const ms = (k: string) => formatValue(q(k)! / 1000, 'seconds');
    if (q('p50') !== null && q('p99') !== null) bits.push(`latency p50 ${ms('p50')} · p99 ${ms('p99')}${q('max') !== null ? ` · max ${ms('max')}` : ''}`);
  }
  return bits.join(' · ');
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
    // The counterexample has a section of its own (counterexampleSection).
    const cells = v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'counterexample').map(([k, x]) => `${esc(k)} <b>${esc(typeof x === 'string' ? x : JSON.stringify(x))}</b>`).join(' · ') : esc(JSON.stringify(v));
    return `<div class="kv"><span>checker ${esc(name)}</span><span>${cells}</span></div>`;
  });
  return rows.join('');
}

function variantCard(v: VariantResult, control: boolean, differing: Set<string>): string {
  const recoveries = v.assertions.filter((a) => isRecoveryAssertion(a) && a.timeToRecoverSec !== undefined);
  const held = v.assertions.filter((a) => a.passed).length;
  // An interrupted variant has no verdict: it says so instead of PASS or FAIL.
  const interrupted = v.status === 'interrupted';
  const verdict = interrupted ? chip('warn', 'INTERRUPTED') : v.passed ? chip('pass', 'PASS') : chip('fail', 'FAIL');
  const status = v.status === 'completed' || interrupted ? '' : chip('warn', v.status);
  const expectation = control ? 'control run: no faults, every assertion at its control expectation' : expectText(v);
  const what = v.status !== 'completed' ? `did not complete (${v.status})` : v.passed ? (control ? 'stayed healthy' : v.expect === 'reproduce' ? 'reproduced the incident' : 'recovered') : `${v.assertions.length - held} of ${v.assertions.length} assertion(s) not as expected`;
  return `<div class="card${interrupted ? '' : v.passed ? ' ok' : ' bad'}">
<div class="card-head"><h3>${esc(v.name)}${control ? ' <small>(control)</small>' : ''}</h3>${verdict}${status}</div>
<p class="expect">${esc(expectation)}: <b>${esc(what)}</b></p>
<div class="kv"><span>assertions</span><span>${interrupted ? 'not judged: the run was interrupted' : `${held} of ${v.assertions.length} as expected`}</span></div>
<div class="kv"><span>mitigations</span><span>${v.mitigations.length ? v.mitigations.map((m) => `<code>${esc(m)}</code>`).join(' ') : 'none'}</span></div>
${Object.keys(v.params).length ? `<div class="kv"><span>parameters</span><span class="small params">${paramsHtml(v.params, differing)}</span></div>` : ''}
${recoveries.map((a) => `<div class="kv"><span>recovery</span><span>${esc(a.name)}: ${typeof a.timeToRecoverSec === 'number' ? `<b>${formatNumber(a.timeToRecoverSec)} s</b>` : '<b class="bad-text">never</b>'}</span></div>`).join('')}
${v.load ? `<div class="kv"><span>load</span><span class="small">${esc(loadLine(v.load))}</span></div>` : ''}
${checkersHtml(v.checkers)}
${v.error ? `<div class="error"><b>${esc(v.error.code)}</b> ${esc(v.error.message)}${v.error.hint ? `<br><span class="small">hint: ${esc(v.error.hint)}</span>` : ''}</div>` : ''}
</div>`;
}

/** Porcupine's counterexample of a variant: the sentence, then the end of the order that held and the stale read. */
function counterexampleSection(v: VariantResult): string {
  const ce = counterexampleOf(v);
  if (!ce) return '';
  const at = (ms: number | null) => (ms === null ? '<span class="muted">never (indeterminate)</span>' : `${ms >= 0 ? '+' : '−'}${esc(formatValue(Math.abs(ms) / 1000, 'seconds'))}`);
  const rows = ce.order.map((o, i) => {
    const stale = i === ce.order.length - 1;
    const missed = !stale && ce.missedWrite !== undefined && o.process === ce.missedWrite.process && o.f === 'write' && o.value === ce.missedWrite.value;
    const what = `${o.f} ${o.value === '' ? '<span class="muted">nothing</span>' : `<code>${esc(o.value)}</code>`}`;
    // An indeterminate write was never acknowledged: Porcupine may order it, but the read did not "miss" it.
    const label = stale ? ` <span class="bad-text">← stale read (expected <code>${esc(ce.expected || 'nothing')}</code>)</span>` : missed ? (o.returnMs === null ? ' <mark>the value the order ends with</mark>' : ' <mark>the write it missed</mark>') : '';
    return `<tr${stale ? ' class="stale"' : ''}><td>${o.process}</td><td>${what}${label}</td><td>${at(o.callMs)}</td><td>${at(o.returnMs)}</td></tr>`;
  });
  return `<div class="panel counterexample"><h3>${esc(v.name)}: not linearizable on <code>${esc(ce.key)}</code></h3>
<p>${esc(ce.explanation)}</p>
<table class="events"><thead><tr><th>process</th><th>operation (the end of the longest order Porcupine could justify, then the read no order explains)</th><th>invoked</th><th>returned</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="small muted">Times from the stale read's invocation, on the host's monotonic clock (no clock fault moves it). The whole picture: <code>${esc(v.name)}/linearizability.html</code> (Porcupine's visualization) and <code>${esc(v.name)}/checker-linearizable.json</code>; the history: <code>${esc(v.name)}/register-history.jsonl</code> and <code>.edn</code> for Knossos.</p></div>`;
}

function faultTable(t: VariantTimeline): string {
  if (!t.faults.length && !t.loadChanges.length && !t.actions.length) return '<p class="muted">No faults in this variant.</p>';
  const skew = (actual: number | null, scheduled: number | null) => (actual === null || scheduled === null ? '' : ` <span class="muted">(${Math.round(Math.abs(actual - scheduled) * 10000) / 10} ms ${actual >= scheduled ? 'late' : 'early'})</span>`);
  const rows = t.faults.map(
    (f) => `<tr><td><code>${esc(f.step)}</code></td><td>${esc(f.description)}</td><td>+${formatSeconds(f.scheduledSec)}</td><td>${f.appliedSec === null ? '<span class="bad-text">not applied</span>' : `+${formatSeconds(f.appliedSec)}${skew(f.appliedSec, f.scheduledSec)}`}</td><td>${f.healScheduledSec === null ? '—' : `+${formatSeconds(f.healScheduledSec)}`}</td><td>${f.healedSec === null ? (f.appliedSec === null ? '—' : 'at the end') : `+${formatSeconds(f.healedSec)}${skew(f.healedSec, f.healScheduledSec)}`}</td><td>${f.error ? `<span class="bad-text">${esc(f.error)}</span>` : ''}</td></tr>`,
  );
  const loads = t.loadChanges.map((l) => `<tr><td><code>${esc(l.step)}</code></td><td>load ${esc(l.action)}${l.rate === null ? '' : ` → ${l.rate} req/s`}</td><td colspan="5">+${formatSeconds(l.atSec)}</td></tr>`);
  const actions = t.actions.map((a) => `<tr><td><code>${esc(a.step)}</code></td><td>action ${esc(a.description)}</td><td colspan="4">+${formatSeconds(a.atSec)}</td><td>${a.error ? `<span class="bad-text">${esc(a.error)}</span>` : ''}</td></tr>`);
  return `<table class="events"><thead><tr><th>step</th><th>what</th><th>scheduled</th><th>applied</th><th>heal scheduled</th><th>healed</th><th></th></tr></thead><tbody>${[...rows, ...actions, ...loads].join('')}</tbody></table>`;
}

function outcomeChip(a: AssertionResult): string {
  const text = `${a.outcome}${a.passed ? '' : ` (expected ${a.expected})`}`;
  return chip(a.passed ? 'pass' : a.outcome === 'no-data' ? 'warn' : 'fail', `${a.passed ? '✓' : '✗'} ${text}`);
}

function stats(a: AssertionResult, unit: Unit): string {
  const o = a.observed;
  return `${o.samples} samples · min ${formatValue(o.min, unit)} · mean ${formatValue(o.mean, unit)} · max ${formatValue(o.max, unit)} · last ${formatValue(o.last, unit)}`;
}

function ttrText(a: AssertionResult): string {
  if (a.timeToRecoverSec === undefined || !isRecoveryAssertion(a)) return '';
  // "Never" is the expected answer while a fault is meant to break the condition; red only when it matters.
  if (a.timeToRecoverSec === null) return `<div class="ttr-text ${a.passed ? 'muted' : 'bad-text'}">time to recover: never (the condition did not hold for good within the window)</div>`;
  const allowance = recoveryAllowanceSec(a);
  return `<div class="ttr-text">time to recover: <b>${formatNumber(a.timeToRecoverSec)} s</b> after the heal${allowance !== null ? ` (allowed ${formatNumber(allowance)} s)` : ''}</div>`;
}

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

function headerHtml(m: ReportModel): string {
  const { result } = m;
  const v = RUN_VERDICTS[m.verdict];
  return `<header>
<div><h1>${esc(result.title)}</h1><div class="muted">scenario <code>${esc(result.scenario)}</code>${result.control ? ' · ' + chip('info', 'control run: same load, no faults') : ''}</div></div>
<div class="big ${m.verdict}">${v.word}<div class="small" style="font-weight:400">${v.sentence}</div></div>
<div class="meta">
<span>replay</span><span class="cmd"><code id="replay">${esc(result.command)}</code><button id="copy" type="button">copy</button></span>
<span>seed</span><span><code>${result.seed}</code></span>
<span>started</span><span>${esc(result.startedAt)} <span class="muted">(${m.wall} in all)</span></span>
<span>run folder</span><span><code>${esc(result.runDir)}</code></span>
${tracesRow(result)}</div>
</header>`;
}

/** One panel per assertion: its query and condition, and its chart in every variant side by side. */
function assertionPanels(m: ReportModel, chartData: ChartData[]): string[] {
  const sections: string[] = [];
  let chartIndex = 0;
  for (const g of m.groups) {
    const a0 = g.first;
    const yDomain = yDomainFor([...g.byVariant.values()], g.condition);
    const cols: string[] = [];
    for (const v of m.result.variants) {
      const a = g.byVariant.get(v.name);
      if (!a) {
        cols.push(`<div class="variant-chart"><div class="vh"><b>${esc(v.name)}</b></div><p class="muted small">not evaluated in this variant</p></div>`);
        continue;
      }
      const id = `chart-${chartIndex++}`;
      const { svg, data } = renderChart({ id, assertion: a, t0: v.t0, timeline: m.timelines.get(v.name)!, xDomain: m.domain, yDomain, unit: g.unit, condition: g.condition });
      chartData.push(data);
      cols.push(`<div class="variant-chart"><div class="vh"><b>${esc(v.name)}</b>${outcomeChip(a)}</div>
<div class="chart-wrap">${svg}<div class="tip"></div></div>
<p class="reason">${esc(a.reason)}</p><p class="reason">${esc(stats(a, g.unit))}</p>${ttrText(a)}</div>`);
    }
    sections.push(`<div class="panel"><h3>${esc(g.name)}</h3>
${a0.description ? `<p class="muted" style="margin:2px 0">${esc(a0.description)}</p>` : ''}
<code class="query">${esc(a0.query)}</code>
<div class="small muted">condition: <b>${esc(a0.over)}</b> samples <b>${esc(a0.condition)}</b> over ${esc(a0.window.label)} (+${formatSeconds(a0.window.startMs / 1000)} to +${formatSeconds(a0.window.endMs / 1000)})</div>
<div class="grid2" style="margin-top:8px">${cols.join('')}</div></div>`);
  }
  return sections;
}

/** What the scenario replays: the incident's summary, its lesson and the public sources of its facts. */
function incidentHtml(result: RunResult): string {
  const i = result.incident;
  if (!i) return '';
  const sources = i.sources.length ? `<ul class="small">${i.sources.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` : '<span class="muted">none cited</span>';
  const assumed = i.assumed ? ` <span class="muted small">(${i.assumed} assumption(s) of the toy no source states: see the scenario's <code>assumed:</code>)</span>` : '';
  return `<section class="panel incident"><h2>The incident</h2>
<div class="meta">
<span>system</span><span>${esc(i.system)}, ${esc(i.date)}</span>
<span>summary</span><span>${esc(i.summary)}</span>
<span>lesson</span><span><b>${esc(i.lesson)}</b></span>
<span>sources</span><span>${sources}${assumed}</span>
</div></section>`;
}

/** The whole page: a pure function of the result and the journal, so a rebuild gives the same bytes. */
export function renderHtmlReport(result: RunResult, journalRecords: readonly JournalRecord[]): string {
  const m = buildReportModel(result, journalRecords);
  const chartData: ChartData[] = [];

  const sections: string[] = [headerHtml(m), incidentHtml(result)];
  sections.push(`<h2>Verdict per variant</h2><div class="cards">${result.variants.map((v) => variantCard(v, result.control, m.differing)).join('')}</div>`);
  if (result.variants.length === 0) sections.push('<p class="muted">No variant ran (see the journal below).</p>');

  const counterexamples = result.variants.map(counterexampleSection).filter(Boolean);
  if (counterexamples.length) sections.push(`<h2>Linearizability counterexample</h2>${counterexamples.join('')}`);

  sections.push('<h2>Timeline</h2>');
  for (const v of result.variants) {
    const t = m.timelines.get(v.name)!;
    sections.push(`<div class="panel"><h3>${esc(v.name)} <span class="muted small">load ran ${formatSeconds(t.durationSec)}; t = 0 is the load's start</span></h3>${renderTimeline(t, m.domain)}${faultTable(t)}</div>`);
  }

  sections.push(`<h2>Assertions</h2>${legendHtml()}`);
  sections.push(...assertionPanels(m, chartData));
  if (m.groups.length === 0) sections.push('<p class="muted">No assertion was judged.</p>');

  const journalText = journalRecords.map((r) => JSON.stringify(r)).join('\n');
  sections.push(`<h2>Journal</h2><details><summary>${journalRecords.length} events, as the run recorded them (journal.json)</summary><pre class="journal">${esc(journalText)}</pre></details>`);
  sections.push(`<footer>chaoslab report · rebuild with <code>npx chaoslab report ${esc(result.runDir)}</code> · Prometheus data in <code>prometheus/data</code></footer>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(`${RUN_VERDICTS[m.verdict].word} ${result.scenario} (seed ${result.seed}) — chaoslab`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${sections.join('\n')}
</main>
<script type="application/json" id="chart-data">${scriptJson(chartData)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
