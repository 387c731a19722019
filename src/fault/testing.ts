import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors } from '../errors/catalog.js';
import type { ApplyContext, ClockWriter, FaultableNode, LinkInfo, ResolveContext, ToxicsApi } from './fault-kind.js';
import { ToxiproxyApiError, type ProxySummary, type ToxicSpec } from './toxiproxy-api.js';
import { findToxiproxyBinary, startToxiproxy, type StartedToxiproxy } from './toxiproxy-server.js';
import { writeClockControl } from '../runtime/fake-clock.js';

/**
 * Test support for the fault layer: a tiny HTTP echo server and a timed one-shot request, and fakes of
 * Toxiproxy, nodes and the loader's context for the fault kinds' unit tests.
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

// ---------------------------------------------------------------------------------------------
// Fakes for unit tests of the fault kinds: no server, no process. The real-server tests are *.int.test.ts.

/** Every directed link between the nodes, named as the lab names proxies. */
export const meshLinks = (nodes: readonly string[]): LinkInfo[] =>
  nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => ({ name: `${a}_to_${b}`, from: a, to: b })));

/**
 * The Toxiproxy calls a link fault makes, answered from memory with the real server's errors (404 for a
 * missing proxy or toxic, 409 for a toxic name taken); `gone()` makes it answer as a stopped server.
 */
export class FakeToxiproxy implements ToxicsApi {
  readonly proxies = new Map<string, { enabled: boolean; toxics: ToxicSpec[] }>();
  /** Every call, in order: `add a_to_b chaoslab-1-upstream`, `remove …`, `disable a_to_b`, `enable …`. */
  readonly calls: string[] = [];
  private unreachable = false;

  constructor(proxyNames: readonly string[]) {
    for (const p of proxyNames) this.proxies.set(p, { enabled: true, toxics: [] });
  }

  gone(): void {
    this.unreachable = true;
  }

  toxicsOf(proxy: string): ToxicSpec[] {
    return this.proxies.get(proxy)?.toxics ?? [];
  }

  /** Every proxy's toxics are gone and every proxy is enabled. */
  get clean(): boolean {
    return [...this.proxies.values()].every((p) => p.enabled && p.toxics.length === 0);
  }

  private proxy(method: string, name: string): { enabled: boolean; toxics: ToxicSpec[] } {
    const path = `/proxies/${name}`;
    if (this.unreachable) throw new ToxiproxyApiError({ method, path, unreachable: true }, `Toxiproxy API ${method} ${path} could not connect (ECONNREFUSED)`);
    const p = this.proxies.get(name);
    if (!p) throw new ToxiproxyApiError({ method, path, status: 404, serverError: 'proxy not found' }, `Toxiproxy API ${method} ${path} failed: 404 proxy not found`);
    return p;
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<ToxicSpec> {
    const p = this.proxy('POST', proxy);
    if (p.toxics.some((t) => t.name === toxic.name)) {
      throw new ToxiproxyApiError({ method: 'POST', path: `/proxies/${proxy}/toxics`, status: 409, serverError: 'toxic already exists' }, 'toxic already exists');
    }
    p.toxics.push({ ...toxic });
    this.calls.push(`add ${proxy} ${toxic.name}`);
    return toxic;
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    const p = this.proxy('DELETE', proxy);
    const i = p.toxics.findIndex((t) => t.name === name);
    if (i < 0) throw new ToxiproxyApiError({ method: 'DELETE', path: `/proxies/${proxy}/toxics/${name}`, status: 404, serverError: 'toxic not found' }, 'toxic not found');
    p.toxics.splice(i, 1);
    this.calls.push(`remove ${proxy} ${name}`);
  }

  async setEnabled(proxy: string, enabled: boolean): Promise<ProxySummary> {
    const p = this.proxy('PATCH', proxy);
    p.enabled = enabled;
    this.calls.push(`${enabled ? 'enable' : 'disable'} ${proxy}`);
    return { name: proxy, listen: '127.0.0.1:0', upstream: '127.0.0.1:0', enabled };
  }
}

/** A started node that records what was done to it. */
export class FakeNode implements FaultableNode {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.calls.push(`kill ${signal}`);
  }
  async restart(): Promise<void> {
    this.calls.push('restart');
  }
  async pause(): Promise<void> {
    this.calls.push('pause');
  }
  async resume(): Promise<void> {
    this.calls.push('resume');
  }
}

/** A node clock that is only the control file, as a process reads it (ApplyContext.clock). */
export function fileClock(file: string): ClockWriter {
  return async (text) => writeClockControl(file, text);
}

/** An apply context over fakes; every part can be replaced. */
export function fakeApplyContext(parts: Partial<ApplyContext> & { links?: readonly LinkInfo[] } = {}): ApplyContext {
  const links = parts.links ?? [];
  return {
    toxiproxy: parts.toxiproxy ?? new FakeToxiproxy(links.map((l) => l.name)),
    faultId: parts.faultId ?? 'f1',
    links,
    nodes: parts.nodes ?? new Map(),
    nodeAddress: parts.nodeAddress ?? ((n) => `${n}.invalid:1`),
    clock: parts.clock ?? (() => undefined),
    observe: parts.observe ?? (() => undefined),
  };
}

export interface RecordedProblem {
  at: readonly (string | number)[];
  message: string;
  code: string;
}

/**
 * A resolve context over plain names (exact names and `*` globs, as the loader matches them), recording
 * problems instead of throwing.
 */
export function fakeResolveContext(opts: { links?: readonly LinkInfo[]; nodes?: readonly string[]; forMs?: number }): ResolveContext & { problems: RecordedProblem[] } {
  const problems: RecordedProblem[] = [];
  const links = opts.links ?? [];
  const match = (pats: readonly string[], names: readonly string[], at: readonly (string | number)[], what: string): string[] => {
    const picked = new Set<string>();
    for (const p of pats) {
      const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      const hits = names.filter((n) => re.test(n));
      if (hits.length === 0) problems.push({ at, message: `no ${what} matches "${p}"`, code: Errors.UnknownReference.code });
      for (const h of hits) picked.add(h);
    }
    return [...picked];
  };
  return {
    problems,
    links,
    forMs: opts.forMs,
    pickLinks: (pats, at) => match(pats, links.map((l) => l.name), at, 'proxied link'),
    pickNodes: (pats, at, o) => match(pats, [...(opts.nodes ?? []), ...(o?.client ? ['client'] : [])], at, 'node'),
    problem: (at, message, _hint, error = Errors.UnknownReference) => problems.push({ at, message, code: error.code }),
  };
}
