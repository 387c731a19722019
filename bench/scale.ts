/**
 * What a cluster's size costs in each runtime: one run of a bench-only cluster of N hello backends (N = 3, 10, 30;
 * bench/fixtures/scale-cluster.yaml, written with `replicas: N` to a temp folder) per runtime and size: run →
 * healthy and armed, and the memory of the toy nodes and the lab's parts, sampled once the first fault is in
 * (memory.ts says what each runtime's figure counts). Each run is then interrupted, and checked to leave nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { CoreV1Api } from '@kubernetes/client-node';
import { LIMITS } from '../src/scenario/limits.js';
import { LABEL } from '../src/runtime/docker/labels.js';
import { byRole, cpuMillis, describeParts, kubePodsMemory, MiB, sampleContainers, sampleProcesses, type MemorySample } from './memory.js';
import { readJournal, root, startAndTeardown, type Sample } from './run-sample.js';
import type { Row } from './table.js';

export const SCALE_SIZES = [3, 10, 30] as const;
export const SCALE_SCENARIO = 'bench-scale';
export type BenchRuntime = 'process' | 'docker' | 'kubernetes';

const FIXTURES = path.join(root, 'bench', 'fixtures');
const CLUSTER_FILE = 'scale-cluster.yaml';
const SCENARIO_FILE = 'scale.yaml';
/** The one group of the fixture cluster. */
const GROUP = 'backend';

/** The fixture cluster with `replicas: n` (its comments kept); n within the lab's replica limit. */
export function scaleCluster(clusterText: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > LIMITS.replicas) throw new RangeError(`replicas must be 1–${LIMITS.replicas} (src/scenario/limits.ts), got ${n}`);
  const doc = parseDocument(clusterText);
  if (!doc.hasIn(['nodes', GROUP])) throw new Error(`the fixture cluster has no node group "${GROUP}"`);
  doc.setIn(['nodes', GROUP, 'replicas'], n);
  return doc.toString();
}

/** Writes the scenario and its N-node cluster side by side into `dir`; returns the scenario's path. */
export function writeScaleFixture(dir: string, n: number): string {
  writeFileSync(path.join(dir, CLUSTER_FILE), scaleCluster(readFileSync(path.join(FIXTURES, CLUSTER_FILE), 'utf8'), n));
  writeFileSync(path.join(dir, SCENARIO_FILE), readFileSync(path.join(FIXTURES, SCENARIO_FILE), 'utf8'));
  return path.join(dir, SCENARIO_FILE);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the run's first fault is applied (the cluster is up and faulted), or after `timeoutMs`. */
async function firstFault(runDir: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (readJournal(runDir).some((r) => r.kind === 'fault-applied')) return true;
    await sleep(100);
  }
  return false;
}

interface Measured {
  memory: MemorySample;
  faultSeen: boolean;
  extra?: string;
}

interface Probe {
  runtime: BenchRuntime;
  armTimeoutMs: number;
  sample(runDir: string, labPid: number): Promise<{ memory: MemorySample; extra?: string }>;
  /** Objects of the scenario still there after the run ended. */
  leftOver(): Promise<number>;
}

function processProbe(): Probe {
  return { runtime: 'process', armTimeoutMs: 120_000, sample: async (runDir, labPid) => ({ memory: sampleProcesses(runDir, labPid) }), leftOver: async () => 0 };
}

async function dockerProbe(): Promise<Probe | string> {
  const { DockerEngine } = await import('../src/runtime/docker/engine.js');
  const engine = new DockerEngine(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {});
  try {
    await engine.ping(3000);
  } catch (e) {
    return `no engine: ${(e as Error).message.split('\n')[0]}`;
  }
  const label = [`${LABEL.scenario}=${SCALE_SCENARIO}`];
  return {
    runtime: 'docker',
    armTimeoutMs: 300_000,
    sample: async (_runDir, labPid) => ({ memory: await sampleContainers(await engine.listContainers(label), (id) => engine.docker.getContainer(id), LABEL.part, labPid) }),
    leftOver: async () => (await engine.listContainers(label)).length + (await engine.listNetworks(label)).length,
  };
}

async function kubernetesProbe(): Promise<Probe | string> {
  const { loadKubeTarget, checkKubeTarget } = await import('../src/runtime/kubernetes/cluster-api.js');
  let core: CoreV1Api;
  try {
    const target = loadKubeTarget();
    await checkKubeTarget(target, 5000);
    core = target.core;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
  const selector = `${LABEL.scenario}=${SCALE_SCENARIO}`;
  return {
    runtime: 'kubernetes',
    // 30 pods on a 2-core single-node cluster: minutes, not seconds.
    armTimeoutMs: 900_000,
    sample: (_runDir, labPid) => sampleKube(core, selector, labPid),
    leftOver: async () => (await core.listNamespace({ labelSelector: selector })).items.length,
  };
}

/**
 * The working set of every pod of the run's namespace, from each node's kubelet summary through the API server. A
 * new pod's stats appear after the kubelet's next housekeeping: poll until every pod of the namespace has them.
 */
async function sampleKube(core: CoreV1Api, selector: string, labPid: number): Promise<{ memory: MemorySample; extra?: string }> {
  const { parseOwner } = await import('../src/runtime/docker/labels.js');
  const { ANNOTATION } = await import('../src/runtime/kubernetes/pods.js');
  const { rssOf } = await import('./memory.js');
  const spaces = (await core.listNamespace({ labelSelector: selector })).items.filter((n) => n.status?.phase !== 'Terminating');
  const ns = spaces.find((n) => parseOwner(n.metadata?.annotations?.[ANNOTATION.owner])?.pid === labPid) ?? (spaces.length === 1 ? spaces[0] : undefined);
  const namespace = ns?.metadata?.name;
  if (!namespace) throw new Error(`no single namespace of the run (${spaces.length} labelled ${selector})`);
  const pods = (await core.listNamespacedPod({ namespace })).items;
  const roleOf = new Map(pods.map((p) => [p.metadata?.name ?? '', p.metadata?.labels?.[LABEL.part] ?? 'other']));
  const requested = pods.reduce((m, p) => m + (p.spec?.containers ?? []).reduce((c, k) => c + cpuMillis(k.resources?.requests?.cpu), 0), 0);
  const nodes = (await core.listNode()).items;
  const allocatable = nodes.reduce((m, n) => m + cpuMillis(n.status?.allocatable?.cpu), 0);
  const summaries = () =>
    Promise.all(
      nodes.map(async (n) => {
        const body: unknown = await core.connectGetNodeProxyWithPath({ name: n.metadata!.name!, path: 'stats/summary' });
        return (typeof body === 'string' ? JSON.parse(body) : body) as Parameters<typeof kubePodsMemory>[0][number];
      }),
    );
  let result = kubePodsMemory(await summaries(), namespace, (pod) => roleOf.get(pod) ?? 'other');
  const until = Date.now() + 120_000;
  while (result.items.length < pods.length || result.missing.length > 0) {
    if (Date.now() > until) {
      result = kubePodsMemory(await summaries(), namespace, (pod) => roleOf.get(pod) ?? 'other', true);
      break;
    }
    await sleep(3000);
    result = kubePodsMemory(await summaries(), namespace, (pod) => roleOf.get(pod) ?? 'other');
  }
  const parts = byRole(result.items);
  const lab = rssOf(labPid);
  const short = pods.length - result.items.length;
  return {
    memory: {
      parts,
      totalBytes: parts.reduce((n, p) => n + p.bytes, 0),
      ...(lab === undefined ? {} : { labBytes: lab }),
      counts: `working set of ${result.items.length} pods (kubelet summary via the API server)`,
      ...(short > 0 || result.fellBack.length
        ? { aside: [short > 0 ? `${short} pod(s) had no stats within 120 s, not counted` : '', result.fellBack.length ? `${result.fellBack.length} pod(s) counted by their containers (no pod figure within 120 s)` : ''].filter(Boolean).join('; ') }
        : {}),
    },
    extra: `CPU requested ${(requested / 1000).toFixed(2)} of ${(allocatable / 1000).toFixed(2)} allocatable cores`,
  };
}

async function probeFor(runtime: BenchRuntime): Promise<Probe | string> {
  return runtime === 'process' ? processProbe() : runtime === 'docker' ? dockerProbe() : kubernetesProbe();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Rows of one runtime and size: start, then memory. */
export function scaleRowsOf(runtime: BenchRuntime, n: number, s: Sample<Measured>, left: number): Row[] {
  const label = `scale: ${runtime}, ${n} nodes`;
  const teardown = `teardown ${Number.isNaN(s.teardownMs) ? 'timed out' : seconds(s.teardownMs)}, ${left} object(s)/process(es) left`;
  const started = Number.isFinite(s.startMs);
  const start: Row = {
    metric: `${label}: run → healthy, armed`,
    value: started ? s.startMs / 1000 : 'failed',
    unit: started ? 's' : '',
    target: '—',
    ok: started && left === 0 && !Number.isNaN(s.teardownMs) ? null : false,
    note: [started ? '' : s.problem, teardown, s.measured?.extra].filter(Boolean).join('; '),
  };
  const m = s.measured?.memory;
  const memory: Row = m
    ? {
        metric: `${label}: memory, nodes + Toxiproxy + Prometheus`,
        value: m.totalBytes / MiB,
        unit: 'MiB',
        target: '—',
        ok: null,
        note: [
          `${m.counts}: ${describeParts(m.parts, n)}`,
          m.aside,
          m.labBytes !== undefined ? `lab process ${(m.labBytes / MiB).toFixed(0)} MiB RSS, not counted` : undefined,
          s.measured!.faultSeen ? undefined : 'sampled before any fault was applied',
        ]
          .filter(Boolean)
          .join('; '),
      }
    : { metric: `${label}: memory, nodes + Toxiproxy + Prometheus`, value: 'not measured', unit: '', target: '—', ok: false, note: s.problem ?? 'the run never came up' };
  return [start, memory];
}

/** One run per runtime and size; a runtime that is not available gets one row saying why. */
export async function scaleRows(runtimes: BenchRuntime[], sizes: readonly number[] = SCALE_SIZES): Promise<Row[]> {
  const rows: Row[] = [];
  for (const runtime of runtimes) {
    const probe = await probeFor(runtime);
    if (typeof probe === 'string') {
      rows.push({ metric: `scale: ${runtime}`, value: 'skipped', unit: '', target: '', ok: null, note: probe });
      continue;
    }
    for (const n of sizes) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bench-scale-'));
      try {
        const s = await startAndTeardown<Measured>(writeScaleFixture(dir, n), {
          args: ['--runtime', runtime],
          armTimeoutMs: probe.armTimeoutMs,
          exitTimeoutMs: 180_000,
          whileUp: async ({ runDir, labPid }) => {
            const faultSeen = await firstFault(runDir, 30_000);
            return { ...(await probe.sample(runDir, labPid)), faultSeen };
          },
        });
        rows.push(...scaleRowsOf(runtime, n, s, s.leftOver + (await probe.leftOver())));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return rows;
}
