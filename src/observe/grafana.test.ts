import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { grafanaDashboards, grafanaDatasource } from './grafana.js';

describe('Grafana provisioning', () => {
  it('a Prometheus data source scraped every second, and a provider for the dashboards folder', () => {
    const ds = parse(grafanaDatasource('http://127.0.0.1:9090')) as { datasources: Record<string, unknown>[] };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://127.0.0.1:9090', jsonData: { timeInterval: '1s' } });
    const d = parse(grafanaDashboards('/lab/dashboards')) as { providers: { type: string; options: { path: string } }[] };
    expect(d.providers[0]).toMatchObject({ type: 'file', options: { path: '/lab/dashboards' } });
  });
});
