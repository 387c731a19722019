/**
 * Test support for the Kubernetes runtime (test/e2e/kubernetes.test.ts; nothing here is for end-user paths).
 * A cluster is: KUBECONFIG naming one that answers, or (CI, as root) the local test cluster, which the test
 * brings up with scripts/k8s-test-cluster.sh and takes down again. In CI a missing cluster fails the suite; on a
 * developer's machine without one the file is skipped with one line saying why.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { checkKubeTarget, loadKubeTarget, type KubeTarget } from './cluster-api.js';

export interface KubeTestCluster {
  kubeconfig: string;
  target: KubeTarget;
  /** Whether this process brought the local test cluster up (then it takes it down). */
  ownsCluster: boolean;
}

async function answers(kubeconfig: string): Promise<KubeTarget | string> {
  try {
    const target = loadKubeTarget({ kubeconfig });
    await checkKubeTarget(target, 5000);
    return target;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  }
}

/**
 * For a test file's `beforeAll`: the cluster to test against, or undefined (skip) with the reason printed.
 * `up` runs the script; it is only tried in CI (it installs packages and needs root).
 */
export async function kubeTestCluster(file: string, projectRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeTestCluster | undefined> {
  if (env.KUBECONFIG) {
    const t = await answers(env.KUBECONFIG);
    if (typeof t !== 'string') return { kubeconfig: env.KUBECONFIG, target: t, ownsCluster: false };
    if (env.CI) throw new Error(`${file}: KUBECONFIG=${env.KUBECONFIG} does not answer: ${t}`);
    process.stderr.write(`skipped ${file}: KUBECONFIG names no cluster that answers (${t})\n`);
    return undefined;
  }
  if (!env.CI) {
    process.stderr.write(`skipped ${file}: no Kubernetes cluster (bash scripts/k8s-test-cluster.sh up, then set KUBECONFIG to the path it prints)\n`);
    return undefined;
  }
  const out = execFileSync('bash', [path.join(projectRoot, 'scripts', 'k8s-test-cluster.sh'), 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  const kubeconfig = out.trim().split('\n').pop()!;
  const t = await answers(kubeconfig);
  if (typeof t === 'string') throw new Error(`${file}: the local test cluster came up but does not answer: ${t}`);
  return { kubeconfig, target: t, ownsCluster: true };
}

export function stopKubeTestCluster(projectRoot: string): void {
  execFileSync('bash', [path.join(projectRoot, 'scripts', 'k8s-test-cluster.sh'), 'down'], { stdio: 'inherit', timeout: 120_000 });
}
