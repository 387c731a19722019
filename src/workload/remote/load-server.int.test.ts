/**
 * The load server as its pod runs it: `node dist/src/workload/remote/load-server-main.js`, a child process on
 * loopback, driven by RemoteLoadGenerator through start → rate change → end against a small HTTP target; then its
 * counts, `/metrics`, history, and that it exits by itself once no one drives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RequestResult } from '../load-generator.js';
import { LOAD_API } from './load-api.js';
import { RemoteLoadGenerator } from './remote-load-generator.js';
import { testLoadSpec } from './testing.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const main = path.join(root, 'dist', 'src', 'workload', 'remote', 'load-server-main.js');

interface Child {
  process: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<{ code: number | null; atMs: number }>;
}

const children: ChildProcess[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Starts the server process and waits for its `listening` line. */
async function startChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const child = spawn(process.execPath, [main, '--host', '127.0.0.1', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; atMs: number }>((resolve) => child.once('exit', (code) => resolve({ code, atMs: performance.now() })));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const m = JSON.parse(line) as { listening?: string };
      if (m.listening) resolve(m.listening);
    });
    void exited.then(({ code }) => reject(new Error(`the load server exited (${code}) before it listened`)));
  });
  return { process: child, url, lines, exited };
}

/** The toy the load calls: `/add/…` answers 200, `/kv/…` 503. */
async function startTarget(): Promise<{ url: string; received: () => number }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    received++;
    res.statusCode = req.url?.startsWith('/kv/') ? 503 : 200;
    res.end('x');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received: () => received };
}

beforeAll(() => {
  // The server runs dist/, as its pod does: an old build would test old code. `npm test` builds first.
  const dirs = [path.join(root, 'src', 'workload'), path.join(root, 'src', 'workload', 'remote')];
  const newest = Math.max(...dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => statSync(path.join(d, f)).mtimeMs)));
  if (!existsSync(main) || statSync(main).mtimeMs < newest) throw new Error('dist/ is older than src/workload: run `npm run build` first');
});

describe('load server (spawned)', () => {
  it('runs a load driven over HTTP: counts, metrics and history agree, and it exits by itself after its idle deadline', async () => {
    const target = await startTarget();
    const server = await startChild(['--idle-ms', '1500'], { CHAOSLAB_LOAD_TOKEN: 'secret' });
    expect((await fetch(`${server.url}${LOAD_API.status}`)).status, 'control calls need the token').toBe(401);

    const spec = testLoadSpec({
      targets: [target.url],
      operations: [
        { name: 'add', method: 'POST', path: '/add/{seq}', weight: 3 },
        { name: 'get', method: 'GET', path: '/kv/{key}', weight: 1 },
      ],
      keys: { count: 20, distribution: 'uniform', exponent: 1 },
      durationMs: 1500,
      seed: 5,
    });
    const results: { r: RequestResult; atMs: number }[] = [];
    const load = new RemoteLoadGenerator(server.url, spec, { onResult: (r) => results.push({ r, atMs: performance.now() }) }, { token: 'secret', pollIntervalMs: 200 });
    load.start();
    await new Promise((r) => setTimeout(r, 500));
    load.setRate(300, 0);
    const summary = await load.done;
    const doneAtMs = performance.now();

    // About 0.5 s at 100/s, then 1 s at 300/s.
    expect(summary.sent).toBeGreaterThan(280);
    expect(summary.sent).toBeLessThan(420);
    expect(summary.dropped + summary.timeout).toBe(0);
    expect(target.received()).toBe(summary.sent);
    expect(summary.ok).toBe(summary.byOp.add!.sent);
    expect(summary.error).toBe(summary.byOp.get!.sent);

    // The live feed: every result once, and while the load ran, not only at its end.
    expect(results).toHaveLength(summary.sent);
    expect(results.filter(({ r }) => r.op === 'get' && r.outcome === 'error')).toHaveLength(summary.error);
    expect(results[0]!.atMs).toBeLessThan(doneAtMs - 800);

    const metrics = await (await fetch(`${server.url}${LOAD_API.metrics}`)).text();
    expect(metrics).toContain(`chaoslab_client_requests_total{op="add",outcome="ok"} ${summary.byOp.add!.ok}`);
    expect(metrics).toContain(`chaoslab_client_requests_total{op="get",outcome="error"} ${summary.byOp.get!.error}`);
    expect(metrics).toContain('chaoslab_client_requests_total{op="add",outcome="timeout"} 0');
    expect(metrics).toContain(`chaoslab_client_request_duration_seconds_count{op="get"} ${summary.byOp.get!.sent}`);

    const history = load.history!;
    expect(history.ops).toHaveLength(2 * summary.sent);
    expect(history.ops.filter((o) => o.type === 'ok')).toHaveLength(summary.ok);
    // A 503 is a definite failure in the history (not one of the indeterminate 500, 502, 504).
    expect(history.ops.filter((o) => o.type === 'fail' && o.error === 'status 503')).toHaveLength(summary.error);
    expect(history.elapsedNs()).toBeGreaterThan(history.ops.at(-1)!.time);

    // Scrapes do not keep it alive: only control calls do.
    const scraping = setInterval(() => void fetch(`${server.url}${LOAD_API.metrics}`).then((r) => r.text(), () => undefined), 100);
    try {
      const { code, atMs } = await server.exited;
      expect(code).toBe(0);
      expect(atMs - doneAtMs).toBeLessThan(1500 + 1000);
    } finally {
      clearInterval(scraping);
    }
    expect(server.lines.at(-1)).toBe('{"closed":"idle"}');
  });

  it('exits by itself when no client ever drives it, and refuses bad arguments', async () => {
    const startedAt = performance.now();
    const server = await startChild(['--idle-ms', '300']);
    const { code, atMs } = await server.exited;
    expect(code).toBe(0);
    expect(atMs - startedAt).toBeLessThan(2000);
    expect(server.lines).toEqual([JSON.stringify({ listening: server.url }), '{"closed":"idle"}']);

    const bad = spawn(process.execPath, [main, '--idle-ms', 'soon'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(bad);
    let stderr = '';
    bad.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise((r) => bad.once('exit', r))).toBe(2);
    expect(stderr).toMatch(/--idle-ms soon: expected whole milliseconds/);
  });
});
