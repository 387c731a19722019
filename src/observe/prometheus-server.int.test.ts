import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabError } from '../errors/lab-error.js';
import { startLabMetricsServer, type LabMetricsServer } from './lab-metrics.js';
import { findPrometheusBinary, renderPrometheusConfig, startPrometheus, type StartedPrometheus } from './prometheus-server.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-prom-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('findPrometheusBinary', () => {
  it('prefers the override, then PATH, then /usr/bin/prometheus', () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const fake = path.join(bin, 'prometheus');
    fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(findPrometheusBinary({ override: fake })).toBe(fake);
    expect(findPrometheusBinary({ envPath: `/nonexistent:${bin}` })).toBe(fake);
    // A non-executable file on PATH is skipped.
    fs.chmodSync(fake, 0o644);
    const fallback = findPrometheusBinary({ envPath: bin });
    expect(fallback).toBe('/usr/bin/prometheus');
  });

  it('reports a missing override with the install hint', () => {
    try {
      findPrometheusBinary({ override: path.join(dir, 'nope') });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LabError);
      expect((e as LabError).code).toBe('CHAOSLAB_PROMETHEUS_MISSING');
      expect((e as LabError).hint).toMatch(/apt-get install prometheus/);
    }
  });
});

describe('renderPrometheusConfig', () => {
  it('sets interval, a timeout no longer than it, and file_sd', () => {
    const yml = renderPrometheusConfig({ scrapeIntervalMs: 500, targetsFile: '/x/targets.json' });
    expect(yml).toMatch(/scrape_interval: 500ms/);
    expect(yml).toMatch(/scrape_timeout: 500ms/);
    expect(yml).toMatch(/evaluation_interval: 500ms/);
    expect(yml).toMatch(/\/x\/targets.json/);
  });
});

// The real server is part of what is tested: a missing binary fails these tests (with the
// lab's own "Prometheus not found" message), it never skips them.
const binary = findPrometheusBinary({ envPath: process.env.PATH });

describe('real Prometheus', () => {
  let prom: StartedPrometheus | undefined;
  let lab: LabMetricsServer | undefined;
  afterEach(async () => {
    await prom?.stop();
    await lab?.stop();
    prom = undefined;
    lab = undefined;
  });

  it('scrapes the lab metrics server and answers range queries', { timeout: 60_000 }, async () => {
    const t0 = performance.now();
    prom = await startPrometheus({ binary: binary!, dir, scrapeIntervalMs: 250, logFile: path.join(dir, 'prometheus.log') });
    const tReady = performance.now();
    expect(prom.url).toBe(`http://127.0.0.1:${prom.port}`);
    expect(fs.existsSync(path.join(dir, 'prometheus.yml'))).toBe(true);

    lab = await startLabMetricsServer();
    lab.metrics.setPhase('steady');
    lab.metrics.setTargetRate(7);
    const tSet = performance.now();
    await prom.setTargets([{ address: lab.address, labels: { role: 'lab' } }]);
    await prom.waitForTargets([lab.address], 30_000);
    const tUp = performance.now();

    const startSec = Date.now() / 1000;
    lab.metrics.setTargetRate(42);
    lab.metrics.setFaultActive('partition', 'n1-n2', true);
    lab.metrics.observeRequest('get', 'ok', 0.003);
    // Let a few scrapes see the new values.
    const got = await pollUntil(async () => {
      const s = await prom!.client.queryRange('chaoslab_load_target_rate', Math.floor(startSec) - 2, Date.now() / 1000, 0.25);
      return s[0]?.points.some(([, v]) => v === 42) ? s : undefined;
    }, 10_000);
    expect(got[0]!.labels).toMatchObject({ job: 'chaoslab', role: 'lab', instance: lab.address });
    const values = got[0]!.points.map(([, v]) => v);
    expect(values).toContain(42);

    const fault = await prom.client.query('chaoslab_fault_active', Date.now() / 1000);
    expect(fault[0]?.labels).toMatchObject({ fault: 'partition', link: 'n1-n2' });
    const ok = await prom.client.query('chaoslab_client_requests_total{outcome="error"}', Date.now() / 1000);
    expect(ok[0]?.points[0]?.[1]).toBe(0); // pre-initialised so rate() sees the first error

    const pid = prom.pid;
    const tStop0 = performance.now();
    await prom.stop();
    const tStopped = performance.now();
    await prom.stop(); // idempotent
    expect(processAlive(pid)).toBe(false);
    expect(groupAlive(pid)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'data')).length).toBeGreaterThan(0);

    console.log(
      `[measure] prometheus spawn→ready ${Math.round(tReady - t0)}ms; setTargets→target up ${Math.round(tUp - tSet)}ms; stop ${Math.round(tStopped - tStop0)}ms`,
    );
  });

  it('serves non-default metrics paths and names targets that are not up', { timeout: 60_000 }, async () => {
    prom = await startPrometheus({ binary: binary!, dir, scrapeIntervalMs: 1000, logFile: path.join(dir, 'prometheus.log') });
    lab = await startLabMetricsServer();
    await prom.setTargets([{ address: lab.address, metricsPath: '/nope', labels: {} }]);
    // Discovery takes up to ~5 s (Prometheus throttles updates); wait until the failed scrape is recorded.
    await pollUntil(async () => {
      const t = (await prom!.client.targets()).find((x) => x.discoveredLabels['__address__'] === lab!.address);
      return t?.lastError ? t : undefined;
    }, 20_000);
    const err = await prom.waitForTargets([lab.address, '127.0.0.1:1'], 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('CHAOSLAB_PROMETHEUS_FAILED');
    expect((err as LabError).message).toMatch(new RegExp(`${lab.address} \\(down: .*404`));
    expect((err as LabError).message).toMatch(/127\.0\.0\.1:1 \(not discovered\)/);
  });

  it('reports a taken port as PortTaken', async () => {
    lab = await startLabMetricsServer();
    const e = await startPrometheus({
      binary: binary!,
      dir,
      scrapeIntervalMs: 1000,
      port: lab.port,
      logFile: path.join(dir, 'prometheus.log'),
    }).catch((x: unknown) => x);
    expect((e as LabError).code).toBe('CHAOSLAB_PORT_TAKEN');
  });

  it('reports a binary that cannot be spawned as missing', async () => {
    const e = await startPrometheus({ binary: path.join(dir, 'nope'), dir, scrapeIntervalMs: 1000, logFile: path.join(dir, 'p.log') }).catch(
      (x: unknown) => x,
    );
    expect((e as LabError).code).toBe('CHAOSLAB_PROMETHEUS_MISSING');
  });

  it('reports an early exit with the log tail', async () => {
    // A bad flag value makes Prometheus exit at once.
    const wrapper = path.join(dir, 'prometheus-broken');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${binary} "$@" --storage.tsdb.retention.time=notaduration\n`, { mode: 0o755 });
    const e = await startPrometheus({ binary: wrapper, dir, scrapeIntervalMs: 1000, logFile: path.join(dir, 'p.log') }).catch(
      (x: unknown) => x,
    );
    expect((e as LabError).code).toBe('CHAOSLAB_PROMETHEUS_FAILED');
    expect((e as LabError).hint).toMatch(/notaduration/);
  });
});

async function pollUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
