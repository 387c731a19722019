import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findToxiproxyBinary, startToxiproxy, type StartedToxiproxy } from './toxiproxy-server.js';

/**
 * Test support for the fault layer: a tiny HTTP echo server and a timed one-shot request.
 * Used by the *.test.ts files beside it; nothing here is for end-user paths.
 */

export interface EchoServer {
  port: number;
  address: string;
  close(): Promise<void>;
}

/** Answers every request with `echo <method> <url>`; tracks sockets so close() is immediate. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`echo ${req.method} ${req.url}`));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type TimedResult =
  | { ok: true; ms: number; body: string; status: number }
  | { ok: false; ms: number; error: string };

/** One GET on a fresh connection (no keep-alive, so every request meets the current toxics). */
export function timedGet(port: number, pathname = '/', timeoutMs = 2_000): Promise<TimedResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: TimedResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ ok: true, ms: performance.now() - t0, body, status: res.statusCode ?? 0 }));
      res.on('error', (e) => finish({ ok: false, ms: performance.now() - t0, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, ms: performance.now() - t0, error: e.code ?? e.message }));
    const timer = setTimeout(() => finish({ ok: false, ms: performance.now() - t0, error: 'timeout' }), timeoutMs);
  });
}

/** The project root, from this file's place in src/fault/. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts the real toxiproxy-server found by the lab's own lookup. A missing binary throws the
 * LabError, so tests fail (not skip) with the hint to run `npm run setup`.
 */
export async function startTestToxiproxy(logFile: string): Promise<StartedToxiproxy> {
  // Tests are an edge like the CLI, so they may read PATH here.
  const binary = findToxiproxyBinary({ projectRoot, envPath: process.env.PATH ?? '' });
  return startToxiproxy({ binary, logFile, seed: 42 });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
