/**
 * Checks a Grafana dashboard against a run the scenario's own e2e test already made: a Prometheus started on
 * the run's stored TSDB answers every panel query of the cluster's dashboard and of the lab overview. Reusing
 * the scenario's run (both variants) instead of replaying again keeps `npm test` short.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { evaluateDashboards, loadDashboards, openRunPrometheus } from '../../src/report/dashboards.js';
import type { RunResult } from '../../src/run/result.js';
import { root } from './cli.js';

const PROMETHEUS = process.env.CHAOSLAB_PROMETHEUS ?? '/usr/bin/prometheus';

export function readResult(runDir: string): RunResult {
  return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
}

/** Fails with every query of the dashboard (and the lab overview) that returned no data from the run. */
/** `mayBeEmpty`: metrics a scenario legitimately never exports (e.g. `chaoslab_fault_active` in a replay without faults). */
export async function expectDashboardHasData(dashboard: string, runDir: string, mayBeEmpty: readonly string[] = []): Promise<void> {
  const files = loadDashboards(path.join(root, 'dashboards'));
  expect(files.map((f) => f.name), `dashboards/${dashboard}.json`).toContain(dashboard);
  const result = readResult(runDir);
  const prom = await openRunPrometheus(runDir, { binary: PROMETHEUS });
  try {
    const checks = await evaluateDashboards(
      files.filter((f) => f.name === dashboard || f.name === 'lab-overview'),
      prom.client,
      { startSec: Date.parse(result.startedAt) / 1000, endSec: Date.parse(result.endedAt) / 1000 },
      { rateInterval: '5s', interval: '1s' },
    );
    const empty = checks.filter((c) => c.error || (c.points === 0 && !mayBeEmpty.some((m) => c.expr.includes(m)))).map((c) => `${c.dashboard} ${c.where}: ${c.error ?? 'no data'} — ${c.expr}`);
    expect(empty).toEqual([]);
    const own = checks.filter((c) => c.dashboard === dashboard).length;
    expect(own).toBeGreaterThan(5);
    console.log(`${dashboard}: ${checks.length} queries checked (${own} of the ${dashboard} dashboard), all with data, against ${runDir}`);
  } finally {
    await prom.stop();
  }
}
