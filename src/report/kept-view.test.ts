import { describe, expect, it } from 'vitest';
import type { KeptInfo, KeptRecord } from '../runtime/kept.js';
import { formatKept, formatKeptLine } from './kept-view.js';

const kept: KeptInfo = {
  runId: 'r1',
  scenario: 'hello-latency',
  variant: 'mitigated',
  runDir: '/work/runs/20261128-hello-latency',
  runtime: 'process',
  keptAt: '2026-11-28T10:00:00.000Z',
  prometheus: 'http://127.0.0.1:9090',
  toxiproxy: 'http://127.0.0.1:8474',
  nodes: [
    { name: 'backend', address: '127.0.0.1:4001' },
    { name: 'frontend', address: '127.0.0.1:4000' },
  ],
  proxies: { frontend_to_backend: '127.0.0.1:4002' },
};

describe('formatKept', () => {
  it('says where to point Grafana and the API, lists nodes and proxies, and how to stop it', () => {
    const text = formatKept(kept, { color: false, cwd: '/work', dashboard: 'dashboards/hello.json' });
    expect(text.split('\n')).toEqual([
      "kept up for a game day: hello-latency, variant mitigated (faults healed, the lab's load stopped)",
      '  prometheus           http://127.0.0.1:9090  Grafana: a Prometheus data source with this URL; import dashboards/lab-overview.json and dashboards/hello.json',
      '  toxiproxy            http://127.0.0.1:8474  faults by hand through its API: curl http://127.0.0.1:8474/proxies',
      '  backend              127.0.0.1:4001',
      '  frontend             127.0.0.1:4000',
      '  frontend_to_backend  127.0.0.1:4002         proxy',
      '  stop it              npx chaoslab down runs/20261128-hello-latency',
    ]);
  });

  it('for `up`, says it is up; without a cluster dashboard, names the overview only', () => {
    const text = formatKept(kept, { color: false, verb: 'up' });
    expect(text.split('\n')[0]).toBe('up for a game day: hello-latency, variant mitigated');
    expect(text).toContain('import dashboards/lab-overview.json\n');
    expect(text).toContain('npx chaoslab down /work/runs/20261128-hello-latency');
  });
});

describe('formatKeptLine', () => {
  it('is one line naming the run, its runtime, its Prometheus and the command that stops it', () => {
    const record: KeptRecord = { version: 1, ...kept, processes: [] };
    expect(formatKeptLine(record, '/work')).toBe('/work/runs/20261128-hello-latency  hello-latency/mitigated (process, since 2026-11-28T10:00:00.000Z; prometheus http://127.0.0.1:9090)  stop: npx chaoslab down runs/20261128-hello-latency');
  });
});
