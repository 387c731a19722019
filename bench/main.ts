/**
 * `npm run bench`: the lab's speed targets, measured as a user meets them (the real CLI, the real
 * parts), printed as a table of medians. These machines are shared and noisy: targets are checked
 * here, never in timed unit tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'bin', 'chaoslab.js');

export interface Row {
  metric: string;
  value: number | string;
  unit: string;
  target: string;
  ok: boolean | null;
  note?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

interface JournalLine { kind: string; t: number; at: string; pid?: number; nodes?: { pid?: number }[]; skewMs?: number; final?: boolean }

function readJournal(runDir: string): JournalLine[] {
  const f = path.join(runDir, 'journal.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalLine);
}

function latestRunDir(out: string): string | undefined {
  if (!existsSync(out)) return undefined;
  const d = readdirSync(out).sort();
  return d.length ? path.join(out, d[d.length - 1]!) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** One start-up and teardown sample: spawn → load and timeline running (first fault armed); Ctrl-C → exit. */
async function startAndTeardown(scenario: string, extraArgs: string[] = []): Promise<{ startMs: number; teardownMs: number; leftOver: number }> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bench-'));
  try {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, 'run', scenario, '--variant', 'baseline', '--out', out, ...extraArgs], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    let startMs = NaN;
    for (let i = 0; i < 600 && Number.isNaN(startMs); i++) {
      await new Promise((r) => setTimeout(r, 20));
      const dir = latestRunDir(out);
      const armed = dir ? readJournal(dir).find((r) => r.kind === 'load-start') : undefined;
      if (armed) startMs = Date.parse(armed.at) - t0;
    }
    const dir = latestRunDir(out)!;
    const pids = readJournal(dir).flatMap((r) => (r.kind === 'part-started' && r.pid ? [r.pid] : r.kind === 'cluster-up' ? (r.nodes ?? []).flatMap((n) => (n.pid ? [n.pid] : [])) : []));
    const stopAt = Date.now();
    child.kill('SIGINT');
    await exited;
    const teardownMs = Date.now() - stopAt;
    return { startMs, teardownMs, leftOver: pids.filter(alive).length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

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

/**
 * The Docker runtime: image builds cold (the four images removed first) and warm (a cache check), then the
 * DynamoDB cluster (12 containers + Toxiproxy + Prometheus) from `run` to healthy and armed, and its teardown.
 */
async function dockerRows(reps: number): Promise<Row[]> {
  const { DockerEngine } = await import('../src/runtime/docker/engine.js');
  const { IMAGES } = await import('../src/runtime/docker/images.js');
  const { LABEL } = await import('../src/runtime/docker/labels.js');
  const engine = new DockerEngine(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {});
  try {
    await engine.ping(3000);
  } catch (e) {
    return [{ metric: 'Docker runtime', value: 'skipped', unit: '', target: '', ok: null, note: `no engine: ${(e as Error).message.split('\n')[0]}` }];
  }
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

  const samples = [];
  for (let i = 0; i < reps; i++) samples.push(await startAndTeardown(path.join(root, 'scenarios', 'dynamodb-2015-metadata-cascade.yaml'), ['--runtime', 'docker']));
  const scenarioLabel = [`${LABEL.scenario}=dynamodb-2015-metadata-cascade`];
  const [containers, networks] = await Promise.all([engine.listContainers(scenarioLabel), engine.listNetworks(scenarioLabel)]);
  const left = containers.length + networks.length + samples.reduce((n, s) => n + s.leftOver, 0);
  const start = median(samples.map((s) => s.startMs));
  const down = median(samples.map((s) => s.teardownMs));
  rows.push({ metric: 'docker: run → DynamoDB cluster healthy, armed (warm images)', value: start / 1000, unit: 's', target: '≤ 10 s', ok: start <= 10_000, note: `${reps} runs; min ${(Math.min(...samples.map((s) => s.startMs)) / 1000).toFixed(1)} s` });
  rows.push({ metric: 'docker: teardown (Ctrl-C → all removed)', value: down / 1000, unit: 's', target: '≤ 10 s', ok: down <= 10_000 && left === 0, note: `${left} container(s)/network(s)/process(es) left over` });
  return rows;
}

/**
 * The Kubernetes runtime, beside Docker's rows: the same DynamoDB scenario, run → healthy and first fault armed,
 * and teardown (Ctrl-C → the namespace gone). Needs KUBECONFIG (e.g. the local test cluster's).
 */
async function kubernetesRows(reps: number): Promise<Row[]> {
  const { loadKubeTarget } = await import('../src/runtime/kubernetes/cluster-api.js');
  const { LABEL } = await import('../src/runtime/docker/labels.js');
  const target = loadKubeTarget();
  const samples = [];
  for (let i = 0; i < reps; i++) samples.push(await startAndTeardown(path.join(root, 'scenarios', 'dynamodb-2015-metadata-cascade.yaml'), ['--runtime', 'kubernetes']));
  const left = (await target.core.listNamespace({ labelSelector: `${LABEL.scenario}=dynamodb-2015-metadata-cascade` })).items.length;
  const start = median(samples.map((s) => s.startMs));
  const down = median(samples.map((s) => s.teardownMs));
  return [
    { metric: `kubernetes: run → DynamoDB cluster healthy, armed (${target.context})`, value: start / 1000, unit: 's', target: '—', ok: Number.isFinite(start) ? null : false, note: `${reps} runs; min ${(Math.min(...samples.map((s) => s.startMs)) / 1000).toFixed(1)} s` },
    { metric: 'kubernetes: teardown (Ctrl-C → namespace gone)', value: down / 1000, unit: 's', target: '—', ok: left === 0 ? null : false, note: `${left} namespace(s) left over` },
  ];
}

function printTable(rows: Row[]): void {
  const head = ['metric', 'median', 'target', 'ok', 'note'];
  const cells = rows.map((r) => [r.metric, `${typeof r.value === 'number' ? +r.value.toFixed(2) : r.value} ${r.unit}`, r.target, r.ok === null ? '—' : r.ok ? 'yes' : 'NO', r.note ?? '']);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
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
  if (want('docker')) rows.push(...(await dockerRows(reps)));
  // Opt-in: named, or a cluster in KUBECONFIG.
  if (only.includes('kubernetes') || (only.length === 0 && process.env.KUBECONFIG)) rows.push(...(await kubernetesRows(reps)));
  printTable(rows);
  process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1;
}

await main();
