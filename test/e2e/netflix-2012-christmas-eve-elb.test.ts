/**
 * Replays Netflix's Christmas Eve 2012 with the real parts (Toxiproxy, Prometheus, the toy's processes) through the
 * CLI, as a user would: the operator action deletes the TV load balancer's state; at the next scaling the control
 * plane empties it (baseline: TV calls fail, web and the API stay fine), while static stability and regional failover
 * keep TV devices served (mitigated). The control run (`--variant baseline --control`: the same ramp, no deletion)
 * stays healthy. CHAOSLAB_E2E_SEEDS repeats it over several seeds (about three and a half minutes per seed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertion, e2eSeeds, failures, isAlive, pidsOf, runCli, variant, type JsonResult } from '../utils/cli.js';
import { expectDashboardHasData, readResult } from '../utils/dashboards.js';

const scenario = 'scenarios/netflix-2012-christmas-eve-elb.yaml';

async function run(args: string[]): Promise<{ code: number | null; result: JsonResult; stderr: string }> {
  const r = await runCli(['run', scenario, '--json', '--out', 'runs/e2e', ...args]);
  return { code: r.code, result: r.json, stderr: r.stderr };
}

/** Every pid the run recorded that still runs: the lab must leave none behind. */
function leftovers(runDir: string): string[] {
  const pids = pidsOf(runDir);
  expect(pids.length).toBeGreaterThanOrEqual(10);
  return pids.filter((p) => isAlive(p.pid)).map((p) => `${p.pid} ${p.what}`);
}

const journalKinds = (runDir: string, variantName: string): string[] =>
  readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; variant?: string })
    .filter((r) => r.variant === variantName)
    .map((r) => r.kind);

describe.each(e2eSeeds())('netflix-2012-christmas-eve-elb (seed %i)', (seed) => {
  /** The seeded run, which the dashboard test reads instead of replaying again. */
  let runDir: string | undefined;

  it('baseline: TV calls fail after the next reconfiguration; mitigated: LBs keep backends and TV moves to the second region', async () => {
    const { code, result, stderr } = await run(['--seed', String(seed)]);
    runDir = result.runDir;
    expect(code, `${failures(result)}\n${stderr.slice(-2000)}`).toBe(0);
    const baseline = variant(result, 'baseline');
    const mitigated = variant(result, 'mitigated');

    // The operator action was made, answered, and journaled like a fault.
    // `--json` leaves the actions out; result.json has them.
    for (const v of readResult(result.runDir).variants) {
      const actions = v.actions ?? [];
      expect(actions.map((a) => [a.step, a.calls.map((c) => c.status)])).toEqual([['delete-state', [200]]]);
      expect(actions[0]!.actualMs - actions[0]!.scheduledMs).toBeLessThan(250);
      expect(journalKinds(result.runDir, v.name)).toEqual(expect.arrayContaining(['action-start', 'action-end']));
    }

    // The incident's numbers, not just the verdicts: nothing at once, then TV dark while web and the API are fine.
    expect(assertion(baseline, 'nothing breaks when the state is deleted (TV errors under 1% until the ramp)').observed.max).toBeLessThan(0.01);
    expect(assertion(baseline, 'TV errors above 90% after the next reconfiguration').observed.min).toBeGreaterThan(0.9);
    expect(assertion(baseline, 'web errors stay under 1%').observed.max).toBeLessThan(0.01);
    expect(assertion(baseline, 'every load balancer keeps backends').observed.min).toBe(0);

    expect(assertion(mitigated, 'every load balancer keeps backends').observed.min).toBeGreaterThanOrEqual(2);
    expect(assertion(mitigated, 'TV errors back under 1% within 25s of the ramp').timeToRecoverSec).not.toBeNull();
    expect(assertion(mitigated, 'the second region carries the TV traffic').observed.min).toBeGreaterThan(50);
    expect(assertion(mitigated, 'second region API p99 under 100ms with the shifted load').observed.max).toBeLessThan(0.1);
    expect(assertion(mitigated, 'availability floor (at least 97% of all calls answered during the ramp)').observed.mean).toBeGreaterThan(0.97);
    expect(leftovers(result.runDir)).toEqual([]);
  });

  it('every query of the netflix-edge dashboard and of the lab overview returns data from the run', async () => {
    expect(runDir, 'the seeded run did not finish').toBeDefined();
    // The replay injects no fault (the trigger is an operator action): the fault annotations and the lab overview's
    // fault panels have nothing to show; the netflix-edge panel of the action has.
    await expectDashboardHasData('netflix-edge', runDir!, ['chaoslab_fault_active', 'fault|recovery']);
  });

  it('control (the same ramp, no deletion) stays healthy', async () => {
    const { code, result } = await run(['--seed', String(seed), '--variant', 'baseline', '--control']);
    expect(result.control).toBe(true);
    expect(code, failures(result)).toBe(0);
    const baseline = variant(result, 'baseline');
    expect(readResult(result.runDir).variants[0]!.actions ?? []).toEqual([]);
    expect(assertion(baseline, 'TV errors above 90% after the next reconfiguration').outcome).toBe('violated');
    expect(assertion(baseline, 'every load balancer keeps backends').outcome).toBe('holds');
    expect(assertion(baseline, 'availability floor (at least 97% of all calls answered during the ramp)').outcome).toBe('holds');
    expect(leftovers(result.runDir)).toEqual([]);
  });
});
