/**
 * The load generator against the real event loop and real HTTP: it holds its rate over seconds, counts latency
 * from the scheduled time through a real stall, and speaks HTTP/1.1 keep-alive to a server on loopback. Real time
 * is the point here, so these live in the integration layer; the unit file checks the same logic without waiting.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadGenerator, type LoadSpec, type RequestResult, type RequestTracing, type Sender } from './load-generator.js';

const spec = (over: Partial<LoadSpec> = {}): LoadSpec => ({
  targets: ['http://127.0.0.1:9'],
  rate: 500,
  arrival: 'poisson',
  operations: [
    { name: 'add', method: 'POST', path: '/set', weight: 2, body: '{"value":{seq}}' },
    { name: 'get', method: 'GET', path: '/kv/{key}', weight: 1 },
  ],
  keys: { count: 50, distribution: 'zipf', exponent: 1 },
  timeoutMs: 1000,
  maxInFlight: 10_000,
  durationMs: 300,
  seed: 11,
  recordHistory: false,
  ...over,
});

const instant: Sender = async () => ({ status: 200, body: 'ok' });
const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

async function run(s: LoadSpec, send: Sender): Promise<{ results: RequestResult[]; gen: LoadGenerator }> {
  const results: RequestResult[] = [];
  const gen = new LoadGenerator(s, { onResult: (r) => results.push(r) }, { send });
  gen.start();
  await gen.done;
  return { results, gen };
}

const generators: LoadGenerator[] = [];
afterEach(async () => {
  await Promise.all(generators.splice(0).map((g) => g.stop().catch(() => undefined)));
});

describe('LoadGenerator in real time', () => {
  it('holds the asked rate with an instant sender (within 1% over 2 s)', async () => {
    const { gen } = await run(spec({ rate: 1000, arrival: 'constant', durationMs: 2000 }), instant);
    const s = await gen.done;
    expect(s.sent).toBeGreaterThanOrEqual(1980);
    expect(s.sent).toBeLessThanOrEqual(2020);
    expect(s.ok).toBe(s.sent);
    expect(s.dropped).toBe(0);
    expect(Math.abs(s.achievedRate - 1000)).toBeLessThan(10);
    expect(s.askedRate).toBeCloseTo(1000, 6);
    expect(s.byOp.add!.sent + s.byOp.get!.sent).toBe(s.sent);
  });

  it('counts latency from the scheduled time: a 300 ms stall shows in later requests', async () => {
    // The sender blocks the event loop once (a GC pause, a stalled machine): requests due meanwhile leave late.
    let stalled = false;
    const send: Sender = async (req) => {
      if (!stalled && req.seq === 50) {
        stalled = true;
        busyWait(300);
      }
      return { status: 200 };
    };
    const { results } = await run(spec({ rate: 1000, arrival: 'constant', durationMs: 600 }), send);
    const stallAt = results.find((r) => r.value === '50')!.scheduledAtMs;
    const next = results.find((r) => r.scheduledAtMs > stallAt && r.scheduledAtMs <= stallAt + 2)!;
    expect(next.latencyMs).toBeGreaterThanOrEqual(297);
    // Server-side stall: every request answered at the end of a 300 ms pause reports the whole wait.
    const pauseStart = 100;
    let releaseAt = 0;
    const paused: Sender = (req) => {
      void req;
      const now = performance.now();
      if (releaseAt === 0) releaseAt = now + pauseStart + 300;
      const wait = now < releaseAt - 300 ? 0 : Math.max(0, releaseAt - now);
      return new Promise((resolve) => setTimeout(() => resolve({ status: 200 }), wait));
    };
    const second = await run(spec({ rate: 1000, arrival: 'constant', durationMs: 500 }), paused);
    const inPause = second.results.filter((r) => r.scheduledAtMs > pauseStart + 5 && r.scheduledAtMs < pauseStart + 10);
    expect(inPause.length).toBeGreaterThan(0);
    for (const r of inPause) expect(r.latencyMs).toBeGreaterThanOrEqual(280);
  });

  it('ramps the rate with setRate and changes the mix with setWeights', async () => {
    const seen: string[] = [];
    const gen = new LoadGenerator(spec({ rate: 0, arrival: 'constant', durationMs: 400 }), { onResult: (r) => seen.push(r.op) }, { send: instant });
    generators.push(gen);
    gen.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(0);
    gen.setWeights({ add: 0 });
    gen.setRate(1000, 0);
    const s = await gen.done;
    expect(s.sent).toBeGreaterThan(250);
    expect(s.sent).toBeLessThan(320);
    expect(s.byOp.add!.sent).toBe(0);
  });

  it.each(['raw', 'node'] as const)('sends real HTTP with keep-alive (%s client), filling placeholders', async (client) => {
    const seen: string[] = [];
    const sockets = new Set<unknown>();
    const server = http.createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.statusCode = req.url?.startsWith('/kv/') ? 404 : 200;
        res.end('pong');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const results: RequestResult[] = [];
      const gen = new LoadGenerator(spec({ targets: [`http://127.0.0.1:${port}`], rate: 100, arrival: 'constant', durationMs: 300 }), { onResult: (r) => results.push(r) }, { client });
      generators.push(gen);
      gen.start();
      const s = await gen.done;
      expect(s.sent).toBe(30);
      expect(s.ok + s.error, JSON.stringify(s)).toBe(s.sent);
      expect(s.byOp.get!.error).toBe(s.byOp.get!.sent);
      expect(results.find((r) => r.outcome === 'ok')!.body).toBe('pong');
      expect(seen.some((l) => /^POST \/set \{"value":\d+\}$/.test(l))).toBe(true);
      expect(seen.some((l) => /^GET \/kv\/\d+ $/.test(l))).toBe(true);
      expect(sockets.size, 'connections are reused').toBeLessThan(s.sent);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it.each(['raw', 'node'] as const)('sends traceparent on the requests tracing picks, and ends each traced span with its outcome (%s client)', async (client) => {
    const headers = new Map<string, string | undefined>();
    const server = http.createServer((req, res) => {
      const seq = /(\d+)$/.exec(req.url ?? '')?.[1] ?? '?';
      headers.set(seq, req.headers.traceparent as string | undefined);
      res.statusCode = Number(seq) % 3 === 0 ? 503 : 200;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const ended: string[] = [];
      const tracing: RequestTracing = {
        sampled: (seq) => seq % 4 === 0,
        start: (req, lagMs) => {
          expect(lagMs).toBeGreaterThanOrEqual(0);
          const tp = `00-${'a'.repeat(32)}-${String(req.seq).padStart(16, '0')}-01`;
          return { traceparent: tp, end: (outcome, status) => ended.push(`${req.seq} ${outcome} ${status}`) };
        },
      };
      const gen = new LoadGenerator(spec({ targets: [`http://127.0.0.1:${port}`], rate: 100, arrival: 'constant', durationMs: 300, operations: [{ name: 'get', method: 'GET', path: '/s/{seq}', weight: 1 }] }), {}, { client, tracing });
      generators.push(gen);
      gen.start();
      expect((await gen.done).sent).toBe(30);
      expect(headers.size).toBe(30);
      for (const [seq, tp] of headers) expect(tp, seq).toBe(Number(seq) % 4 === 0 ? `00-${'a'.repeat(32)}-${seq.padStart(16, '0')}-01` : undefined);
      expect(ended.sort()).toEqual(
        [4, 8, 12, 16, 20, 24, 28].map((seq) => `${seq} ${seq % 3 === 0 ? 'error 503' : 'ok 200'}`).sort(),
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
