/**
 * `npm run bench`: the lab's speed targets, measured as a user meets them (the real CLI, the real
 * parts), printed as a table of medians. These machines are shared and noisy: targets are checked
 * here, never in timed unit tests.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, latestRunDir, readJournal, root, startAndTeardown, type Sample } from './run-sample.js';
import { scaleRows, type BenchRuntime } from './scale.js';
import { formatTable, median, pct, type Row } from './table.js';

async function faultSkew(): Promise<number[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bench-'));
  try {
    await new Promise<void>((resolve) => spawn(process.execPath, [cli, 'run', path.join(root, 'bench', 'scenarios', 'fault-skew.yaml'), '--out', out], { stdio: 'ignore' }).on('close', () => resolve()));
    return readJournal(latestRunDir(out)!).filter((r) => (r.kind === 'fault-applied' || (r.kind === 'fault-healed' && !r.final)) && typeof r.skewMs === 'number').map((r) => Math.abs(r.skewMs!));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function startHelloBackend(): Promise<{ url: string; stop(): Promise<void> }> {
  const { ProcessRuntime } = await import('../src/runtime/process-runtime.js');
  const { freePort } = await import('../src/common/ports.js');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bench-'));
  const config = { name: 'backend', group: 'backend', index: 1, host: '127.0.0.1', ports: { http: port }, peers: {}, params: { workMs: 0 }, seed: 1, runId: 'bench' };
  const node = await new ProcessRuntime({ baseEnv: { PATH: process.env.PATH ?? '' } }).start({
    name: 'backend',
    group: 'backend',
    command: [process.execPath, path.join(root, 'dist', 'toys', 'hello', 'backend.js')],
    cwd: root,
    env: { CHAOSLAB_NODE: JSON.stringify(config) },
    logFile: path.join(dir, 'backend.log'),
    healthUrl: `http://127.0.0.1:${port}/health`,
    healthTimeoutMs: 10_000,
  });
  await node.waitHealthy();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Seconds of a CLI command, which must succeed. */
async function timeCli(args: string[]): Promise<number> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [cli, ...args], { stdio: 'ignore' }).on('close', resolve));
  if (code !== 0) throw new Error(`chaoslab ${args.join(' ')} exited ${code}`);
  return performance.now() - t0;
}

const DYNAMO = path.join(root, 'scenarios', 'dynamodb-2015-metadata-cascade.yaml');
const DYNAMO_LABEL = 'dynamodb-2015-metadata-cascade';

async function dockerEngine() {
  const { DockerEngine } = await import('../src/runtime/docker/engine.js');
  const engine = new DockerEngine(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {});
  try {
    await engine.ping(3000);
    return engine;
  } catch (e) {
    return `no engine: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** The Docker runtime's images: built cold (the four images removed first) and warm (a cache check). */
async function dockerImageRows(reps: number): Promise<Row[]> {
  const { IMAGES } = await import('../src/runtime/docker/images.js');
  const engine = await dockerEngine();
  if (typeof engine === 'string') return [{ metric: 'Docker runtime', value: 'skipped', unit: '', target: '', ok: null, note: engine }];
  const rows: Row[] = [];
  for (const ref of [IMAGES.toys, IMAGES.toxiproxy, IMAGES.prometheus, IMAGES.node]) {
    const id = await engine.imageId(ref);
    if (id) await engine.removeImage(id);
  }
  await engine.pruneDanglingImages();
  const cold = await timeCli(['images', 'build', '--source', 'local']);
  rows.push({ metric: 'docker: image build, cold (4 images, offline)', value: cold / 1000, unit: 's', target: '—', ok: null, note: 'one build; the engine\'s layer cache emptied' });
  const warm: number[] = [];
  for (let i = 0; i < reps; i++) warm.push(await timeCli(['images', 'build', '--source', 'local']));
  rows.push({ metric: 'docker: image build, warm (nothing changed)', value: median(warm) / 1000, unit: 's', target: 'seconds', ok: median(warm) < 5000, note: `${reps} checks` });
  return rows;
}

interface Limit {
  target: string;
  limitMs?: number;
}

/** Start and teardown rows of one runtime's DynamoDB samples; a run that never armed or never exited fails its row. */
function runRows(runtime: string, samples: Sample[], left: number, leftWhat: string, start: Limit & { what: string }, down: Limit & { what: string }): Row[] {
  const armed = samples.filter((s) => Number.isFinite(s.startMs));
  const exited = samples.filter((s) => Number.isFinite(s.teardownMs));
  const problems = [...new Set(samples.flatMap((s) => (s.problem ? [s.problem] : [])))];
  const startMs = median(armed.map((s) => s.startMs));
  const downMs = median(exited.map((s) => s.teardownMs));
  const judge = (ms: number, l: Limit) => (Number.isNaN(ms) ? false : l.limitMs === undefined ? null : ms <= l.limitMs);
  return [
    {
      metric: `${runtime}: run → DynamoDB cluster healthy, armed${start.what}`,
      value: startMs / 1000,
      unit: 's',
      target: start.target,
      ok: armed.length === samples.length ? judge(startMs, start) : false,
      note: `${armed.length} of ${samples.length} runs armed; min ${(Math.min(...armed.map((s) => s.startMs)) / 1000).toFixed(1)} s${problems.length ? `; ${problems.join(' / ')}` : ''}`,
    },
    {
      metric: `${runtime}: teardown (${down.what})`,
      value: downMs / 1000,
      unit: 's',
      target: down.target,
      ok: left === 0 && exited.length === samples.length ? judge(downMs, down) : false,
      note: `${exited.length} of ${samples.length} runs exited; ${left} ${leftWhat} left over`,
    },
  ];
}

/** The DynamoDB cluster (12 containers + Toxiproxy + Prometheus) from `run` to healthy and armed, and its teardown. */
async function dockerRunRows(reps: number): Promise<Row[]> {
  const { LABEL } = await import('../src/runtime/docker/labels.js');
  const engine = await dockerEngine();
  if (typeof engine === 'string') return [{ metric: 'docker: DynamoDB cluster', value: 'skipped', unit: '', target: '', ok: null, note: engine }];
  const samples = [];
  for (let i = 0; i < reps; i++) samples.push(await startAndTeardown(DYNAMO, { args: ['--runtime', 'docker'], armTimeoutMs: 120_000 }));
  const scenarioLabel = [`${LABEL.scenario}=${DYNAMO_LABEL}`];
  const [containers, networks] = await Promise.all([engine.listContainers(scenarioLabel), engine.listNetworks(scenarioLabel)]);
  const left = containers.length + networks.length + samples.reduce((n, s) => n + s.leftOver, 0);
  return runRows('docker', samples, left, 'container(s)/network(s)/process(es)', { target: '≤ 10 s', limitMs: 10_000, what: ' (warm images)' }, { target: '≤ 10 s', limitMs: 10_000, what: 'Ctrl-C → all removed' });
}

/**
 * The Kubernetes runtime, beside Docker's rows: the same DynamoDB scenario, run → healthy and first fault armed,
 * and teardown (Ctrl-C → the namespace gone). Needs KUBECONFIG (e.g. the local test cluster's).
 */
async function kubernetesRows(reps: number): Promise<Row[]> {
  const { loadKubeTarget, checkKubeTarget } = await import('../src/runtime/kubernetes/cluster-api.js');
  const { LABEL } = await import('../src/runtime/docker/labels.js');
  let target;
  try {
    target = loadKubeTarget();
    await checkKubeTarget(target, 5000);
  } catch (e) {
    return [{ metric: 'kubernetes: DynamoDB cluster', value: 'skipped', unit: '', target: '', ok: false, note: (e as Error).message.split('\n')[0]! }];
  }
  const samples = [];
  // Fourteen pods on a small cluster: a minute or more; the bound only keeps a stuck run from hanging the bench.
  for (let i = 0; i < reps; i++) samples.push(await startAndTeardown(DYNAMO, { args: ['--runtime', 'kubernetes'], armTimeoutMs: 600_000, exitTimeoutMs: 180_000 }));
  const left = (await target.core.listNamespace({ labelSelector: `${LABEL.scenario}=${DYNAMO_LABEL}` })).items.length;
  const rows = runRows('kubernetes', samples, left, 'namespace(s)', { target: '—', what: '' }, { target: '—', what: 'Ctrl-C → namespace gone' });
  rows[0]!.note = `context ${target.context}; ${rows[0]!.note}`;
  return rows;
}

async function main(): Promise<void> {
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const only = process.argv.slice(2);
  const want = (k: string) => only.length === 0 || only.includes(k);
  const rows: Row[] = [];

  if (want('startup')) {
    const samples = [];
    for (let i = 0; i < reps; i++) samples.push(await startAndTeardown(path.join(root, 'scenarios', 'hello-latency.yaml')));
    const start = median(samples.map((s) => s.startMs));
    const down = median(samples.map((s) => s.teardownMs));
    const left = samples.reduce((n, s) => n + s.leftOver, 0);
    rows.push({ metric: 'run → cluster healthy, first fault armed (hello-latency)', value: start, unit: 'ms', target: '≤ 3000 ms', ok: start <= 3000, note: `${reps} runs; min ${Math.min(...samples.map((s) => s.startMs))}` });
    rows.push({ metric: 'teardown (Ctrl-C → all stopped)', value: down, unit: 'ms', target: '≤ 2000 ms', ok: down <= 2000 && left === 0, note: `${left} process(es) left over` });
  }
  if (want('skew')) {
    const skews = await faultSkew();
    const p99 = pct(skews, 99);
    rows.push({ metric: 'fault actuation skew p99 (scheduled vs applied)', value: p99, unit: 'ms', target: '≤ 25 ms', ok: p99 <= 25, note: `${skews.length} actions; median ${median(skews).toFixed(2)} ms, max ${Math.max(...skews).toFixed(1)} ms` });
  }
  if (want('loadgen')) {
    // Against the toy backend (hello's), as a scenario's load meets it, side by side with autocannon.
    const { benchLoadGenerator } = await import('./loadgen.js');
    const backend = await startHelloBackend();
    try {
      rows.push(...(await benchLoadGenerator(backend.url, { repetitions: Math.min(reps, 3), getPath: '/item/{key}' })));
    } finally {
      await backend.stop();
    }
  }
  if (want('docker')) rows.push(...(await dockerImageRows(reps)));
  // `kubernetes` brings Docker's DynamoDB rows along, so the two runtimes are compared in one run.
  if (want('docker') || only.includes('kubernetes')) rows.push(...(await dockerRunRows(reps)));
  // Opt-in: named, or a cluster in KUBECONFIG.
  if (only.includes('kubernetes') || (only.length === 0 && process.env.KUBECONFIG)) rows.push(...(await kubernetesRows(reps)));
  // Cost against cluster size, per runtime: heavy (nine runs up to 30 nodes), so only when named.
  if (only.includes('scale') || only.includes('kubernetes')) {
    const runtimes: BenchRuntime[] = only.includes('kubernetes') || process.env.KUBECONFIG ? ['process', 'docker', 'kubernetes'] : ['process', 'docker'];
    rows.push(...(await scaleRows(runtimes)));
  }
  for (const line of formatTable(rows)) console.log(line);
  process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1;
}

await main();
