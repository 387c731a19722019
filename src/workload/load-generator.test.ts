import { afterEach, describe, expect, it } from 'vitest';
import { LoadGenerator, type LoadSpec, type RequestResult, type Sender } from './load-generator.js';

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
const never: Sender = () => new Promise(() => undefined);

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

describe('LoadGenerator', () => {
  it('same seed ⇒ same (op, key, scheduled time); another seed differs', async () => {
    const sequence = async (seed: number): Promise<string[]> => {
      const seen: string[] = [];
      const send: Sender = async (req) => {
        seen.push(`${req.op} ${req.key} ${req.seq} ${req.path} ${req.body ?? ''}`);
        return { status: 200 };
      };
      // 100 ms at 2000 req/s: as many arrivals as 300 ms at the default 500 req/s, a third of the wait.
      const { results } = await run(spec({ seed, rate: 2000, durationMs: 100 }), send);
      return results.map((r) => `${r.op} ${r.value} ${r.scheduledAtMs}`).sort().concat(seen);
    };
    const a = await sequence(3);
    expect(a.length).toBeGreaterThan(200);
    expect(await sequence(3)).toEqual(a);
    expect(await sequence(4)).not.toEqual(a);
  });

  it('drops arrivals over maxInFlight and counts them', async () => {
    const gen = new LoadGenerator(spec({ rate: 1000, arrival: 'constant', durationMs: 100, maxInFlight: 5, timeoutMs: 60_000 }), {}, { send: never });
    generators.push(gen);
    gen.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(gen.outstanding).toBe(5);
    const s = await gen.stop();
    expect(s.sent).toBe(5);
    expect(s.dropped).toBe(95);
    expect(s.cancelled).toBe(5);
    expect(s.timeout).toBe(5);
    expect(s.sent + s.dropped).toBe(100);
  });

  it('times out a request that never answers, even if the sender ignores the signal', async () => {
    const started = performance.now();
    const { results, gen } = await run(spec({ rate: 100, arrival: 'constant', durationMs: 50, timeoutMs: 120, recordHistory: true }), never);
    const s = await gen.done;
    expect(s.timeout).toBe(5);
    expect(s.cancelled).toBe(0);
    // Node timers run off a cached loop clock and may fire up to ~1 ms early.
    for (const r of results) expect([r.outcome, r.latencyMs >= 119]).toEqual(['timeout', true]);
    expect(performance.now() - started).toBeLessThan(1000);
    const types = gen.history!.ops.map((o) => o.type);
    expect(types.filter((t) => t === 'info')).toHaveLength(5);
  });

  it('classifies statuses and errors for results and the history', async () => {
    const byKind: Record<string, Sender> = {
      ok: async () => ({ status: 201 }),
      redirect: async () => ({ status: 302 }),
      unavailable: async () => ({ status: 503 }),
      crashed: async () => ({ status: 500 }),
      refused: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      reset: async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    };
    const expected: Record<string, [string, string]> = {
      ok: ['ok', 'ok'],
      redirect: ['ok', 'info'],
      unavailable: ['error', 'fail'],
      crashed: ['error', 'info'],
      refused: ['error', 'fail'],
      reset: ['error', 'info'],
    };
    for (const [kind, send] of Object.entries(byKind)) {
      const { results, gen } = await run(spec({ rate: 100, arrival: 'constant', durationMs: 10, recordHistory: true }), send);
      expect(results.map((r) => r.outcome), kind).toEqual([expected[kind]![0]]);
      expect(gen.history!.ops.map((o) => o.type), kind).toEqual(['invoke', expected[kind]![1]]);
    }
  });

  it('retires the process after an indeterminate op and records values (seq or key)', async () => {
    let n = 0;
    const send: Sender = async (req) => {
      n++;
      if (n % 3 === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return { status: req.op === 'get' ? 200 : 204 };
    };
    const { gen } = await run(spec({ rate: 200, arrival: 'constant', durationMs: 200, recordHistory: true }), send);
    const ops = gen.history!.ops;
    const infos = ops.filter((o) => o.type === 'info');
    expect(infos.length).toBeGreaterThan(5);
    for (const info of infos) {
      expect(ops.slice(info.index + 1).some((o) => o.process === info.process)).toBe(false);
    }
    const invokes = ops.filter((o) => o.type === 'invoke');
    const adds = invokes.filter((o) => o.f === 'add').map((o) => o.value as number);
    expect(adds).toEqual([...adds].sort((a, b) => a - b));
    expect(new Set(adds).size).toBe(adds.length);
    expect(invokes.filter((o) => o.f === 'get').every((o) => typeof o.value === 'number' && o.value < 50)).toBe(true);
    expect(gen.history!.toEdn().split('\n')[0]).toMatch(/^\{:type :invoke, :f :(add|get), :value \d+, :process 0, :time \d+, :index 0\}$/);
  });

  it('fails the run with a LabError when the onResult hook throws', async () => {
    const gen = new LoadGenerator(spec({ durationMs: 2000 }), { onResult: () => { throw new Error('boom'); } }, { send: instant });
    generators.push(gen);
    gen.start();
    await expect(gen.done).rejects.toMatchObject({ code: 'CHAOSLAB_WORKLOAD_FAILED' });
  });

  it('reports connection refused as error and history fail', async () => {
    const gen = new LoadGenerator(spec({ targets: ['http://127.0.0.1:1'], rate: 100, arrival: 'constant', durationMs: 30, recordHistory: true }));
    generators.push(gen);
    gen.start();
    const s = await gen.done;
    expect(s.error).toBe(3);
    expect(gen.history!.ops.filter((o) => o.type !== 'invoke').map((o) => [o.type, o.error])).toEqual(Array(3).fill(['fail', 'ECONNREFUSED']));
  });
});

describe('LoadGenerator stop from a hook', () => {
  it('a hook may call stop() while requests are being dispatched', async () => {
    let stops = 0;
    const gen: LoadGenerator = new LoadGenerator(spec({ rate: 2000, arrival: 'constant', durationMs: 1000, maxInFlight: 1 }), {
      onResult: (r) => {
        if (r.outcome === 'dropped' && stops++ === 0) void gen.stop();
      },
    }, { send: never });
    gen.start();
    const s = await gen.done;
    expect(s.sent).toBe(1);
    expect(s.dropped).toBe(1);
    expect(s.cancelled).toBe(1);
  });
});
