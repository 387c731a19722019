import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startToy, type NodeConfig, type ParamValue, type RunningToy } from '../lib/toy-node.js';
import { frontend } from './frontend.js';

/** A stand-in backend whose delay and status the test sets; it knows nothing about the frontend. */
let backend: { server: http.Server; address: string; delayMs: number; status: number; calls: number };
const running: RunningToy[] = [];

beforeEach(async () => {
  const server = http.createServer((req, res) => {
    backend.calls++;
    const key = decodeURIComponent(req.url!.split('/').pop()!);
    const timer = setTimeout(() => {
      res.writeHead(backend.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key, value: `v-${key}` }));
    }, backend.delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backend = { server, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, delayMs: 0, status: 200, calls: 0 };
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(100)));
  backend.server.closeAllConnections();
  await new Promise((r) => backend.server.close(r));
});

async function startFrontend(params: Record<string, ParamValue>): Promise<RunningToy> {
  const config: NodeConfig = {
    name: 'frontend-0',
    group: 'frontend',
    index: 0,
    host: '127.0.0.1',
    ports: { http: 0 },
    peers: { backend: [backend.address] },
    params,
    seed: 7,
    runId: 'test',
  };
  const t = await startToy(config, frontend);
  running.push(t);
  return t;
}

async function get(t: RunningToy, key: string): Promise<{ status: number; ms: number; body: unknown; fallback: string | null }> {
  const started = performance.now();
  const res = await fetch(`${t.url}/item/${key}`);
  return { status: res.status, body: await res.json(), ms: performance.now() - started, fallback: res.headers.get('x-fallback') };
}

async function metric(t: RunningToy, line: string): Promise<number | undefined> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('hello/frontend', () => {
  it('turns the timeout and fallback on live, without a restart', async () => {
    const t = await startFrontend({});
    backend.delayMs = 400;
    expect(await get(t, 'k1')).toMatchObject({ status: 200, fallback: null });
    const push = await fetch(`${t.url}/admin/params`, { method: 'POST', body: JSON.stringify({ backendTimeoutMs: 100, fallback: true }) });
    expect(push.status).toBe(200);
    const r = await get(t, 'k1');
    expect(r).toMatchObject({ status: 200, fallback: '1', body: { value: 'v-k1', stale: true } });
    expect(r.ms).toBeLessThan(350);
  });

  it('returns the backend answer', async () => {
    const t = await startFrontend({ backendTimeoutMs: 500 });
    expect(await get(t, 'k1')).toMatchObject({ status: 200, body: { key: 'k1', value: 'v-k1' }, fallback: null });
    expect(await metric(t, 'hello_backend_calls_total{outcome="ok",node="frontend-0",group="frontend"}')).toBe(1);
  });

  it('times out at backendTimeoutMs and answers 504 without fallback', async () => {
    const t = await startFrontend({ backendTimeoutMs: 100, fallback: false });
    backend.delayMs = 1000;
    const r = await get(t, 'k1');
    expect(r.status).toBe(504);
    expect(r.ms).toBeGreaterThanOrEqual(95);
    expect(r.ms).toBeLessThan(600);
    expect(await metric(t, 'hello_backend_calls_total{outcome="timeout",node="frontend-0",group="frontend"}')).toBe(1);
    expect(await metric(t, 'hello_fallbacks_total{node="frontend-0",group="frontend"}')).toBe(0);
  });

  it('falls back to the last known value, then to the default, with x-fallback: 1', async () => {
    const t = await startFrontend({ backendTimeoutMs: 100, fallback: true, defaultValue: 'dflt' });
    expect((await get(t, 'seen')).status).toBe(200);
    backend.delayMs = 1000;
    const stale = await get(t, 'seen');
    expect(stale).toMatchObject({ status: 200, fallback: '1', body: { key: 'seen', value: 'v-seen', degraded: true, stale: true } });
    expect(stale.ms).toBeLessThan(600);
    expect(await get(t, 'never')).toMatchObject({ status: 200, fallback: '1', body: { value: 'dflt', stale: false } });
    expect(await metric(t, 'hello_fallbacks_total{node="frontend-0",group="frontend"}')).toBe(2);
    expect(await metric(t, 'hello_backend_call_duration_seconds_count{node="frontend-0",group="frontend"}')).toBe(3);
  });

  it('without a timeout waits as long as the backend takes', async () => {
    const t = await startFrontend({ fallback: true });
    // Longer than every timeout the other tests set (100–200 ms).
    backend.delayMs = 350;
    const r = await get(t, 'k1');
    expect(r).toMatchObject({ status: 200, fallback: null, body: { value: 'v-k1' } });
    expect(r.ms).toBeGreaterThanOrEqual(345);
  });

  it('answers 502 on backend errors, or falls back when enabled', async () => {
    backend.status = 500;
    const strict = await startFrontend({ backendTimeoutMs: 200 });
    expect((await get(strict, 'k')).status).toBe(502);
    expect(await metric(strict, 'hello_backend_calls_total{outcome="error",node="frontend-0",group="frontend"}')).toBe(1);

    const lenient = await startFrontend({ backendTimeoutMs: 200, fallback: true });
    backend.server.closeAllConnections();
    await new Promise((r) => backend.server.close(r));
    // Backend gone: connection refused is an error too.
    expect(await get(lenient, 'k')).toMatchObject({ status: 200, fallback: '1' });
    await new Promise<void>((r) => backend.server.listen(0, '127.0.0.1', r));
  });

  describe('with a workshop module (param extension)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-frontend-ext-'));
    function moduleFile(name: string, code: string): string {
      const f = path.join(dir, name);
      writeFileSync(f, code);
      return f;
    }

    it("asks the module for the timeout and the fallback, and serves what it returns", async () => {
      const t = await startFrontend({ extension: moduleFile('ok.cjs', 'exports.timeoutMs = () => 100; exports.fallback = (key, last, outcome) => `fb-${key}-${outcome}`;') });
      backend.delayMs = 1000;
      const r = await get(t, 'k');
      expect(r).toMatchObject({ status: 200, fallback: '1', body: { value: 'fb-k-timeout' } });
      expect(r.ms).toBeLessThan(600);
      expect(await metric(t, 'toy_extension_calls_total{function="timeoutMs",outcome="ok",node="frontend-0",group="frontend"}')).toBe(1);
    });

    it('a module that throws is counted and the frontend answers with its own default (no timeout, no fallback)', async () => {
      const t = await startFrontend({ extension: moduleFile('throws.cjs', 'exports.timeoutMs = () => { throw new Error("oops"); }; exports.fallback = () => undefined;') });
      expect(await get(t, 'k')).toMatchObject({ status: 200, body: { value: 'v-k' } });
      expect(await metric(t, 'toy_extension_calls_total{function="timeoutMs",outcome="threw",node="frontend-0",group="frontend"}')).toBe(1);
    });

    it('a module without its functions, or that cannot be read, stops the toy at start naming the module', async () => {
      await expect(startFrontend({ extension: moduleFile('empty.cjs', 'exports.other = 1;') })).rejects.toThrow(/must export functions timeoutMs, fallback/);
      await expect(startFrontend({ extension: path.join(dir, 'missing.cjs') })).rejects.toThrow(/cannot read module/);
    });
  });
});
