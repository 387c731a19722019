/**
 * Every scenario, every variant, in the Docker runtime: each toy node in its own container, Toxiproxy and
 * Prometheus as containers on the run's network. The verdicts must be the ones the process runtime gives (each
 * assertion's outcome equals its expectation, as the per-scenario e2e tests require of local processes), and
 * after each run no container or network of the run is left. Skipped (one line) without Docker on a developer's
 * machine; fails in CI.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/runtime/docker/labels.js';
import { leftoversOf, shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import { root, runCli } from '../utils/cli.js';

const { run: haveDocker, engine } = await shouldRunDockerTests('docker-scenarios.test.ts');

/** The seeds the process runtime's e2e tests use, so a difference points at the runtime, not the seed. */
const SEEDS: Record<string, number> = { 'hello-latency': 7, 'dynamodb-2015-metadata-cascade': 11 };

const scenarios = readdirSync(path.join(root, 'scenarios'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => f.replace(/\.ya?ml$/, ''));

describe.runIf(haveDocker)('every scenario in the Docker runtime', () => {
  for (const id of scenarios) {
    it(`${id}: every variant gives the process runtime's verdicts; nothing is left behind`, async () => {
      const seed = SEEDS[id] ?? 1;
      const run = await runCli(['run', `scenarios/${id}.yaml`, '--runtime', 'docker', '--json', '--seed', String(seed), '--out', 'runs/e2e-docker']);
      const r = run.json;
      const wrong = r.variants.flatMap((v) =>
        v.status !== 'completed'
          ? [`${v.name}: ${v.status}`]
          : v.assertions.filter((a) => a.outcome !== a.expected).map((a) => `${v.name}: "${a.name}" ${a.outcome}, expected ${a.expected} (${a.reason})`),
      );
      expect(wrong, `${id} seed ${seed} in Docker (run folder ${r.runDir}):\n${wrong.join('\n')}\n${run.stderr.slice(-2000)}`).toEqual([]);
      expect(run.code, run.stderr).toBe(0);
      expect(r.passed).toBe(true);
      expect(r.variants.length).toBeGreaterThanOrEqual(1);
      expect(await leftoversOf(engine, { [LABEL.scenario]: id })).toEqual([]);
    });
  }
});
