/**
 * The Docker runtime below the runner: images, the run's network, Toxiproxy and Prometheus as containers, node
 * faults through the Docker API, the containers' confinement, log streaming, cleanup by label, and the clear
 * error when no engine answers. Skipped (one line) without Docker on a developer's machine; fails in CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/common/ports.js';
import { prepareDockerRuntime, type ClusterRuntime } from '../../src/runtime/cluster-runtime.js';
import { IMAGES } from '../../src/runtime/docker/images.js';
import { LABEL } from '../../src/runtime/docker/labels.js';
import { leftoversOf, shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import type { StartedNode } from '../../src/runtime/runtime.js';
import { root, runCli } from '../utils/cli.js';

const { run: haveDocker, engine } = await shouldRunDockerTests('docker-runtime.test.ts');

describe('Docker runtime: no engine', () => {
  it('run --runtime docker exits 3 and names DOCKER_HOST when no engine answers', async () => {
    const res = await runCli(['run', 'scenarios/hello-latency.yaml', '--runtime', 'docker', '--variant', 'baseline'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('CHAOSLAB_DOCKER_UNAVAILABLE');
    expect(res.stderr).toContain('DOCKER_HOST');
    expect(res.stderr).toContain('unix:///nonexistent/docker.sock');
  });

  it('images build exits 3 the same way', async () => {
    const res = await runCli(['images', 'build'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('DOCKER_HOST');
  });
});

describe.runIf(haveDocker)('Docker runtime', () => {
  const runId = `test-${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-docker-'));
  let cluster: ClusterRuntime;

  beforeAll(async () => {
    // Builds whatever is missing or stale (CI builds them before the tests; then this is a cache check).
    const prepared = await prepareDockerRuntime({ projectRoot: root, envPath: process.env.PATH ?? '' });
    cluster = await prepared.open({ runId, scenario: 'docker-runtime-test', stateDir: path.join(dir, 'state') });
  }, 300_000);

  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('images build again is a cache check of a second or two', async () => {
    const started = performance.now();
    const res = await runCli(['images', 'build']);
    expect(res.code, res.stderr).toBe(0);
    for (const image of Object.values(IMAGES)) expect(res.stdout).toMatch(new RegExp(`cached\\s+${image.replace(/[.:]/g, '\\$&')}`));
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('nodes reach peers through the Toxiproxy container; faults go through the Docker API; logs stream; confinement holds', async () => {
    const [backendPort, frontendPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
    const toxiproxy = await cluster.startToxiproxy({ logFile: path.join(dir, 'logs', 'toxiproxy.log'), seed: 1, proxyPorts: [] });
    try {
      await toxiproxy.client.populate([{ name: 'frontend_to_backend', listen: cluster.proxyListenAddress(proxyPort), upstream: cluster.nodeAddress('backend', backendPort), enabled: true }]);
      const runtime = cluster.nodes();
      const node = (name: string, port: number, peers: Record<string, string[]>) =>
        runtime.start({
          name,
          group: name,
          command: [process.execPath, path.join(root, 'dist', 'toys', 'hello', `${name}.js`)],
          cwd: root,
          env: { CHAOSLAB_NODE: JSON.stringify({ name, group: name, index: 0, host: cluster.nodeListenHost, ports: { http: port }, peers, params: {}, seed: 1, runId }) },
          logFile: path.join(dir, 'logs', `${name}.log`),
          healthUrl: `http://127.0.0.1:${port}/health`,
          healthTimeoutMs: 20_000,
        });
      const nodes: StartedNode[] = [];
      try {
        const backend = await node('backend', backendPort, {});
        nodes.push(backend);
        const frontend = await node('frontend', frontendPort, { backend: [cluster.proxyAddress(proxyPort)] });
        nodes.push(frontend);
        await Promise.all(nodes.map((n) => n.waitHealthy()));

        // Host → published port → frontend → Toxiproxy container → backend.
        expect(await get(`http://127.0.0.1:${frontendPort}/item/7`, 3000)).toBe(200);
        const proxy = await toxiproxy.client.getProxy('frontend_to_backend');
        expect(proxy.listen).toMatch(new RegExp(`^(0\\.0\\.0\\.0|\\[::\\]):${proxyPort}$`));

        // Confinement and labels, as the engine reports them.
        const info = await engine.docker.getContainer((backend as unknown as { containerId: string }).containerId).inspect();
        expect(info.HostConfig.Privileged).toBe(false);
        expect(info.HostConfig.CapDrop).toEqual(['ALL']);
        expect(info.HostConfig.ReadonlyRootfs).toBe(true);
        expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
        expect(info.HostConfig.NanoCpus).toBe(0.5e9);
        expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
        expect(info.Config.User).toBe('65534:65534');
        expect(info.Config.Labels).toMatchObject({ [LABEL.run]: runId, [LABEL.scenario]: 'docker-runtime-test', [LABEL.node]: 'backend', [LABEL.part]: 'node' });
        // The node shares its sandbox's network: on the run's bridge (never the host's), ports on 127.0.0.1 only.
        const sandbox = await engine.docker.getContainer(info.HostConfig.NetworkMode!.replace(/^container:/, '')).inspect();
        expect(info.HostConfig.NetworkMode).toMatch(/^container:/);
        expect(sandbox.Config.Labels).toMatchObject({ [LABEL.run]: runId, [LABEL.node]: 'backend', [LABEL.part]: 'sandbox' });
        expect(Object.keys(sandbox.NetworkSettings.Networks)).toEqual([`chaoslab-${runId}`]);
        expect(sandbox.NetworkSettings.Networks[`chaoslab-${runId}`]!.Aliases).toContain('backend');
        expect(sandbox.HostConfig.PortBindings?.[`${backendPort}/tcp`]).toEqual([{ HostIp: '127.0.0.1', HostPort: String(backendPort) }]);
        expect(sandbox.HostConfig.CapDrop).toEqual(['ALL']);

        // pause: the backend freezes with its sockets open; the frontend's call hangs.
        await backend.pause();
        expect(await get(`http://127.0.0.1:${frontendPort}/item/8`, 700)).toBe('timeout');
        await backend.resume();
        expect(await get(`http://127.0.0.1:${frontendPort}/item/9`, 3000)).toBe(200);

        // kill -9, then restart: a fresh container, healthy again.
        await backend.kill('SIGKILL');
        expect(backend.exited).toBe(true);
        expect(backend.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
        // As with a dead local process, a call to the dead node is refused at once; it does not hang.
        const refusedAt = performance.now();
        expect(await get(`http://127.0.0.1:${frontendPort}/item/11`, 3000)).toBe(502);
        expect(performance.now() - refusedAt).toBeLessThan(1000);
        await backend.restart();
        expect(backend.exited).toBe(false);
        expect(await get(`http://127.0.0.1:${frontendPort}/item/10`, 3000)).toBe(200);

        // SIGTERM reaches the toy through docker-init: a graceful exit.
        await frontend.kill('SIGTERM');
        const deadline = Date.now() + 5000;
        while (!frontend.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(frontend.exitStatus).toEqual({ code: 0, signal: null });

        const backendLog = readFileSync(path.join(dir, 'logs', 'backend.log'), 'utf8');
        expect(backendLog.match(/listening on http:\/\/0\.0\.0\.0/g)?.length).toBe(2);
        expect(backendLog).toMatch(/--- chaoslab: exit backend .*signal SIGKILL/);
        expect(readFileSync(path.join(dir, 'logs', 'frontend.log'), 'utf8')).toContain('SIGTERM');
      } finally {
        await Promise.allSettled(nodes.map((n) => n.stop()));
      }
      expect(await leftoversOf(engine, { [LABEL.run]: runId, [LABEL.part]: 'node' })).toEqual([]);
    } finally {
      await toxiproxy.stop();
    }
  });

  it('Prometheus in a container scrapes the nodes on the run network and the lab on its gateway; the TSDB lands in the run folder', async () => {
    const port = await freePort();
    const runtime = cluster.nodes();
    const backend = await runtime.start({
      name: 'backend',
      group: 'backend',
      command: [process.execPath, path.join(root, 'dist', 'toys', 'hello', 'backend.js')],
      cwd: root,
      env: { CHAOSLAB_NODE: JSON.stringify({ name: 'backend', group: 'backend', index: 0, host: '0.0.0.0', ports: { http: port }, peers: {}, params: {}, seed: 1, runId }) },
      logFile: path.join(dir, 'logs', 'backend-2.log'),
      healthUrl: `http://127.0.0.1:${port}/health`,
      healthTimeoutMs: 20_000,
    });
    const lab = http.createServer((_, res) => res.end('lab_up 1\n'));
    await new Promise<void>((r) => lab.listen(0, cluster.labMetricsHost, r));
    const labAddress = `${cluster.labMetricsHost}:${(lab.address() as { port: number }).port}`;
    await backend.waitHealthy();
    const backendAddress = cluster.nodeAddress('backend', port);
    const promDir = path.join(dir, 'prometheus');
    const prometheus = await cluster.startPrometheus({
      dir: promDir,
      scrapeIntervalMs: 500,
      logFile: path.join(dir, 'logs', 'prometheus.log'),
      initialTargets: [
        { address: labAddress, labels: { job: 'lab' } },
        { address: backendAddress, labels: { job: 'node', node: 'backend' } },
      ],
    });
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await prometheus.waitForTargets([labAddress, backendAddress], 30_000);
      expect(existsSync(path.join(promDir, 'data'))).toBe(true);
    } finally {
      await Promise.allSettled([prometheus.stop(), backend.stop(), new Promise<void>((r) => lab.close(() => r()))]);
    }
    expect(await leftoversOf(engine, { [LABEL.run]: runId, [LABEL.part]: 'prometheus' })).toEqual([]);
  });

  it('close() leaves nothing with the run label', async () => {
    await cluster.close();
    expect(await leftoversOf(engine, { [LABEL.run]: runId })).toEqual([]);
  });
});

function get(url: string, timeoutMs: number): Promise<number | 'timeout' | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
