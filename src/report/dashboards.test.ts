import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  dashboardQueries,
  isKnownMetric,
  lintDashboard,
  loadDashboards,
  metricNames,
  registeredMetricNames,
  substituteVariables,
  type DashboardFile,
  type GrafanaDashboard,
} from './dashboards.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const registered = registeredMetricNames(root);
const files = loadDashboards(path.join(root, 'dashboards'));

describe('dashboards/*.json', () => {
  it('has the lab overview and one dashboard per toy cluster', () => {
    const names = files.map((f) => f.name);
    expect(names).toContain('lab-overview');
    // A dashboard is named after its cluster file; each scenario's e2e test checks it against that scenario's run.
    const clusters = readdirSync(path.join(root, 'clusters')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(clusters.length).toBeGreaterThanOrEqual(4);
    for (const c of clusters) expect(names, `dashboards/${c}.json for clusters/${c}.yaml`).toContain(c);
  });

  // The check that fails the build: a panel that names a metric no toy exports would show nothing.
  it.each(files.map((f) => [f.name, f] as const))('%s imports into Grafana and names only metrics the toys and the lab export', (_name, f) => {
    expect(lintDashboard(f, registered)).toEqual([]);
  });

  it('uses unique uids', () => {
    const uids = files.map((f) => f.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe('metric names', () => {
  it('finds the names the toys and the lab register', () => {
    for (const n of ['chaoslab_fault_active', 'chaoslab_phase', 'chaoslab_client_requests_total', 'toy_requests_total', 'toy_request_duration_seconds', 'hello_fallbacks_total']) {
      expect(registered.has(n), n).toBe(true);
    }
  });

  it('knows histogram series, Toxiproxy and Prometheus series, and nothing else', () => {
    expect(isKnownMetric('toy_request_duration_seconds_bucket', registered)).toBe(true);
    expect(isKnownMetric('chaoslab_client_request_duration_seconds_count', registered)).toBe(true);
    expect(isKnownMetric('toxiproxy_proxy_sent_bytes_total', registered)).toBe(true);
    expect(isKnownMetric('up', registered)).toBe(true);
    expect(isKnownMetric('hello_fallback_total', registered)).toBe(false);
    expect(isKnownMetric('nope_bucket', registered)).toBe(false);
  });

  it('extracts selected metrics from PromQL, not functions, labels or strings', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{job="b"}[5s]))) / on(x) group_left c + {__name__="d"} or vector(0)').sort()).toEqual(['a_bucket', 'c', 'd']);
    expect(metricNames('label_replace(up, "x", "$1", "instance", "(.*)")')).toEqual(['up']);
    expect(metricNames('max_over_time(foo[1m:5s]) > bool 3')).toEqual(['foo']);
  });
});

describe('Grafana variables', () => {
  const d = { templating: { list: [{ name: 'datasource', type: 'datasource' }, { name: 'node', type: 'query', allValue: '.*' }] } } as unknown as GrafanaDashboard;
  it('are substituted as Grafana sends them', () => {
    expect(substituteVariables('rate(x{node=~"$node"}[$__rate_interval])', d)).toBe('rate(x{node=~".*"}[5s])');
    expect(substituteVariables('rate(x{node=~"${node}"}[$__interval])', d, { interval: '2s', variables: { node: 'storage-1' } })).toBe('rate(x{node=~"storage-1"}[2s])');
    expect(substituteVariables('x{a="$unknown"}', d)).toBe('x{a="$unknown"}');
  });
});

describe('lintDashboard', () => {
  const good = files.find((f) => f.name === 'hello')!;
  it('rejects an unknown metric, a broken query, a foreign datasource and overlapping panels', () => {
    const d = structuredClone(good.dashboard);
    const panels = d.panels.filter((p) => p.type !== 'row');
    panels[0]!.targets = [{ expr: 'rate(hello_no_such_metric_total[$__rate_interval])', refId: 'A' }];
    panels[1]!.targets = [{ expr: 'sum by (le (x)', refId: 'A' }];
    panels[2]!.datasource = { type: 'prometheus', uid: 'my-prometheus' };
    panels[3]!.gridPos = { ...panels[2]!.gridPos! };
    const problems = lintDashboard({ file: 'x.json', name: 'x', dashboard: d } as DashboardFile, registered).map((p) => `${p.where}: ${p.message}`);
    expect(problems.some((p) => p.includes('metric hello_no_such_metric_total is exported by no toy'))).toBe(true);
    expect(problems.some((p) => p.includes('PromQL does not parse'))).toBe(true);
    expect(problems.some((p) => p.includes('must use the ${datasource} variable'))).toBe(true);
    expect(problems.some((p) => p.includes('overlaps another panel'))).toBe(true);
  });

  it('requires the fault annotation and the datasource variable', () => {
    const d = structuredClone(good.dashboard);
    d.annotations = { list: [] };
    d.templating = { list: [] };
    const problems = lintDashboard({ file: 'x.json', name: 'x', dashboard: d } as DashboardFile, registered).map((p) => p.where);
    expect(problems).toContain('annotations');
    expect(problems).toContain('templating');
  });

  it('lists the queries of panels, annotations and variables', () => {
    const overview = files.find((f) => f.name === 'lab-overview')!;
    const kinds = new Set(dashboardQueries(overview.dashboard).map((q) => q.kind));
    expect(kinds).toEqual(new Set(['panel', 'annotation', 'variable']));
  });
});
