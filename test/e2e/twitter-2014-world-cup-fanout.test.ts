/**
 * Replays the World Cup fanout surge with the real parts (Toxiproxy, Prometheus, the toy's processes) through the
 * CLI, as a user would: baseline reproduces the backed-up fanout, mitigated recovers with the read-time merge cost
 * paid (the tweet store is a node behind a Toxiproxy link), and a control run of the baseline (no goal) stays
 * healthy. CHAOSLAB_E2E_SEEDS=1,2,3,4,5 repeats the replay over several seeds (about 3 minutes each); the control
 * run is made once, with the first seed.
 */
import { describe, expect, it } from 'vitest';
import { e2eSeeds, isAlive, pidsOf, runCli, type JsonAssertion, type JsonResult, type JsonVariant } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';

const scenario = 'scenarios/twitter-2014-world-cup-fanout.yaml';
const seeds = e2eSeeds();

async function run(args: string[]): Promise<{ code: number | null; result: JsonResult; stderr: string }> {
  const r = await runCli(['run', scenario, '--json', '--out', 'runs/e2e', ...args]);
  return { code: r.code, result: r.json, stderr: r.stderr };
}

const byName = (v: JsonVariant, name: string): JsonAssertion => {
  const a = v.assertions.find((x) => x.name.startsWith(name));
  if (!a) throw new Error(`no assertion "${name}" in ${v.name}`);
  return a;
};

/** What this run started (its run folder lists every pid) that still runs: the lab must leave none behind. */
function leftovers(runDir: string): string[] {
  const pids = pidsOf(runDir);
  expect(pids.length).toBeGreaterThanOrEqual(8);
  return pids.filter((p) => isAlive(p.pid)).map((p) => `${p.pid} ${p.what}`);
}

const explain = (v: JsonVariant): string => v.assertions.map((a) => `${a.passed ? 'ok ' : 'BAD'} ${a.name}: ${a.reason}`).join('\n');

describe.each(seeds)('twitter-2014-world-cup-fanout (seed %i)', (seed) => {
  /** The seeded run, which the dashboard test reads instead of replaying again. */
  let runDir: string | undefined;

  it('baseline backs up fanout and slows reads; mitigated keeps delivery under 5s and reads fast', async () => {
    const { code, result } = await run(['--seed', String(seed)]);
    runDir = result.runDir;
    const [baseline, mitigated] = [result.variants.find((v) => v.name === 'baseline')!, result.variants.find((v) => v.name === 'mitigated')!];
    expect(baseline.status, explain(baseline)).toBe('completed');
    expect(mitigated.status, explain(mitigated)).toBe('completed');
    expect(baseline.passed, explain(baseline)).toBe(true);
    expect(mitigated.passed, explain(mitigated)).toBe(true);
    expect(code).toBe(0);

    // The incident's numbers, not just the verdicts.
    expect(byName(baseline, 'fanout lag stays under 30s').observed.max).toBeGreaterThan(30);
    expect(byName(baseline, 'fanout queue drained by the end').observed.last).toBeGreaterThan(50);
    expect(byName(baseline, 'timeline reads p99 under 300ms during').outcome).toBe('violated');
    expect(byName(mitigated, 'delivery p99 under 5s').observed.max).toBeLessThan(5);
    expect(byName(mitigated, 'timeline reads p99 under 300ms during').observed.max).toBeLessThan(0.3);
    // ...with the merge cost paid: reads waited for the tweet store, which did the work, and the floors held.
    const mergeMedian = byName(mitigated, 'read-time merges cost reads').observed.min;
    expect(mergeMedian).toBeGreaterThan(0.01);
    expect(byName(mitigated, 'the tweet store works for the merges').outcome).toBe('holds');
    expect(byName(mitigated, 'availability floor: at least 99% of tweets').observed.min).toBeGreaterThanOrEqual(0.99);
    expect(byName(mitigated, 'timeline read errors under 1%').observed.max).toBeLessThan(0.01);
    expect(byName(mitigated, 'celebrity tweets merged at read time').observed.min).toBeGreaterThan(1);
    console.log(
      `[twitter e2e] seed ${seed}: baseline goal read p99 max ${byName(baseline, 'timeline reads p99 under 300ms during').observed.max}s, max lag ${byName(baseline, 'fanout lag stays under 30s').observed.max}s; ` +
        `mitigated goal read p99 max ${byName(mitigated, 'timeline reads p99 under 300ms during').observed.max}s with merge median ${mergeMedian}-${byName(mitigated, 'read-time merges cost reads').observed.max}s, ` +
        `store utilisation mean ${byName(mitigated, 'the tweet store works for the merges').observed.mean}, delivery p99 max ${byName(mitigated, 'delivery p99 under 5s').observed.max}s, read errors max ${byName(mitigated, 'timeline read errors under 1%').observed.max}`,
    );
    expect(leftovers(result.runDir)).toEqual([]);
  });

  it('every query of the twitter-timeline dashboard and of the lab overview returns data from the run', async () => {
    expect(runDir, 'the seeded run did not finish').toBeDefined();
    await expectDashboardHasData('twitter-timeline', runDir!);
  });

  // The control run shows the baseline design is healthy without the goal (the mitigated design only adds to it).
  it.runIf(seed === seeds[0])('control (no goal): the baseline stays healthy', async () => {
    const { code, result } = await run(['--seed', String(seed), '--control', '--variant', 'baseline']);
    expect(result.control).toBe(true);
    expect(result.variants.map((v) => v.name)).toEqual(['baseline']);
    for (const v of result.variants) expect(v.passed, `${v.name}:\n${explain(v)}`).toBe(true);
    expect(code).toBe(0);
    expect(leftovers(result.runDir)).toEqual([]);
  });
});
