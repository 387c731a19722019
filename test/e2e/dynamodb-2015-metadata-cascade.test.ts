/**
 * DynamoDB 2015, end to end with the real Toxiproxy and Prometheus: the baseline's retry storm outlives the
 * disruption, the mitigated variant never lets clients notice (its availability floor holds) and each of its
 * mitigations shows through its own metric that it fired, a control run of the baseline stays healthy, and nothing
 * a run started is left running. Each run is about 1m15s per variant.
 */
import { describe, expect, it } from 'vitest';
import { assertion, isAlive, pidsOf, runCli, variant, type JsonResult } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';

const scenario = 'scenarios/dynamodb-2015-metadata-cascade.yaml';
const AFTER_HEAL = '25s after the heal - ';
const FLOOR = 'availability floor - 99% of client requests ok throughout';
const MECHANISMS = [
  'mechanism - static stability served from a stale membership',
  'mechanism - circuit breakers opened',
  'mechanism - deadline drop skipped expired requests',
];

function noneLeft(r: JsonResult): void {
  const pids = pidsOf(r.runDir);
  expect(pids.length).toBeGreaterThanOrEqual(12);
  expect(pids.filter((p) => isAlive(p.pid))).toEqual([]);
}

describe('dynamodb-2015-metadata-cascade', () => {
  /** The first test's run, which the dashboard test reads instead of replaying again. */
  let runDir: string | undefined;

  it('baseline: the storm outlives the fault; mitigated: clients never notice, and each mitigation fired', async () => {
    const run = await runCli(['run', scenario, '--json', '--seed', '11', '--out', 'runs/e2e']);
    const r = run.json;
    runDir = r.runDir;
    expect(run.code, run.stderr).toBe(0);
    expect(r.passed).toBe(true);

    const base = variant(r, 'baseline');
    expect(base.passed).toBe(true);
    for (const a of base.assertions) expect(a.passed, `${a.name}: ${a.reason}`).toBe(true);
    // The incident's signature 25 s after the heal, with the numbers.
    expect(assertion(base, `${AFTER_HEAL}more than half of the storage nodes serve`).observed.max!).toBeLessThanOrEqual(3);
    expect(assertion(base, `${AFTER_HEAL}client errors below 30%`).observed.min!).toBeGreaterThanOrEqual(0.3);
    expect(assertion(base, `${AFTER_HEAL}metadata queue under 20`).observed.min!).toBeGreaterThanOrEqual(20);
    expect(assertion(base, `${AFTER_HEAL}fetch rate under 3x steady state`).observed.min!).toBeGreaterThanOrEqual(3);
    expect(assertion(base, `${AFTER_HEAL}membership fetches succeed`).observed.max!).toBe(0);
    expect(assertion(base, 'steady - every storage node serves').outcome).toBe('holds');
    expect(assertion(base, FLOOR).outcome).toBe('violated');
    for (const name of MECHANISMS) expect(base.assertions.map((a) => a.name)).not.toContain(name);

    const mit = variant(r, 'mitigated');
    expect(mit.passed).toBe(true);
    for (const a of mit.assertions) expect(a.outcome, `${a.name}: ${a.reason}`).toBe('holds');
    expect(assertion(mit, FLOOR).observed.min!).toBeGreaterThanOrEqual(0.99);
    expect(assertion(mit, 'fetch rate within 2x steady state throughout').observed.max!).toBeLessThanOrEqual(2);
    expect(assertion(mit, 'metadata queue drains within 30s of the heal').timeToRecoverSec!).toBeLessThanOrEqual(30);
    // Each listed mitigation did work: its own metric moved.
    for (const name of MECHANISMS) expect(assertion(mit, name).observed.max!, name).toBeGreaterThan(name.includes('static') ? 10 : 0);
    // Static stability is bounded by maxStaleMs (300 s); the stalest membership served stays far below it.
    expect(assertion(mit, MECHANISMS[0]!).observed.max!).toBeLessThan(60);

    // The disruption really was applied and healed on time, under the intended load.
    for (const v of r.variants) {
      const f = v.faults.find((x) => x.step === 'disruption')!;
      expect(f.appliedMs! - f.scheduledMs).toBeLessThan(500);
      expect(f.healedMs).not.toBeNull();
      expect(v.load!.sent).toBeGreaterThan(5000);
    }
    noneLeft(r);
  });

  it('every query of the dynamo-kv dashboard and of the lab overview returns data from the run', async () => {
    expect(runDir, 'the first test did not finish its run').toBeDefined();
    await expectDashboardHasData('dynamo-kv', runDir!);
  });

  it('control of the baseline (same load, no fault) stays healthy', async () => {
    const run = await runCli(['run', scenario, '--json', '--control', '--variant', 'baseline', '--seed', '12', '--out', 'runs/e2e']);
    const r = run.json;
    expect(run.code, run.stderr).toBe(0);
    expect(r.control).toBe(true);
    expect(r.variants.map((v) => v.name)).toEqual(['baseline']);
    for (const v of r.variants) {
      expect(v.faults).toEqual([]);
      for (const a of v.assertions) expect(a.outcome, `${v.name} / ${a.name}: ${a.reason}`).toBe('holds');
    }
    noneLeft(r);
  });
});
