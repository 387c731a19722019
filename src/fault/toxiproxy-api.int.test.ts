import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Errors } from '../errors/catalog.js';
import { isGoneError, ToxiproxyApi, ToxiproxyApiError } from './toxiproxy-api.js';
import type { StartedToxiproxy } from './toxiproxy-server.js';
import { median, startEchoServer, startTestToxiproxy, timedGet, type EchoServer } from './testing.js';

describe('ToxiproxyApi against the real server', () => {
  let tmp: string;
  let tp: StartedToxiproxy;
  let echo: EchoServer;
  let api: ToxiproxyApi;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-api-'));
    echo = await startEchoServer();
    tp = await startTestToxiproxy(path.join(tmp, 'toxiproxy.log'));
    api = tp.client;
  });
  afterAll(async () => {
    await tp?.stop();
    await echo?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const p of await api.listProxies()) await api.deleteProxy(p.name);
  });

  it('parses the version', async () => {
    const v = await api.version();
    expect(v).toMatch(/^(git|\d+\.\d+\.\d+.*)$/);
  });

  it('populates proxies, idempotently, and lists them with their toxics', async () => {
    const first = await api.populate([
      { name: 'a_to_b', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'b_to_a', listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
    ]);
    expect(first.map((p) => p.name).sort()).toEqual(['a_to_b', 'b_to_a']);
    const ab = first.find((p) => p.name === 'a_to_b')!;
    expect(ab.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ab.listen).not.toBe('127.0.0.1:0');

    await api.addToxic('a_to_b', { name: 't1', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 10, jitter: 0 } });
    const listed = await api.listProxies();
    expect(listed.map((p) => [p.name, p.enabled, p.toxics.map((t) => t.name)])).toEqual([
      ['a_to_b', true, ['t1']],
      ['b_to_a', false, []],
    ]);
    expect((await api.getProxy('a_to_b')).toxics[0]).toMatchObject({ name: 't1', type: 'latency', attributes: { latency: 10, jitter: 0 } });
  });

  it('creates, lists and removes toxics; PATCHes enabled; deletes', async () => {
    const p = await api.createProxy({ name: 'x', listen: '127.0.0.1:0', upstream: echo.address });
    const port = Number(p.listen.split(':')[1]);
    expect((await timedGet(port)).ok).toBe(true);

    await api.addToxic('x', { name: 'up', type: 'bandwidth', stream: 'upstream', toxicity: 0.5, attributes: { rate: 100 } });
    await api.addToxic('x', { name: 'down', type: 'slow_close', stream: 'downstream', toxicity: 1, attributes: { delay: 5 } });
    const toxics = await api.listToxics('x');
    expect(toxics.map((t) => [t.name, t.type, t.stream, t.toxicity]).sort()).toEqual([
      ['down', 'slow_close', 'downstream', 1],
      ['up', 'bandwidth', 'upstream', 0.5],
    ]);
    await api.removeToxic('x', 'up');
    expect((await api.listToxics('x')).map((t) => t.name)).toEqual(['down']);

    expect((await api.setEnabled('x', false)).enabled).toBe(false);
    expect((await timedGet(port, '/', 1_000)).ok).toBe(false);
    expect((await api.setEnabled('x', true)).enabled).toBe(true);
    expect((await timedGet(port)).ok).toBe(true);

    await api.reset();
    expect(await api.listToxics('x')).toEqual([]);
    await api.deleteProxy('x');
    expect(await api.listProxies()).toEqual([]);
  });

  it('errors carry the HTTP status and the server error body', async () => {
    await api.createProxy({ name: 'dup', listen: '127.0.0.1:0', upstream: echo.address });
    const conflict = await api.createProxy({ name: 'dup', listen: '127.0.0.1:0', upstream: echo.address }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ToxiproxyApiError);
    expect(conflict).toMatchObject({ status: 409, serverError: 'proxy already exists', code: Errors.ToxiproxyFailed.code, method: 'POST', path: '/proxies' });
    expect((conflict as Error).message).toBe('Toxiproxy API POST /proxies failed: 409 proxy already exists');

    const missing = await api.removeToxic('dup', 'nope').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, serverError: 'toxic not found' });
    expect(isGoneError(missing)).toBe(true);

    const badToxic = await api
      .addToxic('dup', { name: 'b', type: 'no_such' as 'latency', stream: 'upstream', toxicity: 1, attributes: {} })
      .catch((e: unknown) => e);
    expect(badToxic).toMatchObject({ status: 400 });
    expect(isGoneError(badToxic)).toBe(false);

    // Names are URL-encoded on our own paths.
    expect(await api.getProxy('no/such?proxy').catch((e: unknown) => e)).toMatchObject({ status: 404, path: '/proxies/no%2Fsuch%3Fproxy' });
  });

  it('measures one addToxic call (median of 20)', async () => {
    await api.createProxy({ name: 'm', listen: '127.0.0.1:0', upstream: echo.address });
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await api.addToxic('m', { name: `t${i}`, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1, jitter: 0 } });
      ms.push(performance.now() - t0);
    }
    console.log(`[measure] addToxic median of 20: ${median(ms).toFixed(2)} ms (min ${Math.min(...ms).toFixed(2)}, max ${Math.max(...ms).toFixed(2)})`);
    expect(median(ms)).toBeLessThan(50);
  });
});

describe('ToxiproxyApi without a healthy server', () => {
  it('times out a request that gets no answer', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const api = new ToxiproxyApi(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { timeoutMs: 200 });
      const t0 = performance.now();
      // version() goes through the package (with our transport), so this also proves the package's calls time out.
      const err = await api.version().catch((e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(1_500);
      expect(err).toBeInstanceOf(ToxiproxyApiError);
      expect(err).toMatchObject({ status: undefined, unreachable: false });
      expect((err as Error).message).toMatch(/GET \/version timed out after 200 ms/);
      expect(isGoneError(err)).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('marks a refused connection as unreachable (gone)', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    await new Promise<void>((r) => holder.close(() => r()));
    const err = await new ToxiproxyApi(`http://127.0.0.1:${port}`).reset().catch((e: unknown) => e);
    expect(err).toMatchObject({ unreachable: true, status: undefined });
    expect(isGoneError(err)).toBe(true);
  });
});
