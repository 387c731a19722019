/**
 * Replays the World Cup fanout surge with the real parts (Toxiproxy, Prometheus, the toy's processes) through the
 * CLI, as a user would: baseline reproduces the backed-up fanout, mitigated recovers, and a control run (no goal)
 * stays healthy in both variants. CHAOSLAB_E2E_SEEDS=1,2,3,4,5 repeats it over several seeds (about 8 minutes each).
 */
import { describe, expect, it } from 'vitest';
import { isAlive, pidsOf, runCli, type JsonAssertion, type JsonResult, type JsonVariant } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';

const scenario = 'scenarios/twitter-2014-world-cup-fanout.yaml';
const seeds = (process.env.CHAOSLAB_E2E_SEEDS ?? '1').split(',').map((s) => Number(s.trim()));

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
    expect(byName(baseline, 'fanout lag stays under a minute').observed.max).toBeGreaterThan(60);
    expect(byName(baseline, 'fanout queue drained by the end').observed.last).toBeGreaterThan(50);
    expect(byName(baseline, 'timeline reads p99 under 300ms during').outcome).toBe('violated');
    expect(byName(mitigated, 'delivery p99 under 5s').observed.max).toBeLessThan(5);
    expect(byName(mitigated, 'timeline reads p99 under 300ms during').observed.max).toBeLessThan(0.3);
    expect(leftovers(result.runDir)).toEqual([]);
  });

  it('every query of the twitter-timeline dashboard and of the lab overview returns data from the run', async () => {
    expect(runDir, 'the seeded run did not finish').toBeDefined();
    await expectDashboardHasData('twitter-timeline', runDir!);
  });

  it('control (no goal) stays healthy in both variants', async () => {
    const { code, result } = await run(['--seed', String(seed), '--control']);
    expect(result.control).toBe(true);
    for (const v of result.variants) expect(v.passed, `${v.name}:\n${explain(v)}`).toBe(true);
    expect(code).toBe(0);
    expect(leftovers(result.runDir)).toEqual([]);
  });
});
