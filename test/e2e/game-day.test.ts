/**
 * Game days with the real parts: `run --keep` and `up` leave a cluster, Toxiproxy and Prometheus running after the
 * lab exits (the reaper stood down), at the addresses they print; `down` and `clean` stop every process of it.
 * A short fixture scenario keeps this quick (about 30 s); its verdicts are not the point here. Each test has its own
 * state dir, so `clean` and `down --all` here never touch another run on the machine.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeptRecord } from '../../src/runtime/kept.js';
import { isSameProcessAlive } from '../../src/runtime/proc.js';
import { LABEL } from '../../src/runtime/docker/labels.js';
import { leftoversOf, shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import { runCli, waitFor, type UpJson } from '../utils/cli.js';

const scenario = 'test/fixtures/scenarios/hello-short.yaml';
const stateDirs: string[] = [];

function freshStateDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'chaoslab-gameday-'));
  stateDirs.push(d);
  return d;
}

function keptRecords(stateDir: string): KeptRecord[] {
  const dir = path.join(stateDir, 'kept');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as KeptRecord);
}

// Whatever a failed test left up is stopped through the same path users have.
afterEach(async () => {
  for (const d of stateDirs.splice(0)) {
    if (keptRecords(d).length) await runCli(['down', '--all'], { env: { CHAOSLAB_STATE_DIR: d } });
    rmSync(d, { recursive: true, force: true });
  }
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}

async function instant(prometheus: string, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const { body } = await get(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (JSON.parse(body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

function alive(record: KeptRecord): string[] {
  return (record.processes ?? []).filter((p) => isSameProcessAlive(p.pid, p.startTime)).map((p) => `${p.label}[${p.pid}]`);
}

describe('game day (process runtime)', () => {
  it('run --keep leaves the last variant up at the printed addresses after the lab exits; down stops all of it', async () => {
    const stateDir = freshStateDir();
    const env = { CHAOSLAB_STATE_DIR: stateDir };
    const run = await runCli(['run', scenario, '--variant', 'baseline', '--keep', '--seed', '5', '--out', 'runs/e2e-gameday'], { env });
    expect(run.code, run.stderr).toBe(0);
    const [record] = keptRecords(stateDir);
    expect(record, run.stdout).toBeDefined();
    const k = record!;

    // What it printed is what is up.
    expect(run.stdout).toContain('kept up for a game day: hello-short, variant baseline');
    expect(run.stdout).toContain(`prometheus           ${k.prometheus}`);
    expect(run.stdout).toContain(`npx chaoslab down ${path.relative(process.cwd(), k.runDir)}`);
    expect(k.runtime).toBe('process');
    expect(k.processes!.map((p) => p.label).sort()).toEqual(['backend', 'frontend', 'prometheus', 'toxiproxy']);
    expect(alive(k)).toHaveLength(4);
    // The reaper stood down (its state file went with it); the run folder says what is up.
    expect(readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(k.runDir, 'kept.json'), 'utf8'))).toMatchObject({ prometheus: k.prometheus, toxiproxy: k.toxiproxy });

    // Prometheus answers and still scrapes both nodes and Toxiproxy; the lab's own target is gone with the lab.
    expect((await get(`${k.prometheus}/-/ready`)).status).toBe(200);
    const scraped = await waitForAsync(async () => (await instant(k.prometheus, 'up == 1')).map((r) => r.metric['node'] ?? r.metric['job']!).sort().join(','), 'backend,frontend,toxiproxy', 6000);
    expect(scraped).toBe('backend,frontend,toxiproxy');
    const targets = JSON.parse((await get(`${k.prometheus}/api/v1/targets`)).body) as { data: { activeTargets: { labels: Record<string, string> }[] } };
    expect(targets.data.activeTargets.map((t) => t.labels['job'])).not.toContain('lab');

    // The cluster serves through the healed proxy: no toxic is left on it.
    const proxies = JSON.parse((await get(`${k.toxiproxy}/proxies`)).body) as Record<string, { toxics: unknown[]; enabled: boolean }>;
    expect(proxies['frontend_to_backend']).toMatchObject({ enabled: true, toxics: [] });
    const frontend = k.nodes.find((n) => n.name === 'frontend')!;
    const answer = await get(`http://${frontend.address}/item/7`);
    expect(answer.status).toBe(200);

    // A folder that is not kept is an input error, and stops nothing.
    const wrong = await runCli(['down', 'runs/no-such-run'], { env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('CHAOSLAB_NO_KEPT_RUN');
    expect(alive(k)).toHaveLength(4);

    const down = await runCli(['down', k.runDir], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stopped .*hello-short.*prometheus \(pid \d+\)/);
    expect(await waitFor(() => alive(k).length === 0, 5000), alive(k).join(', ')).toBe(true);
    expect(keptRecords(stateDir)).toEqual([]);
    expect(existsSync(path.join(k.runDir, 'kept.json'))).toBe(false);
    await expect(get(`${k.prometheus}/-/ready`)).rejects.toThrow();
    // The run's data stays for a look afterwards.
    expect(readdirSync(path.join(k.runDir, 'prometheus', 'data')).length).toBeGreaterThan(0);
  });

  it('up --load drives the base load, keeps the cluster, and clean stops a kept run', async () => {
    const stateDir = freshStateDir();
    const env = { CHAOSLAB_STATE_DIR: stateDir };
    const up = await runCli<UpJson>(['up', scenario, '--variant', 'mitigated', '--load', '--for', '3s', '--json', '--out', 'runs/e2e-gameday'], { env });
    expect(up.code, up.stderr).toBe(0);
    const doc = up.json;
    expect(doc.kept?.variant).toBe('mitigated');
    // 50 req/s for 3 s.
    const load = { sent: Number(doc.load?.sent), ok: Number(doc.load?.ok) };
    expect(load.sent).toBeGreaterThan(100);
    expect(load.ok).toBe(load.sent);
    const [k] = keptRecords(stateDir);
    expect(alive(k!)).toHaveLength(4);
    // The load went to the kept cluster's frontend, which still answers after the lab exited.
    const metrics = (await get(`http://${k!.nodes.find((n) => n.name === 'frontend')!.address}/metrics`)).body;
    const served = [...metrics.matchAll(/^toy_requests_total\{[^}]*code="200"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(served).toBeGreaterThanOrEqual(load.ok);
    // `up` judges nothing: no report.
    expect(existsSync(path.join(doc.kept!.runDir, 'report.html'))).toBe(false);

    const clean = await runCli(['clean'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`stopped kept run ${k!.runDir}`);
    expect(await waitFor(() => alive(k!).length === 0, 5000), alive(k!).join(', ')).toBe(true);
    expect(keptRecords(stateDir)).toEqual([]);
    expect((await runCli(['down'], { env })).stdout).toBe('nothing is kept up\n');
  });
});

const { run: haveDocker, engine } = await shouldRunDockerTests('game-day.test.ts');

describe.runIf(haveDocker)('game day (Docker runtime)', () => {
  it('run --keep leaves the containers up after the lab exits; down removes them', async () => {
    const stateDir = freshStateDir();
    const env = { CHAOSLAB_STATE_DIR: stateDir };
    const run = await runCli(['run', scenario, '--runtime', 'docker', '--variant', 'baseline', '--keep', '--seed', '5', '--out', 'runs/e2e-gameday'], { env });
    expect(run.code, run.stderr).toBe(0);
    const [k] = keptRecords(stateDir);
    expect(k?.runtime).toBe('docker');
    const mine = { [LABEL.run]: k!.runId };
    expect((await leftoversOf(engine, mine)).length).toBeGreaterThanOrEqual(4);
    expect((await get(`${k!.prometheus}/-/ready`)).status).toBe(200);
    const scraped = await waitForAsync(async () => (await instant(k!.prometheus, 'up{job="node"} == 1')).length, 2, 6000);
    expect(scraped).toBe(2);
    expect((await get(`http://${k!.nodes.find((n) => n.name === 'frontend')!.address}/item/7`)).status).toBe(200);

    const down = await runCli(['down', '--all'], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(await leftoversOf(engine, mine)).toEqual([]);
    expect(keptRecords(stateDir)).toEqual([]);
  });
});

async function waitForAsync<T>(read: () => Promise<T>, want: T, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await read();
  while (last !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}
