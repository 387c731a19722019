/**
 * The workshop's first scenario, end to end with the real Toxiproxy and Prometheus: the baseline
 * reproduces the broken SLO, the mitigation holds it above its availability floor at a visible cost
 * (the degraded share), a fallback that answers everything from its fallback value fails the floor,
 * a control run of the baseline stays healthy, and nothing the runs started is left running.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertion, failures, isAlive, pidsOf, runCli, startCli, variant, waitFor } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';
import { expectReportOpensInChromium, expectReportRebuilds } from '../utils/report.js';

const scenario = 'scenarios/hello-latency.yaml';
const DEGRADED = 'degraded (fallback) share during the slow backend';
const FRESH_AFTER_HEAL = 'fresh answers return within 5s of the heal';
const FLOORS = ['availability floor - 99% of requests answered ok throughout', 'availability floor - fresh answers at least 98% before the fault', FRESH_AFTER_HEAL];

describe('hello-latency', () => {
  /** The first test's run: the report and dashboard tests look at it rather than replaying again. */
  let runDir: string | undefined;
  const firstRun = (): string => {
    expect(runDir, 'the first test did not finish its run').toBeDefined();
    return runDir!;
  };

  it('baseline reproduces, mitigated recovers, with the numbers behind each verdict', async () => {
    const run = await runCli(['run', scenario, '--json', '--seed', '7', '--out', 'runs/e2e']);
    const r = run.json;
    runDir = r.runDir;
    expect(run.code, `${failures(r)}\n${run.stderr}`).toBe(0);
    expect(r.passed).toBe(true);
    expect(r.seed).toBe(7);

    const base = variant(r, 'baseline');
    expect(base.passed).toBe(true);
    const slow = assertion(base, 'p99 under 500ms during the slow backend');
    expect(slow.outcome).toBe('violated');
    expect(slow.observed.max!).toBeGreaterThan(0.5);
    expect(assertion(base, 'steady p99 under 500ms').outcome).toBe('holds');
    expect(assertion(base, 'p99 back under 500ms within 5s of the heal').outcome).toBe('holds');

    const mit = variant(r, 'mitigated');
    expect(mit.passed).toBe(true);
    expect(assertion(mit, 'p99 under 500ms during the slow backend').outcome).toBe('holds');
    // The cost: while the backend is slow, nearly every answer is a degraded one; fresh ones come back after the heal.
    const degraded = assertion(mit, DEGRADED);
    expect(degraded.outcome).toBe('holds');
    expect(degraded.observed.mean!).toBeGreaterThan(0.5);
    for (const v of [base, mit]) {
      for (const name of FLOORS) expect(assertion(v, name).outcome, `${v.name}: ${name}`).toBe('holds');
      expect(assertion(v, FRESH_AFTER_HEAL).timeToRecoverSec!).toBeLessThanOrEqual(5);
    }

    // The fault really was applied and healed on time.
    for (const v of r.variants) {
      const f = v.faults[0]!;
      expect(f.appliedMs! - f.scheduledMs).toBeLessThan(250);
      expect(f.healedMs).not.toBeNull();
      expect(v.load!.sent).toBeGreaterThanOrEqual(2900);
    }

    // The run folder has what the issue promises.
    for (const f of ['journal.json', 'junit.xml', 'result.json', 'logs/toxiproxy.log', 'logs/prometheus.log', 'baseline/logs/frontend.log', 'mitigated/logs/backend.log']) {
      expect(existsSync(path.join(r.runDir, f)), f).toBe(true);
    }
    expect(readdirSync(path.join(r.runDir, 'prometheus', 'data')).length).toBeGreaterThan(0);
    const junit = readFileSync(path.join(r.runDir, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)?.length).toBe(base.assertions.length + mit.assertions.length);
    const journal = JSON.parse(readFileSync(path.join(r.runDir, 'journal.json'), 'utf8')) as { seed: number; records: { kind: string }[] };
    expect(journal.seed).toBe(7);
    const kinds = journal.records.map((x) => x.kind);
    for (const k of ['cluster-up', 'fault-apply', 'fault-applied', 'fault-healed', 'assertion', 'cluster-down']) expect(kinds).toContain(k);

    // Nothing the run started is still running.
    const pids = pidsOf(r.runDir);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter((p) => isAlive(p.pid))).toEqual([]);
  });

  it('report.html is rebuilt by `chaoslab report` from the run folder, byte for byte', async () => {
    await expectReportRebuilds(firstRun());
  });

  it('report.html opens in headless Chromium from disk: no console error, no request, every chart drawn', async () => {
    await expectReportOpensInChromium(firstRun());
  });

  it('every query of the hello dashboard and of the lab overview returns data from the run', async () => {
    await expectDashboardHasData('hello', firstRun());
  });

  it('a control run of the baseline (same load, no fault) stays healthy', async () => {
    const run = await runCli(['run', scenario, '--json', '--control', '--variant', 'baseline', '--seed', '8', '--out', 'runs/e2e']);
    const r = run.json;
    expect(run.code, `${failures(r)}\n${run.stderr}`).toBe(0);
    expect(r.control).toBe(true);
    expect(r.variants.map((v) => v.name)).toEqual(['baseline']);
    for (const v of r.variants) {
      expect(v.faults).toEqual([]);
      for (const a of v.assertions) expect(a.outcome, `${a.name}: ${a.reason}`).toBe('holds');
    }
    expect(pidsOf(r.runDir).filter((p) => isAlive(p.pid))).toEqual([]);
  });

  it('a fallback that answers everything from its fallback value fails the availability floor', async () => {
    // The counterexample the floor exists for: p99 and the error ratio stay perfect, yet no answer is fresh.
    const run = await runCli(['run', scenario, '--json', '--variant', 'mitigated', '--set', 'frontend.backendTimeoutMs=1', '--seed', '13', '--out', 'runs/e2e']);
    const r = run.json;
    expect(run.code, run.stderr).toBe(1);
    const mit = variant(r, 'mitigated');
    expect(mit.status).toBe('completed');
    expect(mit.passed).toBe(false);
    expect(assertion(mit, 'p99 under 500ms during the slow backend').outcome).toBe('holds');
    expect(assertion(mit, 'availability floor - 99% of requests answered ok throughout').outcome).toBe('holds');
    const fresh = assertion(mit, 'availability floor - fresh answers at least 98% before the fault');
    expect(fresh.outcome).toBe('violated');
    expect(fresh.observed.max!).toBeLessThan(0.5);
    expect(assertion(mit, FRESH_AFTER_HEAL).outcome).toBe('violated');
    expect(pidsOf(r.runDir).filter((p) => isAlive(p.pid))).toEqual([]);
  });

  it('Ctrl-C heals, stops everything and exits 130', async () => {
    const out = path.resolve(`runs/e2e-int-${Date.now()}`);
    const { child, done } = startCli(['run', scenario, '--variant', 'baseline', '--seed', '9', '--out', out]);
    let runDir = '';
    const ok = await waitFor(() => {
      if (!existsSync(out)) return false;
      const dirs = readdirSync(out).sort();
      runDir = path.join(out, dirs[dirs.length - 1] ?? '');
      const j = path.join(runDir, 'journal.jsonl');
      return existsSync(j) && readFileSync(j, 'utf8').includes('"fault-applied"');
    }, 60_000);
    expect(ok).toBe(true);
    child.kill('SIGINT');
    const res = await done;
    expect(res.code).toBe(130);
    const journal = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8');
    expect(journal).toContain('"interrupted"');
    expect(journal).toMatch(/"fault-healed"/);
    expect(pidsOf(runDir).filter((p) => isAlive(p.pid))).toEqual([]);
  });

  it('after the lab is killed with SIGKILL, the reaper stops what it started', async () => {
    const out = path.resolve(`runs/e2e-kill-${Date.now()}`);
    const { child, done } = startCli(['run', scenario, '--variant', 'baseline', '--seed', '10', '--out', out]);
    let runDir = '';
    const ok = await waitFor(() => {
      if (!existsSync(out)) return false;
      const dirs = readdirSync(out).sort();
      runDir = path.join(out, dirs[dirs.length - 1] ?? '');
      const j = path.join(runDir, 'journal.jsonl');
      return existsSync(j) && readFileSync(j, 'utf8').includes('"load-start"');
    }, 60_000);
    expect(ok).toBe(true);
    const pids = pidsOf(runDir);
    expect(pids.filter((p) => isAlive(p.pid)).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGKILL');
    await done;
    expect(await waitFor(() => pids.every((p) => !isAlive(p.pid)), 15_000)).toBe(true);
    const clean = await runCli(['clean']);
    expect(clean.code).toBe(0);
  });
});
