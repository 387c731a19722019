import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createOtelToyTracer, pathTemplate } from './otel.js';
import { formatTraceparent, parseTraceparent } from './trace-context.js';
import { startToy, sleep, type NodeConfig, type RunningToy, type ToySetup } from './toy-node.js';
import { NOOP_TRACER, deferredToyTracer, loadToyTracer, parseTraceConfig, type ToyTracer } from './tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';
const sampled = formatTraceparent({ traceId: TRACE, spanId: CALLER, flags: 1 });

/** Keeps every exported span (the SDK's in-memory exporter forgets them on shutdown). */
function collector(): { exporter: SpanExporter; spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  return {
    spans,
    exporter: {
      export: (s, done) => {
        spans.push(...s);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    },
  };
}

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

function config(name: string, group: string, peers: Record<string, string[]> = {}): NodeConfig {
  return { name, group, index: 0, host: '127.0.0.1', ports: { http: 0 }, peers, params: {}, seed: 1, runId: 'run-1' };
}

/** front-0 → (link front_to_back) → back-0, each with its own tracer over one collector. */
async function pair(spans: ReturnType<typeof collector>, frontRoutes: ToySetup, backRoutes: ToySetup): Promise<{ front: RunningToy; back: RunningToy; addr: string }> {
  const back = await startToy(config('back-0', 'back'), backRoutes, { tracer: createOtelToyTracer({ service: 'back', instance: 'back-0', runId: 'run-1' }, { exporter: spans.exporter, exportDelayMs: 10 }) });
  running.push(back);
  const addr = `127.0.0.1:${back.port}`;
  const front = await startToy(config('front-0', 'front', { back: [addr] }), frontRoutes, {
    tracer: createOtelToyTracer({ service: 'front', instance: 'front-0', runId: 'run-1' }, { exporter: spans.exporter, exportDelayMs: 10, variant: 'baseline', links: { [addr]: 'front_to_back' } }),
  });
  running.push(front);
  return { front, back, addr };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** Closing a toy flushes its tracer. */
async function closeAll(): Promise<void> {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
}

describe('toy tracing', () => {
  it('continues a sampled trace: server span, client span over the link, the peer’s server span', async () => {
    const c = collector();
    const seen: (string | undefined)[] = [];
    const { front } = await pair(
      c,
      (toy) => toy.route('GET', '/x/:k', async (req) => ({ body: (await toy.peer('back').get(`/item/${req.params.k}?full=1`)).body })),
      (toy) =>
        toy.route('GET', '/item/:k', (req) => {
          seen.push(req.headers.traceparent as string | undefined);
          return { body: { k: req.params.k } };
        }),
    );
    expect(await get(`${front.url}/x/7`, { traceparent: sampled })).toBe(200);
    await closeAll();

    const byName = new Map(c.spans.map((s) => [`${s.resource.attributes['service.name']} ${s.name}`, s]));
    const frontServer = byName.get('front GET /x/:k')!;
    const client = byName.get('front GET /item/{id}')!;
    const backServer = byName.get('back GET /item/:k')!;
    expect(c.spans).toHaveLength(3);
    for (const s of [frontServer, client, backServer]) expect(s.spanContext().traceId).toBe(TRACE);
    expect(frontServer.parentSpanContext?.spanId).toBe(CALLER);
    expect(client.parentSpanContext?.spanId).toBe(frontServer.spanContext().spanId);
    expect(backServer.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    // What went over the wire is the client span's context.
    expect(parseTraceparent(seen[0])).toEqual({ traceId: TRACE, spanId: client.spanContext().spanId, flags: 1 });
    expect(client.attributes).toMatchObject({ 'chaoslab.link': 'front_to_back', 'http.request.method': 'GET', 'http.response.status_code': 200 });
    expect(String(client.attributes['url.full'])).toMatch(/\/item\/7\?full=1$/);
    expect(frontServer.attributes).toMatchObject({ 'http.route': '/x/:k', 'url.path': '/x/7', 'http.response.status_code': 200 });
    expect(frontServer.resource.attributes).toMatchObject({ 'service.name': 'front', 'service.instance.id': 'front-0', 'chaoslab.run_id': 'run-1', 'chaoslab.variant': 'baseline' });
  });

  it('records nothing and sends no header for a request without traceparent, or an unsampled one', async () => {
    const c = collector();
    const seen: (string | undefined)[] = [];
    const { front } = await pair(
      c,
      (toy) => toy.route('GET', '/x', async () => ({ body: (await toy.peer('back').get('/y')).body })),
      (toy) =>
        toy.route('GET', '/y', (req) => {
          seen.push(req.headers.traceparent as string | undefined);
          return { body: {} };
        }),
    );
    expect(await get(`${front.url}/x`)).toBe(200);
    expect(await get(`${front.url}/x`, { traceparent: formatTraceparent({ traceId: TRACE, spanId: CALLER, flags: 0 }) })).toBe(200);
    expect(await get(`${front.url}/x`, { traceparent: 'not-a-traceparent' })).toBe(200);
    expect(await get(`${front.url}/health`, { traceparent: sampled })).toBe(200);
    await closeAll();
    expect(c.spans).toEqual([]);
    expect(seen).toEqual([undefined, undefined, undefined]);
  });

  it('keeps overlapping traced requests traced when one of them ends first', async () => {
    const c = collector();
    const { front } = await pair(
      c,
      (toy) =>
        toy.route('GET', '/x/:ms', async (req) => {
          await sleep(Number(req.params.ms));
          return { body: (await toy.peer('back').get('/y')).body };
        }),
      (toy) => toy.route('GET', '/y', () => ({ body: {} })),
    );
    const other = formatTraceparent({ traceId: 'ab'.repeat(16), spanId: CALLER, flags: 1 });
    const slow = get(`${front.url}/x/250`, { traceparent: other });
    await sleep(50);
    expect(await get(`${front.url}/x/10`, { traceparent: sampled })).toBe(200); // ends while the slow one waits
    expect(await slow).toBe(200);
    expect(await get(`${front.url}/x/0`, { traceparent: sampled })).toBe(200); // and tracing resumes after a pause
    await closeAll();
    const clients = c.spans.filter((s) => s.name === 'GET /y' && s.resource.attributes['service.name'] === 'front');
    expect(clients.map((s) => s.spanContext().traceId).sort()).toEqual(['ab'.repeat(16), TRACE, TRACE].sort());
  });

  it('a call that times out ends its client span at the timeout, as an error; a 5xx marks the server span', async () => {
    const c = collector();
    const { front } = await pair(
      c,
      (toy) =>
        toy.route('GET', '/x', async () => {
          await toy.peer('back').get('/slow', { timeoutMs: 100 });
          return { body: {} };
        }),
      (toy) =>
        toy.route('GET', '/slow', async () => {
          await sleep(400);
          return { body: {} };
        }),
    );
    expect(await get(`${front.url}/x`, { traceparent: sampled })).toBe(500);
    await closeAll();
    const client = c.spans.find((s) => s.name === 'GET /slow')!;
    const ms = (s: ReadableSpan) => s.duration[0] * 1000 + s.duration[1] / 1e6;
    expect(client.status).toEqual({ code: 2, message: 'timeout' });
    expect(ms(client)).toBeGreaterThanOrEqual(99);
    expect(ms(client)).toBeLessThan(400);
    expect(c.spans.find((s) => s.name === 'GET /x')!.status.code).toBe(2);
  });

  it('carries a trace through a queued job (current → continue), and not into work left after the request', async () => {
    const c = collector();
    const jobs: (string | undefined)[] = [];
    let leftover: Promise<unknown> | undefined;
    const { front } = await pair(
      c,
      (toy) => {
        toy.route('POST', '/enqueue', () => {
          jobs.push(toy.trace.current());
          // Started inside the request, runs after it answered: not part of its trace.
          leftover = sleep(150).then(() => toy.peer('back').get('/late'));
          return { body: {} };
        });
        toy.route('POST', '/work', async () => {
          await toy.trace.continue(jobs[0], 'process job', () => toy.peer('back').get('/y'), { 'job.kind': 'test' });
          await toy.trace.continue(undefined, 'untraced job', () => toy.peer('back').get('/y'));
          return { body: {} };
        });
      },
      (toy) => {
        toy.route('GET', '/y', () => ({ body: {} }));
        toy.route('GET', '/late', () => ({ body: {} }));
      },
    );
    const post = (p: string, headers: Record<string, string> = {}) => fetch(`${front.url}${p}`, { method: 'POST', headers }).then((r) => r.status);
    expect(await post('/enqueue', { traceparent: sampled })).toBe(200);
    await leftover;
    expect(await post('/work')).toBe(200);
    await closeAll();

    const enqueue = c.spans.find((s) => s.name === 'POST /enqueue')!;
    expect(parseTraceparent(jobs[0])?.spanId).toBe(enqueue.spanContext().spanId);
    const consumer = c.spans.find((s) => s.name === 'process job')!;
    expect(consumer.kind).toBe(4); // SpanKind.CONSUMER
    expect(consumer.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
    expect(consumer.attributes['job.kind']).toBe('test');
    const call = c.spans.find((s) => s.name === 'GET /y' && s.resource.attributes['service.name'] === 'front')!;
    expect(call.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(c.spans.filter((s) => s.name === 'GET /y')).toHaveLength(2); // one call traced: its client and server spans
    expect(c.spans.some((s) => s.name.includes('/late'))).toBe(false);
    expect(c.spans.some((s) => s.name === 'untraced job' || s.name === 'POST /work')).toBe(false);
  });
});

describe('tracing config', () => {
  it('is off without CHAOSLAB_TRACES and reads the lab’s JSON', async () => {
    expect(parseTraceConfig(undefined)).toBeUndefined();
    expect(parseTraceConfig('')).toBeUndefined();
    expect(await loadToyTracer({}, { service: 's', instance: 'i', runId: 'r' })).toBe(NOOP_TRACER);
    expect(parseTraceConfig('{"url":"http://10.0.0.1:4318/v1/traces","variant":"baseline","links":{"a:1":"x_to_y","b:2":3}}')).toEqual({
      url: 'http://10.0.0.1:4318/v1/traces',
      variant: 'baseline',
      links: { 'a:1': 'x_to_y' },
    });
    expect(() => parseTraceConfig('{')).toThrow(/not valid JSON/);
    expect(() => parseTraceConfig('{"url":"file:///tmp/x"}')).toThrow(/must be/);
    const t = await loadToyTracer({ CHAOSLAB_TRACES: '{"url":"http://127.0.0.1:9/v1/traces"}' }, { service: 's', instance: 'i', runId: 'r' });
    expect(t.enabled).toBe(true);
    await t.shutdown();
  });

  it('names client spans by path template', () => {
    expect(pathTemplate('/item/42?x=1')).toBe('/item/{id}');
    expect(pathTemplate('/celebrity/3/tweet')).toBe('/celebrity/{id}/tweet');
    expect(pathTemplate('/membership?node=storage-2')).toBe('/membership');
    expect(pathTemplate('/kv/a42')).toBe('/kv/a42');
  });
});

describe('deferredToyTracer', () => {
  const recording = (): ToyTracer & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      enabled: true,
      server: (tp) => (calls.push(`server ${tp}`), undefined),
      consumer: () => undefined,
      client: (m, a, p) => (calls.push(`client ${m} ${a}${p}`), undefined),
      current: () => 'tp-now',
      shutdown: async () => void calls.push('shutdown'),
    };
  };

  it('is off until the SDK is loaded, then delegates every call', async () => {
    let resolve!: (t: ToyTracer) => void;
    const inner = recording();
    const t = deferredToyTracer(new Promise<ToyTracer>((r) => (resolve = r)));
    expect(t.enabled).toBe(false);
    expect(t.server('00-a-b-01', 'GET', '/x', '/x')).toBeUndefined();
    expect(t.current()).toBeUndefined();
    expect(inner.calls).toEqual([]);
    resolve(inner);
    await new Promise((r) => setImmediate(r));
    expect(t.enabled).toBe(true);
    t.server('00-a-b-01', 'GET', '/x', '/x');
    t.client('GET', '127.0.0.1:1', '/y');
    expect(t.current()).toBe('tp-now');
    await t.shutdown();
    expect(inner.calls).toEqual(['server 00-a-b-01', 'client GET 127.0.0.1:1/y', 'shutdown']);
  });

  it('stays off, and shuts down, when loading fails', async () => {
    const errors: unknown[] = [];
    const t = deferredToyTracer(Promise.reject(new Error('no sdk')), (e) => errors.push(e));
    await t.shutdown();
    expect(t.enabled).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
