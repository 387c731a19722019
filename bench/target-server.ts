/**
 * The endpoint the load-generator benchmark hits: a tiny node:http server in a CHILD process, so it does not
 * share an event loop (or a core) with the generator under test. It counts the requests it receives, which
 * gives the benchmark a measurement of the held rate that does not trust the generator's own numbers.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const SERVE_FLAG = '--serve-bench-target';

export interface ServerCounts {
  count: number;
  /** performance.now() in the server of the first and last request since the last reset. */
  firstMs: number;
  lastMs: number;
}

export interface BenchTarget {
  url: string;
  resetCounts(): Promise<void>;
  counts(): Promise<ServerCounts>;
  stop(): Promise<void>;
}

type Request = { id: number; cmd: 'reset' | 'counts' };
type Reply = { id: number; counts?: ServerCounts } | { port: number };

export async function startBenchTarget(startTimeoutMs = 10_000): Promise<BenchTarget> {
  const child = fork(fileURLToPath(import.meta.url), [SERVE_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench target did not start in time')), startTimeoutMs);
    child.once('message', (m: Reply) => {
      clearTimeout(timer);
      if ('port' in m) resolve(m.port);
      else reject(new Error('bench target sent an unexpected first message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench target exited early with code ${code}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });

  let nextId = 0;
  const pending = new Map<number, (r: Reply) => void>();
  child.on('message', (m: Reply) => {
    if ('id' in m) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const ask = (cmd: Request['cmd']): Promise<Reply> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, cmd } satisfies Request);
    });

  return {
    url: `http://127.0.0.1:${port}`,
    resetCounts: async () => void (await ask('reset')),
    counts: async () => {
      const r = await ask('counts');
      if (!('id' in r) || !r.counts) throw new Error('bench target sent no counts');
      return r.counts;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function serve(): void {
  let counts: ServerCounts = { count: 0, firstMs: 0, lastMs: 0 };
  const server = http.createServer((req, res) => {
    const now = performance.now();
    if (counts.count === 0) counts.firstMs = now;
    counts.lastMs = now;
    counts.count++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  // Idle keep-alive connections must outlive pauses between benchmark phases.
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: Request) => {
    if (m.cmd === 'reset') counts = { count: 0, firstMs: 0, lastMs: 0 };
    process.send!({ id: m.id, counts } satisfies Reply);
  });
  // The parent owns this process: when it goes away, so do we.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port } satisfies Reply));
}

if (process.argv.includes(SERVE_FLAG) && process.argv[1] === fileURLToPath(import.meta.url) && process.send) serve();
