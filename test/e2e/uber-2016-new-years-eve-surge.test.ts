/**
 * Replays the New Year's Eve surge with the real parts (Prometheus, the toy's processes) through the CLI, as a user
 * would: the baseline reproduces the overload and its metastable tail, the mitigated variant (pre-scaled index
 * shards through a `scale` step, shedding by criticality, sampling, a retry budget) recovers, and a control run of
 * the baseline (no midnight) stays healthy. CHAOSLAB_E2E_SEEDS=5 repeats it over seeds 1..5 (about 4 minutes each).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertion, e2eSeeds, isAlive, pidsOf, runCli, variant, type JsonResult, type JsonVariant } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';

const scenario = 'scenarios/uber-2016-new-years-eve-surge.yaml';

async function run(args: string[]): Promise<{ code: number | null; result: JsonResult }> {
  const r = await runCli(['run', scenario, '--json', '--out', 'runs/e2e', ...args]);
  return { code: r.code, result: r.json };
}

/** What this run started (its run folder lists every pid) that still runs: the lab must leave none behind. */
function leftovers(runDir: string): string[] {
  const pids = pidsOf(runDir);
  expect(pids.length).toBeGreaterThanOrEqual(6);
  return pids.filter((p) => isAlive(p.pid)).map((p) => `${p.pid} ${p.what}`);
}

const explain = (v: JsonVariant): string => v.assertions.map((a) => `${a.passed ? 'ok ' : 'BAD'} ${a.name}: ${a.reason}`).join('\n');

describe.each(e2eSeeds())('uber-2016-new-years-eve-surge (seed %i)', (seed) => {
  let runDir: string | undefined;

  it('baseline: rides take seconds, the index falls behind, the backlog outlasts the surge; mitigated: pre-scaled, shed and sampled, rides stay fast', async () => {
    const { code, result } = await run(['--seed', String(seed)]);
    runDir = result.runDir;
    const [baseline, mitigated] = [variant(result, 'baseline'), variant(result, 'mitigated')];
    expect(baseline.passed, explain(baseline)).toBe(true);
    expect(mitigated.passed, explain(mitigated)).toBe(true);
    expect(code).toBe(0);

    // The incident's numbers, not just the verdicts.
    expect(assertion(baseline, 'ride (critical) p99 under 5s during the surge').observed.max).toBeGreaterThan(5);
    expect(assertion(baseline, 'shard queues drained by the end of the run (42s after the surge)').observed.last).toBeGreaterThan(20);
    expect(assertion(mitigated, 'ride p99 under its 1s SLO during the surge').observed.max).toBeLessThan(1);
    expect(assertion(mitigated, 'location updates shed or sampled during the surge').observed.max).toBeGreaterThan(0);

    // The pre-scale step started two shards before midnight and stopped them after, only in the mitigated variant.
    const journal = readFileSync(path.join(result.runDir, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; variant?: string; [k: string]: unknown });
    const scales = journal.filter((e) => e.kind === 'scale');
    expect(scales.map((e) => [e.variant, e['action'], e['to'], e['started'], e['stopped']])).toEqual([
      ['mitigated', 'apply', 4, ['geo-index-3', 'geo-index-4'], []],
      ['mitigated', 'heal', 2, [], ['geo-index-3', 'geo-index-4']],
    ]);
    expect(journal.filter((e) => e.kind === 'node-exited')).toEqual([]);
    expect(leftovers(result.runDir)).toEqual([]);
  });

  it('every query of the uber-location dashboard and of the lab overview returns data from the run', async () => {
    expect(runDir, 'the seeded run did not finish').toBeDefined();
    // The replay injects no fault (the surge is load): the fault panels and the fault-phase annotations stay empty.
    await expectDashboardHasData('uber-location', runDir!, ['chaoslab_fault_active', 'fault|recovery']);
  });

  it('control of the baseline (no midnight) stays healthy', async () => {
    const { code, result } = await run(['--seed', String(seed), '--variant', 'baseline', '--control']);
    expect(result.control).toBe(true);
    for (const v of result.variants) expect(v.passed, `${v.name}:\n${explain(v)}`).toBe(true);
    expect(code).toBe(0);
    expect(leftovers(result.runDir)).toEqual([]);
  });
});
