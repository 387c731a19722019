import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../runtime.js';
import { DockerDriver, fakeClockContainer, nodePorts, toContainerCommand, type DockerRuntimeOptions } from './docker-runtime.js';
import { connectionOptions } from './engine.js';

const root = '/work/project';
const spec = (over: Partial<NodeSpec> & { ports?: number[] } = {}): NodeSpec & { ports?: number[] } => ({
  name: 'frontend',
  group: 'frontend',
  command: [process.execPath, path.join(root, 'dist', 'toys', 'hello', 'frontend.js')],
  cwd: root,
  env: {},
  logFile: '/tmp/x.log',
  healthUrl: 'http://127.0.0.1:4100/health',
  healthTimeoutMs: 1000,
  ...over,
});

describe('toContainerCommand', () => {
  it('maps the lab\'s node and the project\'s files to their places in the image', () => {
    expect(toContainerCommand(spec(), root)).toEqual({ command: ['/usr/local/bin/node', '/app/dist/toys/hello/frontend.js'], workingDir: '/app' });
    expect(toContainerCommand(spec({ command: ['node', `${root}/dist/toys/a.js`, '--flag'] }), root).command).toEqual(['/usr/local/bin/node', '/app/dist/toys/a.js', '--flag']);
  });

  it('refuses a program that is not in the image', () => {
    expect(() => toContainerCommand(spec({ command: ['/usr/bin/redis-server'] }), root)).toThrow(/not in the toys image/);
    expect(() => toContainerCommand(spec({ command: [] }), root)).toThrow(/empty command/);
  });
});

describe('nodePorts', () => {
  it('takes the spec\'s ports, else the CHAOSLAB_NODE config\'s, else the health URL\'s', () => {
    expect(nodePorts(spec({ ports: [5, 5, 6] }))).toEqual([5, 6]);
    expect(nodePorts(spec({ env: { CHAOSLAB_NODE: JSON.stringify({ ports: { http: 4100, peer: 4101 } }) } }))).toEqual([4100, 4101]);
    expect(nodePorts(spec())).toEqual([4100]);
    expect(nodePorts(spec({ env: { CHAOSLAB_NODE: 'not json' } }))).toEqual([4100]);
  });
});

describe('fakeClockContainer', () => {
  it('preloads the image\'s libfaketime and mounts the control file\'s folder, only on a fake-clock node', () => {
    expect(fakeClockContainer(spec({ env: { A: '1' } }))).toEqual({ env: { A: '1' } });
    expect(fakeClockContainer(spec({ env: { A: '1' }, fakeClock: { library: '/host/lib/libfaketime.so.1', controlFile: '/runs/r1/baseline/clock/backend-0.faketime' } }))).toEqual({
      env: {
        A: '1',
        LD_PRELOAD: '/app/faketime/libfaketime.so.1',
        FAKETIME_TIMESTAMP_FILE: '/chaoslab/clock/backend-0.faketime',
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
      binds: [{ host: '/runs/r1/baseline/clock', container: '/chaoslab/clock' }],
    });
  });
});

describe('DockerDriver', () => {
  it('a node that exits by itself is seen to exit even when its log cannot take the exit mark', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-docker-driver-'));
    const logFile = path.join(dir, 'logs', 'frontend.log');
    // A container that runs until `exit`, on an engine and a sandbox that answer at once (no Docker here).
    let exit!: (code: number) => void;
    const container = {
      id: 'c1',
      attachLog: async () => ({ ended: Promise.resolve() }),
      start: async () => {},
      wait: () => new Promise<number>((resolve) => (exit = resolve)),
      state: async () => ({ running: true, paused: false, pid: 0, exitCode: 0, oomKilled: false }),
      remove: async () => {},
    };
    const opts = { engine: { createContainer: async () => container }, sandboxes: { get: async () => 'sandbox' }, runId: 'r', scenario: 's', owner: 'o', projectRoot: root };
    const driver = new DockerDriver(spec({ logFile }), opts as unknown as DockerRuntimeOptions);
    try {
      await driver.start();
      // The log's folder goes (the exit mark's append throws, as on ENOSPC or EACCES); then the node exits on its own.
      rmSync(dir, { recursive: true, force: true });
      exit(3);
      // Nothing awaits the exit until the lab stops the node: a failed mark there was an unhandled rejection.
      for (let i = 0; i < 100 && driver.exitStatus === undefined; i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      expect(driver.exitStatus).toEqual({ code: 3, signal: null });
      await expect(driver.stop()).resolves.toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('connectionOptions', () => {
  it('reads DOCKER_HOST the way the docker CLI does', () => {
    expect(connectionOptions(undefined)).toEqual({});
    expect(connectionOptions('unix:///run/user/1000/docker.sock')).toMatchObject({ socketPath: '/run/user/1000/docker.sock' });
    expect(connectionOptions('tcp://10.0.0.5:2375')).toEqual({ protocol: 'http', host: '10.0.0.5', port: '2375' });
    expect(connectionOptions('tcp://engine:2376')).toMatchObject({ protocol: 'https', port: '2376' });
    expect(connectionOptions('ssh://me@box')).toMatchObject({ protocol: 'ssh', host: 'box', username: 'me' });
  });
});

describe('engineErrorKind (the one place the engine\'s text is read)', () => {
  it('turns the engine\'s answers into catalog entries', async () => {
    const { engineErrorKind } = await import('./engine.js');
    const { Errors } = await import('../../errors/catalog.js');
    expect(engineErrorKind(500, 'driver failed programming external connectivity: Bind for 127.0.0.1:4100 failed: port is already allocated')).toBe(Errors.PortTaken);
    expect(engineErrorKind(404, 'No such image: chaoslab/toys:latest')).toBe(Errors.ImageMissing);
    expect(engineErrorKind(409, 'Conflict. The container name "/chaoslab-x-a" is already in use by container "abc"')).toBe(Errors.DockerNameTaken);
    expect(engineErrorKind(500, 'something else')).toBe(Errors.DockerFailed);
  });
});
