import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { findToxiproxyBinary, startToxiproxy, type StartedToxiproxy } from './toxiproxy-server.js';
import { projectRoot } from './testing.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-tp-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function makeExecutable(file: string, body = '#!/bin/sh\nexit 0\n'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('findToxiproxyBinary', () => {
  it('prefers an explicit override', () => {
    const bin = makeExecutable(path.join(tmp, 'custom', 'tp'));
    makeExecutable(path.join(tmp, 'pathdir', 'toxiproxy-server'));
    expect(findToxiproxyBinary({ projectRoot: tmp, envPath: path.join(tmp, 'pathdir'), override: bin })).toBe(bin);
  });

  it('throws ToxiproxyMissing when the override does not exist, even if PATH has one', () => {
    makeExecutable(path.join(tmp, 'pathdir', 'toxiproxy-server'));
    const call = () =>
      findToxiproxyBinary({ projectRoot: tmp, envPath: path.join(tmp, 'pathdir'), override: path.join(tmp, 'nope') });
    expect(call).toThrow(LabError);
    expect(call).toThrow(/not found or not executable/);
  });

  it('searches PATH entries in order, skipping non-executables and directories', () => {
    const notExec = path.join(tmp, 'a', 'toxiproxy-server');
    fs.mkdirSync(path.dirname(notExec), { recursive: true });
    fs.writeFileSync(notExec, 'x', { mode: 0o644 });
    fs.mkdirSync(path.join(tmp, 'b', 'toxiproxy-server'), { recursive: true }); // a directory
    const good = makeExecutable(path.join(tmp, 'c', 'toxiproxy-server'));
    makeExecutable(path.join(tmp, 'd', 'toxiproxy-server'));
    makeExecutable(path.join(tmp, '.tools', 'bin', 'toxiproxy-server'));
    const envPath = ['', ...['a', 'b', 'c', 'd'].map((d) => path.join(tmp, d))].join(path.delimiter);
    expect(findToxiproxyBinary({ projectRoot: tmp, envPath })).toBe(good);
  });

  it('falls back to <projectRoot>/.tools/bin', () => {
    const local = makeExecutable(path.join(tmp, '.tools', 'bin', 'toxiproxy-server'));
    expect(findToxiproxyBinary({ projectRoot: tmp, envPath: path.join(tmp, 'empty') })).toBe(local);
    expect(findToxiproxyBinary({ projectRoot: tmp })).toBe(local);
  });

  it('throws ToxiproxyMissing with the setup hint when nothing is found', () => {
    try {
      findToxiproxyBinary({ projectRoot: tmp, envPath: path.join(tmp, 'empty') });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LabError);
      const err = e as LabError;
      expect(err.code).toBe(Errors.ToxiproxyMissing.code);
      expect(err.exitCode).toBe(3);
      expect(err.hint).toBe(
        'run `npm run setup` (installs it with go install into .tools/bin) or put toxiproxy-server on PATH',
      );
    }
  });
});

describe('startToxiproxy (real toxiproxy-server)', () => {
  const started: StartedToxiproxy[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  // Fails (not skips) with the LabError message when the binary is missing.
  const binary = () => findToxiproxyBinary({ projectRoot, envPath: process.env.PATH ?? '' });

  it('starts fast, answers /version and /metrics, and stop() leaves no process', async () => {
    const logFile = path.join(tmp, 'logs', 'toxiproxy.log');
    const t0 = performance.now();
    const tp = await startToxiproxy({ binary: binary(), logFile, seed: 7 });
    const startMs = performance.now() - t0;
    started.push(tp);
    console.log(`[measure] toxiproxy start (spawn -> /version ok): ${startMs.toFixed(1)} ms`);
    expect(startMs).toBeLessThan(3_000);

    expect(tp.url).toBe(`http://127.0.0.1:${tp.port}`);
    expect(typeof (await tp.client.version())).toBe('string');
    const metrics = await fetch(`${tp.url}${tp.metricsPath}`, { signal: AbortSignal.timeout(2_000) });
    expect(metrics.status).toBe(200);
    expect(fs.readFileSync(logFile, 'utf8')).toMatch(/Starting Toxiproxy/);

    expect(isAlive(tp.pid)).toBe(true);
    await tp.stop();
    await tp.stop(); // idempotent
    expect(() => process.kill(tp.pid, 0)).toThrow();
    expect(() => process.kill(-tp.pid, 0)).toThrow(); // the whole group is gone
  });

  it('exited resolves with how the server ended, also when something else killed it (the part watch relies on it)', async () => {
    const tp = await startToxiproxy({ binary: binary(), logFile: path.join(tmp, 'exited.log'), seed: 1 });
    started.push(tp);
    process.kill(tp.pid, 'SIGKILL');
    expect(await tp.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('await using stops it', async () => {
    let pid = 0;
    {
      await using tp = await startToxiproxy({ binary: binary(), logFile: path.join(tmp, 'tp.log'), seed: 1 });
      pid = tp.pid;
      expect(isAlive(pid)).toBe(true);
    }
    expect(isAlive(pid)).toBe(false);
  });

  it('reports PortTaken when the asked port is held', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => holder.close(() => r())));
    const port = (holder.address() as net.AddressInfo).port;
    await expect(startToxiproxy({ binary: binary(), logFile: path.join(tmp, 'tp.log'), seed: 1, port })).rejects.toMatchObject({
      code: Errors.PortTaken.code,
    });
  });

  it('starts on an asked free port', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    await new Promise<void>((r) => holder.close(() => r()));
    const tp = await startToxiproxy({ binary: binary(), logFile: path.join(tmp, 'tp.log'), seed: 1, port });
    started.push(tp);
    expect(tp.port).toBe(port);
  });

  it('reports ToxiproxyFailed with the log tail when the process exits early', async () => {
    const fake = makeExecutable(path.join(tmp, 'fake-toxiproxy'), '#!/bin/sh\necho "boom: cannot start" >&2\nexit 3\n');
    const err = await startToxiproxy({ binary: fake, logFile: path.join(tmp, 'fake.log'), seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe(Errors.ToxiproxyFailed.code);
    expect((err as LabError).message).toMatch(/exited during startup \(code 3\)[\s\S]*boom: cannot start/);
  });

  it('reports ToxiproxyFailed when the binary cannot be spawned', async () => {
    const notExec = path.join(tmp, 'not-exec');
    fs.writeFileSync(notExec, 'x', { mode: 0o644 });
    await expect(startToxiproxy({ binary: notExec, logFile: path.join(tmp, 'x.log'), seed: 1 })).rejects.toMatchObject({
      code: Errors.ToxiproxyFailed.code,
    });
  });

  it('stop() SIGKILLs a group that ignores SIGTERM', async () => {
    // A stand-in server that ignores TERM and answers /version, to exercise the escalation path.
    const script = path.join(tmp, 'stubborn.mjs');
    fs.writeFileSync(
      script,
      `process.on('SIGTERM', () => {});
       const port = Number(process.argv[process.argv.indexOf('-port') + 1]);
       (await import('node:http')).createServer((q, s) => s.end('{"version": "stub"}')).listen(port, '127.0.0.1');`,
    );
    const fake = makeExecutable(path.join(tmp, 'stubborn'), `#!/bin/sh\nexec ${process.execPath} ${script} "$@"\n`);
    const tp = await startToxiproxy({ binary: fake, logFile: path.join(tmp, 'stubborn.log'), seed: 1 });
    started.push(tp);
    const t0 = performance.now();
    await tp.stop();
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(4_000);
    expect(isAlive(tp.pid)).toBe(false);
  });
});
