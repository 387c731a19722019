import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownMetrics, renderKnownMetrics, scanMetricNames } from './metric-names.js';
import type { ClusterFileT } from './schema.js';

const root = path.resolve(import.meta.dirname, '..', '..');

const cluster = (commands: string[][]): ClusterFileT =>
  ({ name: 'c', nodes: Object.fromEntries(commands.map((command, i) => [`n${i}`, { command }])), links: [], mitigations: {} }) as unknown as ClusterFileT;

describe('known metric names', () => {
  it('src/scenario/known-metrics.ts is what the toys\' and the lab\'s source register (run `npm run build` to refresh)', () => {
    expect(readFileSync(path.join(root, 'src', 'scenario', 'known-metrics.ts'), 'utf8')).toBe(renderKnownMetrics(scanMetricNames(root)));
  });
  it('knows the lab\'s, the cluster\'s toys\', histogram series, Toxiproxy\'s and Prometheus\'s', () => {
    const hello = knownMetrics(cluster([['node', '{toys}/hello/frontend.js']]))!;
    for (const n of ['chaoslab_client_requests_total', 'chaoslab_checker_lost_total', 'hello_fallbacks_total', 'toy_request_duration_seconds_bucket', 'toxiproxy_proxy_sent_bytes_total', 'up']) expect(hello.isKnown(n), n).toBe(true);
    expect(hello.isKnown('kafka_app_acked_writes_lost')).toBe(false);
    expect(hello.suggest('hello_fallback_total')).toBe('did you mean "hello_fallbacks_total"?');
  });
  it('does not judge names for a cluster that runs something other than a toy', () => {
    expect(knownMetrics(cluster([['node', '{toys}/hello/frontend.js'], ['/usr/bin/redis-server']]))).toBeUndefined();
  });
});
