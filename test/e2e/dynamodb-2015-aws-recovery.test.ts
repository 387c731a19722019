/**
 * DynamoDB 2015, AWS's recovery, in processes: the two counterfactual variants. Without the pause the spares never
 * get their table; the pause without new capacity drains the primary, but the re-fetch herd restarts the storm.
 * Each reproduces the incident (and fails the availability floor the recovery meets), so the replay itself shows
 * that both steps were necessary. The recovery variant (baseline) is replayed in Docker by docker-scenarios.test.ts,
 * which is enough to prove it: this file does not replay it again. Two variants of 90 s, one CLI run.
 */
import { describe, expect, it } from 'vitest';
import { assertion, isAlive, pidsOf, runCli, variant } from '../utils/cli.js';

const scenario = 'scenarios/dynamodb-2015-aws-recovery.yaml';
const FLOOR = 'availability floor - 99% of client requests ok within 10s of resuming requests';
const SERVES = 'every storage node serves within 5s of resuming requests';

describe('dynamodb-2015-aws-recovery counterfactuals', () => {
  it('no pause: the spares never join; the pause without new capacity: the storm restarts', async () => {
    const run = await runCli(['run', scenario, '--json', '--variant', 'no-pause', '--variant', 'no-new-capacity', '--seed', '14', '--out', 'runs/e2e']);
    const r = run.json;
    const wrong = r.variants.flatMap((v) => v.assertions.filter((a) => !a.passed).map((a) => `${v.name}: "${a.name}" ${a.outcome}, expected ${a.expected} (${a.reason})`));
    expect(wrong, `run folder ${r.runDir}\n${run.stderr.slice(-2000)}`).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(r.passed).toBe(true);

    const noPause = variant(r, 'no-pause');
    expect(noPause.faults.map((f) => f.step)).not.toContain('pause-membership-requests');
    expect(assertion(noPause, 'added capacity joins during the pause').observed.max!).toBe(0);
    expect(assertion(noPause, SERVES).outcome).toBe('violated');
    expect(assertion(noPause, FLOOR).observed.max!).toBeLessThan(0.99);

    const noCapacity = variant(r, 'no-new-capacity');
    expect(noCapacity.faults.map((f) => f.step)).toContain('pause-membership-requests');
    expect(noCapacity.faults.map((f) => f.step)).not.toContain('capacity-not-yet-added');
    // The pause did its work (the primary's queue drained), and it was not enough.
    expect(assertion(noCapacity, "the pause drains the primary's queue").outcome).toBe('holds');
    expect(assertion(noCapacity, SERVES).outcome).toBe('violated');
    expect(assertion(noCapacity, FLOOR).observed.last!).toBeLessThan(0.99);

    expect(pidsOf(r.runDir).filter((p) => isAlive(p.pid))).toEqual([]);
  });
});
