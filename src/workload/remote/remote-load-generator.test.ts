/**
 * The client against an in-test stub of the HTTP layer: `fetch` is handed to a real `LoadService` (the server's
 * logic, no socket), or to a scripted answer for the failures. Polls every 10 ms, loads of a few hundred ms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LabError } from '../../errors/lab-error.js';
import type { LoadSpec, RequestResult, Sender } from '../load-generator.js';
import { LOAD_API, LoadStatus } from './load-api.js';
import { LoadService } from './load-server.js';
import { FetchedHistory, RemoteLoadGenerator, type RemoteLoadOptions } from './remote-load-generator.js';
import { testLoadSpec } from './testing.js';

const BASE = 'http://127.0.0.1:7070';

const spec = (over: Partial<LoadSpec> = {}): LoadSpec => testLoadSpec({ recordHistory: false, ...over });

const sender: Sender = async (req) => ({ status: req.op === 'get' ? 503 : 200 });

type Handler = (method: string, url: URL, body: string) => Promise<Response> | Response;

/** A fetch that hands each call to `handler` and notes `METHOD /path`. */
function stubFetch(handler: Handler, calls: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url.pathname}`);
    return handler(method, url, typeof init?.body === 'string' ? init.body : '');
  }) as typeof fetch;
}

/** The server's own logic behind the stub. */
function serviceFetch(service: LoadService, calls?: string[]): typeof fetch {
  return stubFetch(async (method, url, body) => {
    const reply = await service.handle({ method, path: url.pathname, query: url.searchParams, body });
    return new Response(reply.body, { status: reply.status, headers: { 'content-type': reply.contentType, ...reply.headers } });
  }, calls);
}

const services: LoadService[] = [];
const clients: RemoteLoadGenerator[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
  await Promise.all(services.splice(0).map((s) => s.close()));
});

function setup(s: LoadSpec, options: RemoteLoadOptions = {}): { service: LoadService; client: RemoteLoadGenerator; results: RequestResult[]; calls: string[] } {
  const service = new LoadService({ send: sender });
  services.push(service);
  const results: RequestResult[] = [];
  const calls: string[] = [];
  const client = new RemoteLoadGenerator(BASE, s, { onResult: (r) => results.push(r) }, { pollIntervalMs: 10, fetch: serviceFetch(service, calls), ...options });
  clients.push(client);
  return { service, client, results, calls };
}

describe('RemoteLoadGenerator', () => {
  it('runs a load to its end: every result replayed to onResult, the summary, the history', async () => {
    const { client, results } = setup(spec({ recordHistory: true }));
    expect(client.history).toBeUndefined();
    client.start();
    const sum = await client.done;
    expect(sum.sent).toBe(20);
    expect(results).toHaveLength(20);
    expect(results.filter((r) => r.op === 'add' && r.outcome === 'ok')).toHaveLength(sum.byOp.add!.ok);
    expect(results.filter((r) => r.op === 'get' && r.outcome === 'error')).toHaveLength(sum.byOp.get!.error);
    expect(results.map((r) => r.scheduledAtMs)).toEqual([...results.map((r) => r.scheduledAtMs)].sort((a, b) => a - b));
    const history = client.history!;
    expect(history.ops).toHaveLength(40);
    expect(history.ops[0]).toMatchObject({ index: 0, type: 'invoke', process: 0 });
    expect(history.toEdn().split('\n')[0]).toMatch(/^\{:type :invoke, :f :(add|get), /);
    expect(history.toJsonLines().trim().split('\n')).toHaveLength(40);
    expect(history.elapsedNs()).toBeGreaterThan(history.ops.at(-1)!.time);
    expect(client.loadId).toBe(1);
  });

  it('sends rate and weight changes in order, also those made before start', async () => {
    const { client, calls, service } = setup(spec({ rate: 0, durationMs: 300 }));
    client.setWeights({ get: 0 });
    expect(calls, 'nothing sent before start').toEqual([]);
    client.start();
    client.setRate(100, 0);
    await client.settled();
    expect(calls.filter((c) => !c.endsWith(LOAD_API.status)).slice(0, 3)).toEqual([`POST ${LOAD_API.start}`, `POST ${LOAD_API.weights}`, `POST ${LOAD_API.rate}`]);
    const sum = await client.done;
    expect(sum.sent).toBeGreaterThan(10);
    expect(sum.byOp.get!.sent).toBe(0);
    const st = LoadStatus.parse(JSON.parse((await service.handle({ method: 'GET', path: LOAD_API.status, query: new URLSearchParams(), body: '' })).body));
    expect(st.summary).toEqual(sum);
  });

  it('stops a running load: the summary of what was sent, and the rest of the feed', async () => {
    const { client, results } = setup(spec({ durationMs: 60_000 }), { pollIntervalMs: 1000 });
    client.start();
    await new Promise((r) => setTimeout(r, 150));
    const sum = await client.stop();
    expect(sum.sent).toBeGreaterThan(5);
    expect(sum.sent).toBeLessThan(40);
    expect(results, 'every result, though no poll came before the stop').toHaveLength(sum.sent + sum.dropped);
    expect(await client.done).toBe(sum);
    client.setRate(5, 0); // after the end: nothing to change, nothing sent
    await client.settled();
  });

  it('stopped before it started: an empty summary, no call', async () => {
    const calls: string[] = [];
    const client = new RemoteLoadGenerator(BASE, spec(), {}, { fetch: stubFetch(() => new Response('{}'), calls) });
    expect((await client.stop()).sent).toBe(0);
    expect(calls).toEqual([]);
    expect(() => client.start()).toThrow(/twice/);
  });

  it('checks a spec and a change where they are made, as LoadGenerator does', () => {
    expect(() => new RemoteLoadGenerator(BASE, spec({ durationMs: 0 }))).toThrow(expect.objectContaining({ code: 'CHAOSLAB_INVALID_FIELD', location: expect.objectContaining({ field: 'durationMs' }) }));
    const client = new RemoteLoadGenerator(BASE, spec(), {}, { fetch: stubFetch(() => new Response('{}')) });
    expect(() => client.setWeights({ put: 1 })).toThrow(/unknown operation "put"/);
    expect(() => client.setWeights({ add: 0, get: 0 })).toThrow(/sum to 0/);
    expect(() => client.setRate(-1, 0)).toThrow(LabError);
    expect(() => client.setRate(1, Number.NaN)).toThrow(/ramp/);
  });

  it('fails the load when the server stops answering, naming it', async () => {
    const fetch = stubFetch((method, url) => {
      if (url.pathname === LOAD_API.start) return new Response('{"load":1}', { status: 201 });
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    const client = new RemoteLoadGenerator(BASE, spec(), {}, { fetch, pollIntervalMs: 10, unreachableMs: 60 });
    client.start();
    await expect(client.done).rejects.toMatchObject({ code: 'CHAOSLAB_WORKLOAD_FAILED', message: expect.stringMatching(new RegExp(`${BASE} has not answered .*ECONNREFUSED`)) });
  });

  it('calls a rate change again after a broken connection; a start that cannot connect fails the load', async () => {
    const service = new LoadService({ send: sender });
    services.push(service);
    const real = serviceFetch(service);
    let broken = 0;
    const flaky = stubFetch((method, url, body) => {
      if (url.pathname === LOAD_API.rate && broken++ === 0) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      return real(url, { method, ...(body ? { body } : {}) });
    });
    const client = new RemoteLoadGenerator(BASE, spec({ rate: 0, durationMs: 300 }), {}, { fetch: flaky, pollIntervalMs: 10, unreachableMs: 1000 });
    clients.push(client);
    client.start();
    client.setRate(100, 0);
    expect((await client.done).sent).toBeGreaterThan(5);
    expect(broken).toBe(2);

    const refused = stubFetch(() => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    const never = new RemoteLoadGenerator(BASE, spec(), {}, { fetch: refused });
    never.start();
    const e = (await never.done.catch((x: unknown) => x)) as LabError;
    expect(e).toBeInstanceOf(LabError);
    expect(e).toMatchObject({ code: 'CHAOSLAB_WORKLOAD_FAILED', message: `the load generator at ${BASE} did not answer POST /v1/start: ECONNREFUSED` });
    expect(e.hint).toMatch(/port-forward/);
  });

  it.each([
    ['a server of another API version', () => new Response('404 page not found', { status: 404 }), /refused POST \/v1\/start: HTTP 404$/, /image from this chaoslab version/],
    ['an answer it cannot read', () => new Response('{"load":"one"}', { status: 201 }), /answered \/v1\/start with load: /, /image from this chaoslab version/],
    ['a refusal', () => new Response('{"error":{"code":"conflict","message":"load 3 is still running: stop it first"}}', { status: 409 }), /HTTP 409: load 3 is still running/, /bug in chaoslab/],
    ['a wrong token', () => new Response('{"error":{"code":"unauthorized","message":"no"}}', { status: 401 }), /HTTP 401/, /CHAOSLAB_LOAD_TOKEN/],
  ])('fails the load on %s', async (_what, answer, message, hint) => {
    const client = new RemoteLoadGenerator(BASE, spec(), {}, { fetch: stubFetch(answer) });
    client.start();
    const e = (await client.done.catch((x: unknown) => x)) as LabError;
    expect(e).toBeInstanceOf(LabError);
    expect(e.code).toBe('CHAOSLAB_WORKLOAD_FAILED');
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
  });

  it('fails the load when the server runs another load, or its generator died', async () => {
    const status = (over: Partial<LoadStatus>) => new Response(JSON.stringify({ load: 1, state: 'running', elapsedMs: 5, operations: ['add', 'get'], counts: { sent: 0, ok: 0, error: 0, timeout: 0, dropped: 0 }, byOp: {}, latencyMs: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 }, ...over }));
    for (const [over, message] of [
      [{ load: 2 }, /runs load 2, not this client's load 1/],
      [{ state: 'failed', error: { message: 'the onResult hook threw: boom' } }, /failed: the onResult hook threw: boom/],
    ] as const) {
      const calls: string[] = [];
      const fetch = stubFetch((method, url) => (url.pathname === LOAD_API.start ? new Response('{"load":1}', { status: 201 }) : url.pathname === LOAD_API.stop ? new Response('{}') : status(over)), calls);
      const client = new RemoteLoadGenerator(BASE, spec(), {}, { fetch, pollIntervalMs: 10 });
      client.start();
      await expect(client.done).rejects.toThrow(message);
      await new Promise((r) => setTimeout(r, 10));
      expect(calls.at(-1), 'a load whose client gave up is stopped').toBe(`POST ${LOAD_API.stop}`);
    }
  });

  it('fails the load when onResult throws, and stops the server\'s load', async () => {
    const service = new LoadService({ send: sender });
    services.push(service);
    const client = new RemoteLoadGenerator(BASE, spec({ durationMs: 60_000 }), { onResult: () => { throw new Error('boom'); } }, { fetch: serviceFetch(service), pollIntervalMs: 10 });
    client.start();
    await expect(client.done).rejects.toMatchObject({ code: 'CHAOSLAB_WORKLOAD_FAILED', message: 'the onResult hook threw: boom' });
    await new Promise((r) => setTimeout(r, 20));
    expect(service.running).toBe(false);
  });
});

describe('FetchedHistory', () => {
  it('goes on from the server clock it was served at', () => {
    let now = 1_000n;
    const h = new FetchedHistory([{ index: 0, type: 'invoke', f: 'add', value: 1, process: 0, time: 10 }], 500, () => now);
    expect(h.elapsedNs()).toBe(500);
    now += 250n;
    expect(h.elapsedNs()).toBe(750);
    expect(h.toEdn()).toBe('{:type :invoke, :f :add, :value 1, :process 0, :time 10, :index 0}\n');
  });
});
