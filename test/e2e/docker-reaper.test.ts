/**
 * Cleanup that survives a crash: after `kill -9` of the lab mid-run, the Docker reaper removes every container
 * and network of the run within 15 s; `chaoslab clean` removes what a dead lab's run left when even its reaper
 * was lost. Skipped (one line) without Docker on a developer's machine; fails in CI.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGES } from '../../src/runtime/docker/images.js';
import { createLabels, formatOwner, LABEL } from '../../src/runtime/docker/labels.js';
import { leftoversOf, shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import { runCli, startCli, waitFor } from '../utils/cli.js';

const { run: haveDocker, engine } = await shouldRunDockerTests('docker-reaper.test.ts');

describe.runIf(haveDocker)('Docker cleanup after a crash', () => {
  it('kill -9 of the lab mid-run: the reaper removes all the run made within 15 s', async () => {
    const out = path.resolve(`runs/e2e-docker-kill-${Date.now()}`);
    const { child, done } = startCli(['run', 'scenarios/hello-latency.yaml', '--runtime', 'docker', '--variant', 'baseline', '--seed', '10', '--out', out]);
    let journal = '';
    const started = await waitFor(() => {
      if (!existsSync(out)) return false;
      const dirs = readdirSync(out).sort();
      const j = path.join(out, dirs[dirs.length - 1] ?? '', 'journal.jsonl');
      journal = existsSync(j) ? readFileSync(j, 'utf8') : '';
      return journal.includes('"load-start"');
    }, 120_000);
    expect(started, journal).toBe(true);
    const labels = { [LABEL.scenario]: 'hello-latency' };
    const before = await leftoversOf(engine, labels);
    // frontend, backend, toxiproxy, prometheus and the network
    expect(before.length, before.join(', ')).toBeGreaterThanOrEqual(5);
    child.kill('SIGKILL');
    await done;
    const killedAt = performance.now();
    let left = before;
    while (performance.now() - killedAt < 15_000) {
      left = await leftoversOf(engine, labels);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(left, `still there ${((performance.now() - killedAt) / 1000).toFixed(1)} s after kill -9`).toEqual([]);
  });

  it('chaoslab clean removes what a dead lab left, and leaves a live lab\'s run alone', async () => {
    const deadOwner = formatOwner({ host: os.hostname(), pid: 2 ** 22 + 1, startTime: '1' });
    const liveOwner = formatOwner({ host: os.hostname(), pid: process.pid, startTime: null });
    const made: string[] = [];
    try {
      for (const [runId, owner] of [[`clean-test-dead-${process.pid}`, deadOwner], [`clean-test-live-${process.pid}`, liveOwner]] as const) {
        const net = await engine.createNetwork(`chaoslab-${runId}`, createLabels(runId, { scenario: 'clean-test', part: 'network', owner }));
        made.push(net.id);
        const c = await engine.createContainer({
          name: `chaoslab-${runId}-node`,
          image: IMAGES.toys,
          cmd: ['/usr/local/bin/node', '-e', 'setTimeout(() => {}, 60000)'],
          labels: createLabels(runId, { scenario: 'clean-test', node: 'node', part: 'node', owner }),
          network: `chaoslab-${runId}`,
          aliases: ['node'],
          limits: { nanoCpus: 0.5e9, memoryBytes: 64 * 1024 * 1024, pids: 32 },
          readOnlyRoot: true,
        });
        made.push(c.id);
        await c.start();
      }
      const res = await runCli(['clean']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain(`clean-test-dead-${process.pid}`);
      expect(await leftoversOf(engine, { [LABEL.run]: `clean-test-dead-${process.pid}` })).toEqual([]);
      expect((await leftoversOf(engine, { [LABEL.run]: `clean-test-live-${process.pid}` })).length).toBe(2);
    } finally {
      await engine.removeByLabels([`${LABEL.scenario}=clean-test`]);
    }
  });
});
