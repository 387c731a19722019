/**
 * End to end: the Spanner replay (leases, TrueTime, a partition with clock skew) with the real Toxiproxy and
 * Prometheus and the real Porcupine checker, through the CLI (`chaoslab run … --json`), as a user runs it.
 * - the baseline reproduces: Porcupine finds a stale strong read in the merged client histories;
 * - the mitigated variant recovers: linearizable, commit wait ≥ 2ε, the bad clock evicted, the majority
 *   writable again within 10 s of the partition, the cut-off region serving snapshot reads;
 * - the control run (same load, no faults, the baseline's design only: the mitigated one adds nothing a run without
 *   faults could exercise) is linearizable and healthy;
 * - the histories are kept for other checkers (JSON lines, Jepsen EDN) with Porcupine's picture.
 * Seeds: CHAOSLAB_E2E_SEEDS as in the other replays; one seed by default (both variants and the control: ~2.7 min).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertion, e2eSeeds, root, runCli, type JsonResult, type JsonVariant } from '../utils/cli.js';
import { expectDashboardHasData } from '../utils/dashboards.js';

const SCENARIO = 'scenarios/spanner-2016-partition-clock-skew.yaml';
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-spanner-e2e-'));

const SEEDS = e2eSeeds();

async function chaoslab(args: string[]): Promise<{ code: number | null; run: JsonResult; stderr: string }> {
  const r = await runCli(['run', SCENARIO, '--json', '--out', runsDir, ...args]);
  return { code: r.code, run: r.json, stderr: r.stderr };
}

interface Linearizable {
  valid: boolean | 'unknown';
  ops: number;
  staleRead?: { key: string; value: string; expected: string };
  counterexample?: { key: string; expected: string; explanation: string; order: { f: string; value: string }[] };
}
const linearizable = (v: JsonVariant): Linearizable => (v.checkers as { linearizable?: Linearizable } | undefined)?.linearizable ?? { valid: 'unknown', ops: 0 };
const summary = (run: JsonResult) => run.variants.map((v) => `${v.name}: ${v.assertions.map((a) => `${a.passed ? '✓' : '✗'} ${a.name} (${a.outcome}, last ${a.observed.last})`).join('; ')}`).join('\n');

afterAll(() => {
  rmSync(runsDir, { recursive: true, force: true });
});

describe('spanner-2016-partition-clock-skew (real Toxiproxy, Prometheus and Porcupine)', () => {
  let firstRunDir: string | undefined;
  it('is built', () => {
    expect(existsSync(path.join(root, 'dist', 'toys', 'spanner', 'replica.js')), 'run `npm run build` first').toBe(true);
    expect(existsSync(path.join(root, '.tools', 'bin', 'chaoslab-linearizability')), 'run `npm run setup` (builds the Porcupine checker)').toBe(true);
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: the baseline serves a stale strong read, the mitigated variant stays linearizable and available`, async () => {
      const { code, run, stderr } = await chaoslab(['--seed', String(seed)]);
      firstRunDir ??= run.runDir;
      expect(run.passed, `${summary(run)}\n${stderr.slice(-1000)}`).toBe(true);
      expect(code).toBe(0);
      const baseline = run.variants.find((v) => v.name === 'baseline')!;
      const mitigated = run.variants.find((v) => v.name === 'mitigated')!;

      // Baseline: the checker's verdict from the recorded history, with the read that proves it.
      const b = linearizable(baseline);
      expect(b.valid).toBe(false);
      expect(b.staleRead?.value).toBeTruthy();
      expect(b.staleRead?.value).not.toBe(b.staleRead?.expected);
      expect(assertion(baseline, 'strong reads and writes are linearizable (Porcupine)').outcome).toBe('violated');
      // Porcupine's counterexample in --json and in report.html, not only in the journal.
      expect(b.counterexample?.key).toBe(b.staleRead?.key);
      expect(b.counterexample?.order.at(-1)).toMatchObject({ f: 'read', value: b.staleRead?.value });
      expect(b.counterexample?.explanation).toMatch(/stale read/);
      const report = readFileSync(path.join(run.runDir, 'report.html'), 'utf8');
      expect(report).toContain('<h2>Linearizability counterexample</h2>');
      expect(report).toContain(`baseline: not linearizable on <code>${b.staleRead?.key}</code>`);

      // Mitigated: linearizable, and the mechanisms fired at their cost, above the availability floor.
      expect(linearizable(mitigated).valid).toBe(true);
      expect(linearizable(mitigated).counterexample).toBeUndefined();
      expect(linearizable(mitigated).ops).toBeGreaterThan(1000);
      expect(assertion(mitigated, 'the bad clock is evicted').observed.last).toBeGreaterThan(0);
      expect(assertion(mitigated, 'no commit wait shorter than 2ε').observed.last).toBe(0);
      expect(assertion(mitigated, 'writes were committed (commit wait measured)').observed.last).toBeGreaterThan(100);
      expect(assertion(mitigated, 'majority-side writes back above 99% within 10s of the partition').passed).toBe(true);
      expect(assertion(mitigated, 'the cut-off region still serves snapshot reads').observed.min).toBeGreaterThan(0);
      expect(assertion(mitigated, 'minority snapshot reads served with staleness reported, bounded').passed).toBe(true);

      // The histories, for Knossos and for a second look.
      for (const v of ['baseline', 'mitigated']) {
        expect(readFileSync(path.join(run.runDir, v, 'register-history.edn'), 'utf8')).toMatch(/^\{:type :invoke, :f :(read|write), :value \["k\d+" /);
        expect(existsSync(path.join(run.runDir, v, 'register-history.jsonl'))).toBe(true);
      }
      expect(existsSync(path.join(run.runDir, 'baseline', 'linearizability.html'))).toBe(true);
      console.log(`[spanner e2e] seed ${seed}: baseline: ${b.counterexample?.explanation} (${b.ops} ops); mitigated linearizable over ${linearizable(mitigated).ops} ops, commit waits ${assertion(mitigated, 'writes were committed (commit wait measured)').observed.last} (shorter than 2ε: ${assertion(mitigated, 'no commit wait shorter than 2ε').observed.last}), clock evictions ${assertion(mitigated, 'the bad clock is evicted').observed.last}`);
    });
  }

  it('every query of the spanner dashboard and of the lab overview returns data from the run', async () => {
    expect(firstRunDir, 'the seeded run did not finish').toBeDefined();
    await expectDashboardHasData('spanner-truetime', firstRunDir!);
  });

  it('control run (same load, no faults): linearizable and healthy', async () => {
    const { code, run } = await chaoslab(['--control', '--variant', 'baseline', '--seed', String(SEEDS[0] ?? 1)]);
    expect(run.passed, summary(run)).toBe(true);
    expect(code).toBe(0);
    for (const v of run.variants) expect(linearizable(v).valid).toBe(true);
  });
});
