/**
 * The Kubernetes runtime against a real Kubernetes (the local test cluster: scripts/k8s-test-cluster.sh, or any
 * cluster KUBECONFIG names): hello-latency and the Spanner replay, both variants each, give the verdicts the
 * process runtime gives, with the load generator in a pod; every pod is unprivileged; after a kill -9 of the lab
 * (and of its reaper) `chaoslab clean` deletes the run's namespace; a bad kubeconfig or context is exit 3 naming
 * the context and the reason. Without a cluster outside CI: skipped with one line; in CI the file brings the local
 * test cluster up and down itself.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeTestCluster, stopKubeTestCluster, type KubeTestCluster } from '../../src/runtime/kubernetes/testing.js';
import { LABEL } from '../../src/runtime/docker/labels.js';
import { assertion, failures, root, runCli, startCli, variant, waitFor, type JsonResult } from '../utils/cli.js';

const scenario = 'test/fixtures/scenarios/hello-short.yaml';
const cluster: KubeTestCluster | undefined = await kubeTestCluster('kubernetes.test.ts', root);

/** The lab's namespaces (any run) of this scenario, with their phase. */
async function labNamespaces(c: KubeTestCluster, scenarioId = 'hello-short'): Promise<string[]> {
  const list = await c.target.core.listNamespace({ labelSelector: `${LABEL.scenario}=${scenarioId}` });
  return list.items.map((n) => `${n.metadata!.name} (${n.status?.phase})`);
}

function verdicts(r: ReturnType<typeof variant>): Record<string, string> {
  return Object.fromEntries(r.assertions.map((a) => [a.name, a.outcome]));
}

describe.runIf(cluster)('Kubernetes runtime', () => {
  const c = cluster!;
  const env = { KUBECONFIG: c?.kubeconfig ?? '' };

  afterAll(() => {
    if (c?.ownsCluster) stopKubeTestCluster(root);
  });

  /**
   * A replay on Kubernetes, both variants: every assertion's outcome is the one the scenario expects, which is what
   * the process runtime's own e2e file for that scenario asserts (its variants pass: outcome = expected for every
   * assertion), so the two runtimes give the same verdicts without replaying the process side again here. The load
   * ran in the cluster (its pod's log has both loads; its targets were pod addresses), and nothing is left.
   */
  async function replayOnKubernetes(file: string, seed: number, scenarioId: string): Promise<JsonResult> {
    const run = await runCli(['run', file, '--runtime', 'kubernetes', '--seed', String(seed), '--json', '--out', 'runs/e2e-kubernetes'], { env });
    const r = run.json;
    expect(run.code, `${failures(r)}\n${run.stderr}`).toBe(0);
    expect(r.variants.map((v) => v.name)).toEqual(['baseline', 'mitigated']);
    for (const v of r.variants) {
      expect(v.status).toBe('completed');
      expect(v.assertions.length).toBeGreaterThan(1);
      expect(verdicts(v), v.name).toEqual(Object.fromEntries(v.assertions.map((a) => [a.name, a.expected])));
      expect(v.load!.ok, v.name).toBeGreaterThan(0);
    }
    const journal = readFileSync(path.join(r.runDir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; targets?: string[] });
    const targets = journal.filter((e) => e.kind === 'load-start').flatMap((e) => e.targets ?? []);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(t, 'the load runs in the cluster, at pod addresses').not.toMatch(/^http:\/\/127\./);
    const loadLog = readFileSync(path.join(r.runDir, 'logs', 'load-generator.log'), 'utf8');
    expect(loadLog.match(/"finished"/g)?.length, loadLog).toBe(2);
    expect(await labNamespaces(c, scenarioId)).toEqual([]);
    return r;
  }

  // The two replays run at once, each in its own namespace, as two teams' runs share a cluster: neither may
  // disturb the other's pods, proxies or series (and the file costs the longer replay, not both).
  it.concurrent('hello-latency: both variants on Kubernetes, the verdicts of the process runtime; the load runs in the cluster', async () => {
    const r = await replayOnKubernetes('scenarios/hello-latency.yaml', 7, 'hello-latency');
    // The mechanism, not only the outcome: the baseline's p99 while slow is the backend's latency, the fallback's is not.
    expect(assertion(variant(r, 'baseline'), 'p99 under 500ms during the slow backend').observed.max!).toBeGreaterThan(0.5);
    expect(assertion(variant(r, 'mitigated'), 'degraded (fallback) share during the slow backend').observed.mean!).toBeGreaterThan(0.5);
  });

  it.concurrent('spanner-2016-partition-clock-skew: both variants on Kubernetes, the verdicts of the process runtime (clock fault, partition, Porcupine)', async () => {
    const r = await replayOnKubernetes('scenarios/spanner-2016-partition-clock-skew.yaml', 1, 'spanner-2016-partition-clock-skew');
    // The checker judged a history recorded in the cluster: the baseline's stale read is a real counterexample.
    const anomalies = 'strong reads and writes are linearizable (Porcupine)';
    expect(assertion(variant(r, 'baseline'), anomalies).outcome).toBe('violated');
    expect(assertion(variant(r, 'mitigated'), anomalies).outcome).toBe('holds');
  });

  it('kill -9 of the lab and its reaper mid-run: pods were unprivileged, and `chaoslab clean` deletes the namespace', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-k8s-kill-'));
    const { child, done } = startCli(['run', scenario, '--runtime', 'kubernetes', '--variant', 'baseline', '--seed', '2', '--out', out], { env });
    let journal = '';
    const started = await waitFor(() => {
      const dirs = existsSync(out) ? readdirSync(out).sort() : [];
      const j = path.join(out, dirs[dirs.length - 1] ?? '', 'journal.jsonl');
      journal = existsSync(j) ? readFileSync(j, 'utf8') : '';
      return journal.includes('"load-start"');
    }, 90_000);
    expect(started, journal).toBe(true);
    const [ns] = (await c.target.core.listNamespace({ labelSelector: `${LABEL.scenario}=hello-short` })).items;
    const namespace = ns!.metadata!.name!;
    const pods = (await c.target.core.listNamespacedPod({ namespace })).items;
    // frontend, backend, toxiproxy, prometheus, the load generator
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual(['backend', 'chaoslab-load', 'chaoslab-prometheus', 'chaoslab-toxiproxy', 'frontend']);
    for (const pod of pods) {
      expect(pod.spec!.hostNetwork ?? false, pod.metadata!.name).toBe(false);
      expect(pod.spec!.hostPID ?? false).toBe(false);
      expect(pod.spec!.securityContext?.runAsNonRoot).toBe(true);
      for (const ct of [...pod.spec!.containers, ...(pod.spec!.initContainers ?? [])]) {
        const where = `${pod.metadata!.name}/${ct.name}`;
        expect(ct.securityContext?.privileged ?? false, where).toBe(false);
        expect(ct.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(ct.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
        expect(ct.securityContext?.runAsUser, where).toBe(65534);
        expect(ct.resources?.limits?.memory, where).toBeDefined();
        expect(ct.resources?.requests?.cpu, where).toBeDefined();
      }
    }
    // The reaper would delete the namespace itself: kill it too, so only `chaoslab clean` is left to do it.
    const reapers = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(namespace);
        } catch {
          return false;
        }
      })
      .map(Number);
    expect(reapers.length).toBe(1);
    for (const pid of reapers) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    await done;
    const clean = await runCli(['clean'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`deleted namespace ${namespace}`);
    let left = await labNamespaces(c);
    const t0 = Date.now();
    while (left.length && Date.now() - t0 < 30_000) {
      await new Promise((r) => setTimeout(r, 250));
      left = await labNamespaces(c);
    }
    expect(left).toEqual([]);
  });

  it('a kubeconfig whose API server does not answer, or a missing context: exit 3 naming the context', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-kubeconfig-'));
    const bad = path.join(dir, 'kubeconfig');
    writeFileSync(
      bad,
      ['apiVersion: v1', 'kind: Config', 'clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]', 'users: [{name: u, user: {token: x}}]', 'contexts: [{name: nowhere-ctx, context: {cluster: nowhere, user: u}}]', 'current-context: nowhere-ctx', ''].join('\n'),
    );
    const down = await runCli(['run', scenario, '--runtime', 'kubernetes', '--variant', 'baseline'], { env: { KUBECONFIG: bad } });
    expect(down.code, down.stderr).toBe(3);
    expect(down.stderr).toContain('nowhere-ctx');
    expect(down.stderr).toMatch(/ECONNREFUSED|connect/);
    expect(down.stderr).not.toMatch(/^\s+at /m);
    const missing = await runCli(['run', scenario, '--runtime', 'kubernetes', '--kube-context', 'no-such-ctx', '--variant', 'baseline'], { env: { KUBECONFIG: bad } });
    expect(missing.code, missing.stderr).toBe(3);
    expect(missing.stderr).toContain('no-such-ctx');
    expect(missing.stderr).toContain('no such context');
  });
});
