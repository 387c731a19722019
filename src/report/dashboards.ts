/**
 * Grafana dashboards (dashboards/*.json) as the lab checks them: every query a panel, an annotation
 * or a variable runs, with Grafana's variables substituted; the metric names those queries use,
 * checked against the names the toys and the lab register; and each query's answer from a run's
 * stored Prometheus data. A dashboard that names a metric nobody exports shows nothing in Grafana
 * and nobody notices; here it fails the build.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { allRegisteredNames, isKnownMetricName, PROMETHEUS_SERIES } from '../scenario/metric-names.js';
import { checkPromQL, selectedMetrics } from '../scenario/promql.js';
import type { PrometheusClient, Series } from '../observe/prometheus-client.js';
import { startPrometheus } from '../observe/prometheus-server.js';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface GrafanaTarget {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating?: { list: { name: string; type: string; query?: unknown; allValue?: string; definition?: string }[] };
  annotations?: { list: { name: string; expr?: string; datasource?: { type?: string; uid?: string }; target?: { expr?: string } }[] };
  [key: string]: unknown;
}

export interface DashboardFile {
  file: string;
  name: string;
  dashboard: GrafanaDashboard;
}

export function loadDashboards(dir: string): DashboardFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      return { file, name: f.replace(/\.json$/, ''), dashboard: JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard };
    });
}

/** Panels in order, rows' nested panels included (a collapsed row keeps its panels inside it). */
export function allPanels(d: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  for (const p of d.panels) {
    out.push(p);
    if (p.panels) out.push(...p.panels);
  }
  return out;
}

export interface DashboardQuery {
  /** Where it comes from, for messages: `panel "Client error ratio" A`, `annotation Faults`, `variable node`. */
  where: string;
  kind: 'panel' | 'annotation' | 'variable';
  /** As written in the dashboard. */
  expr: string;
}

/** Every PromQL a dashboard runs. Variable queries are `label_values(<selector>, label)`: the selector is the query. */
export function dashboardQueries(d: GrafanaDashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (typeof t.expr === 'string' && t.expr.trim()) out.push({ where: `panel "${p.title ?? p.id}" ${t.refId ?? ''}`.trim(), kind: 'panel', expr: t.expr });
    }
  }
  for (const a of d.annotations?.list ?? []) {
    const expr = a.target?.expr ?? a.expr;
    if (typeof expr === 'string' && expr.trim()) out.push({ where: `annotation ${a.name}`, kind: 'annotation', expr });
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    const m = q ? /^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.exec(q) : null;
    if (m) out.push({ where: `variable ${v.name}`, kind: 'variable', expr: m[1]! });
  }
  return out;
}

export interface Substitutions {
  /** `$__rate_interval`; the lab scrapes every second, so a few seconds holds enough samples. */
  rateInterval?: string;
  /** `$__interval` */
  interval?: string;
  /** `$__range` */
  range?: string;
  /** Values for template variables; by default a variable's allValue (or `.*`). */
  variables?: Record<string, string>;
}

/** Replaces Grafana's variables the way Grafana would before sending the query to Prometheus. */
export function substituteVariables(expr: string, d: GrafanaDashboard | undefined, s: Substitutions = {}): string {
  const builtins: Record<string, string> = {
    __rate_interval: s.rateInterval ?? '5s',
    __interval: s.interval ?? '1s',
    __range: s.range ?? '5m',
  };
  const vars: Record<string, string> = {};
  for (const v of d?.templating?.list ?? []) if (v.type !== 'datasource') vars[v.name] = v.allValue ?? '.*';
  Object.assign(vars, s.variables);
  return expr.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]|\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    return builtins[name] ?? vars[name] ?? whole;
  });
}

/**
 * Metric names: one list for the whole lab, in src/scenario/metric-names.ts (the scenario loader
 * checks assertion queries against it too). These names stay for the dashboards' callers.
 */
export const metricNames = selectedMetrics;
export { PROMETHEUS_SERIES };

/** Every name the toys and the lab register (the dashboards serve every cluster). */
export function registeredMetricNames(_projectRoot?: string): Set<string> {
  return allRegisteredNames();
}

export function isKnownMetric(name: string, registered: Set<string>): boolean {
  return isKnownMetricName(name, registered);
}

export interface DashboardProblem {
  dashboard: string;
  where: string;
  message: string;
}

/** Structure every chaoslab dashboard keeps, so each imports into Grafana the same way. */
export function lintDashboard(f: DashboardFile, registered: Set<string>): DashboardProblem[] {
  const d = f.dashboard;
  const problems: DashboardProblem[] = [];
  const add = (where: string, message: string) => problems.push({ dashboard: f.name, where, message });
  if (typeof d.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid)) add('uid', 'needs a uid of at most 40 letters, digits, - or _');
  if (typeof d.title !== 'string' || !d.title) add('title', 'needs a title');
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < 36) add('schemaVersion', `expected 36 or later (Grafana 9+), got ${String(d.schemaVersion)}`);
  const ds = d.templating?.list.find((v) => v.type === 'datasource');
  if (!ds || ds.name !== 'datasource' || ds.query !== 'prometheus') add('templating', 'needs a datasource variable named "datasource" of type prometheus');
  if (!d.annotations?.list.some((a) => (a.target?.expr ?? a.expr ?? '').includes('chaoslab_fault_active'))) add('annotations', 'needs an annotation that shows the fault windows (chaoslab_fault_active)');
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of allPanels(d)) {
    const name = `panel "${p.title ?? p.id}"`;
    if (typeof p.id !== 'number' || ids.has(p.id)) add(name, `needs a unique numeric id (got ${String(p.id)})`);
    else ids.add(p.id);
    const g = p.gridPos;
    if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) add(name, 'needs a gridPos inside the 24 columns');
    else {
      for (let y = g.y; y < g.y + g.h; y++) {
        for (let x = g.x; x < g.x + g.w; x++) {
          const key = `${x},${y}`;
          if (cells.has(key)) {
            add(name, `overlaps another panel at column ${x}, row ${y}`);
            y = Infinity;
            break;
          }
          cells.add(key);
        }
      }
    }
    if (p.type === 'row') continue;
    if (p.datasource?.uid !== '${datasource}') add(name, 'must use the ${datasource} variable as its datasource');
    if (!p.targets?.length) add(name, 'has no query');
    for (const t of p.targets ?? []) if (t.datasource && t.datasource.uid !== '${datasource}') add(`${name} ${t.refId ?? ''}`, 'query must use the ${datasource} variable');
  }
  for (const q of dashboardQueries(d)) {
    const expr = substituteVariables(q.expr, d);
    const syntax = checkPromQL(expr);
    if (!syntax.ok) {
      add(q.where, `PromQL does not parse: ${syntax.message} in \`${expr}\``);
      continue;
    }
    for (const m of metricNames(expr)) {
      if (!isKnownMetric(m, registered)) add(q.where, `metric ${m} is exported by no toy and not by the lab`);
    }
    if (q.kind !== 'variable' && metricNames(expr).length === 0) add(q.where, 'selects no metric');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Checking against a run's data.

export interface StoredPrometheus {
  client: PrometheusClient;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a Prometheus on a copy of a run's TSDB (`<runDir>/prometheus/data`), scraping nothing, so the
 * run folder stays as the run left it. The copy is removed by stop().
 */
export async function openRunPrometheus(runDir: string, opts: { binary: string; logFile?: string }): Promise<StoredPrometheus> {
  const data = path.join(runDir, 'prometheus', 'data');
  if (!existsSync(data)) throw new Error(`${runDir} has no prometheus/data`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-tsdb-'));
  try {
    cpSync(data, path.join(dir, 'data'), { recursive: true });
    rmSync(path.join(dir, 'data', 'lock'), { force: true });
    const prom = await startPrometheus({ binary: opts.binary, dir, scrapeIntervalMs: 1000, logFile: opts.logFile ?? path.join(dir, 'prometheus.log'), initialTargets: [] });
    return {
      client: prom.client,
      url: prom.url,
      async stop() {
        await prom.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface QueryCheck {
  dashboard: string;
  where: string;
  expr: string;
  series: number;
  /** Finite samples over all series. */
  points: number;
  error?: string;
}

/** Runs every query of the dashboards over [startSec, endSec] and counts what came back. */
export async function evaluateDashboards(files: DashboardFile[], client: PrometheusClient, range: { startSec: number; endSec: number; stepSec?: number }, s: Substitutions = {}): Promise<QueryCheck[]> {
  const out: QueryCheck[] = [];
  for (const f of files) {
    for (const q of dashboardQueries(f.dashboard)) {
      const expr = substituteVariables(q.expr, f.dashboard, s);
      let series: Series[] = [];
      let error: string | undefined;
      try {
        series = await client.queryRange(expr, range.startSec, range.endSec, range.stepSec ?? 1);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const points = series.reduce((n, x) => n + x.points.filter(([, v]) => Number.isFinite(v)).length, 0);
      out.push({ dashboard: f.name, where: q.where, expr, series: series.length, points, ...(error ? { error } : {}) });
    }
  }
  return out;
}
