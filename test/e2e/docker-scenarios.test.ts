/**
 * One scenario, one variant, in the Docker runtime: each toy node in its own container, Toxiproxy and Prometheus
 * as containers on the run's network. The verdicts must be the ones the process runtime gives (each assertion's
 * outcome equals its expectation), and after the run no container or network of the run is left.
 *
 * One scenario proves the runtime (the project's rule: never replay every scenario in every runtime). It is
 * dynamodb-2015-aws-recovery because it exercises the most of the runtime: node faults through the Docker API
 * (the spare metadata nodes are killed at the start and started again at 38 s, as fresh containers), a link
 * fault through the Toxiproxy container (a timeout toxic on the storage-to-metadata links) and a cut of a whole
 * group of links (every storage-to-metadata link down, as a partition does), across ten nodes; its recovery
 * variant (baseline) is the one no process-runtime e2e file replays (dynamodb-2015-aws-recovery.test.ts replays
 * only its two counterfactuals), and it is the cheapest (one variant of 90 s). The other scenarios'
 * faults are the same Toxiproxy operations, which test/e2e/<scenario>.test.ts replays in processes.
 * Skipped (one line) without Docker on a developer's machine; fails in CI.
 */
import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/runtime/docker/labels.js';
import { leftoversOf, shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import { runCli } from '../utils/cli.js';

const { run: haveDocker, engine } = await shouldRunDockerTests('docker-scenarios.test.ts');

const SCENARIO = 'dynamodb-2015-aws-recovery';
const SEED = 1;
/** The recovery; the counterfactuals are replayed in processes (dynamodb-2015-aws-recovery.test.ts). */
const VARIANT = 'baseline';

describe.runIf(haveDocker)('a scenario in the Docker runtime', () => {
  it(`${SCENARIO} (${VARIANT}): the process runtime's verdicts; nothing is left behind`, async () => {
    const run = await runCli(['run', `scenarios/${SCENARIO}.yaml`, '--runtime', 'docker', '--variant', VARIANT, '--json', '--seed', String(SEED), '--out', 'runs/e2e-docker']);
    const r = run.json;
    const wrong = r.variants.flatMap((v) =>
      v.status !== 'completed'
        ? [`${v.name}: ${v.status}`]
        : v.assertions.filter((a) => a.outcome !== a.expected).map((a) => `${v.name}: "${a.name}" ${a.outcome}, expected ${a.expected} (${a.reason})`),
    );
    expect(wrong, `${SCENARIO} seed ${SEED} in Docker (run folder ${r.runDir}):\n${wrong.join('\n')}\n${run.stderr.slice(-2000)}`).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(r.passed).toBe(true);
    expect(r.variants.map((v) => v.name)).toEqual([VARIANT]);
    // The node fault went through the Docker API and was healed (the spares started), the link faults through Toxiproxy.
    const faults = r.variants.flatMap((v) => v.faults);
    for (const step of ['capacity-not-yet-added', 'disruption', 'pause-membership-requests']) {
      const f = faults.find((x) => x.step === step);
      expect(f, `fault step ${step}`).toBeDefined();
      expect(f!.appliedMs, step).not.toBeNull();
      expect(f!.healedMs, step).not.toBeNull();
    }
    expect(await leftoversOf(engine, { [LABEL.scenario]: SCENARIO })).toEqual([]);
  });
});
