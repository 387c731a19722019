import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingRequest } from '../workload/http-sender.js';
import { faultAttributes, labTracing } from './lab-spans.js';
import { TRACING_OFF, startLabTracing, type RunIdentity } from './lab-tracing.js';
import { isTraced } from './sampling.js';
import { startSpanReceiver } from './receiver.js';
import { SpanFile, parseSpanLines } from './span-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-lab-tracing-'));
  dirs.push(d);
  return d;
}

const run = (runDir: string): RunIdentity => ({ runDir, runId: 'r-1', scenario: 'hello-latency', seed: 7, control: false });

function memoryTracer() {
  const spans: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ export: (s, done) => (spans.push(...s), done({ code: ExportResultCode.SUCCESS })), shutdown: async () => {} })],
  });
  return { spans, tracer: provider.getTracer('test'), provider };
}

const latency = { type: 'latency' as const, links: ['frontend_to_backend'], latencyMs: 800, jitterMs: 50, stream: 'downstream' as const, toxicity: 1 };

describe('lab tracing', () => {
  it('traces the run, each variant, each phase and each fault step, with their attributes', async () => {
    const m = memoryTracer();
    const t = labTracing(m.tracer, { sampleRatio: 0.05 }, run(tmp()), { file: undefined, shutdown: async () => {} });
    const v = t.variant('baseline', { expect: 'reproduce', mitigations: [] });
    v.phase('setup');
    v.phase('steady');
    v.faultStart('slow-backend', latency, 'latency 800ms±50ms downstream on frontend_to_backend');
    v.phase('fault');
    v.faultEnd('slow-backend');
    v.faultStart('broken', { type: 'down', links: ['a_to_b', 'a_to_c'] }, 'down');
    v.faultEnd('broken', 'proxy not found');
    v.phase('recovery');
    v.end({ status: 'completed', passed: true });
    const summary = await t.finish({ passed: true, interrupted: false });
    expect(summary).toEqual({ mode: 'otlp', endpoint: undefined, sampleRatio: 0.05 });

    const by = (name: string) => m.spans.find((s) => s.name === name)!;
    const runSpan = by('chaoslab run hello-latency');
    const variant = by('variant baseline');
    expect(runSpan.parentSpanContext).toBeUndefined();
    expect(runSpan.attributes).toMatchObject({ 'chaoslab.scenario': 'hello-latency', 'chaoslab.seed': 7, 'chaoslab.run_id': 'r-1', 'chaoslab.passed': true });
    expect(variant.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
    expect(variant.attributes).toMatchObject({ 'chaoslab.variant': 'baseline', 'chaoslab.variant.expect': 'reproduce', 'chaoslab.variant.passed': true });
    expect(m.spans.filter((s) => s.name.startsWith('phase ')).map((s) => s.name)).toEqual(['phase setup', 'phase steady', 'phase fault', 'phase recovery']);
    for (const s of m.spans.filter((x) => x.name.startsWith('phase ') || x.name.startsWith('fault '))) {
      expect(s.parentSpanContext?.spanId).toBe(variant.spanContext().spanId);
      expect(s.spanContext().traceId).toBe(runSpan.spanContext().traceId);
    }
    expect(by('fault slow-backend').attributes).toMatchObject({
      'chaoslab.scenario': 'hello-latency',
      'chaoslab.seed': 7,
      'chaoslab.variant': 'baseline',
      'chaoslab.link': 'frontend_to_backend',
      'chaoslab.fault.type': 'latency',
      'chaoslab.fault.links': ['frontend_to_backend'],
      'chaoslab.fault.latencyMs': 800,
      'chaoslab.fault.jitterMs': 50,
      'chaoslab.fault.stream': 'downstream',
      'chaoslab.fault.step': 'slow-backend',
    });
    expect(by('fault broken').status).toEqual({ code: 2, message: 'proxy not found' });
    expect(by('fault broken').attributes['chaoslab.link']).toBeUndefined();
  });

  it('ends what a variant left open, and a variant that never ended, at the finish', async () => {
    const m = memoryTracer();
    const t = labTracing(m.tracer, { sampleRatio: 1 }, run(tmp()), { file: undefined, shutdown: async () => {} });
    const v = t.variant('mitigated', {});
    v.phase('fault');
    v.faultStart('kill', { type: 'kill', nodes: ['backend'], signal: 'SIGKILL' }, 'kill backend');
    await t.finish({ passed: false, interrupted: true });
    expect(m.spans.map((s) => s.name).sort()).toEqual(['chaoslab run hello-latency', 'fault kill', 'phase fault', 'variant mitigated']);
    expect(m.spans.find((s) => s.name === 'variant mitigated')!.attributes['chaoslab.variant.status']).toBe('failed');
    expect(m.spans.find((s) => s.name === 'chaoslab run hello-latency')!.status.message).toBe('interrupted');
  });

  it('traces the requests the seed picks, each as its own trace, and sends a traceparent the standard propagator reads', async () => {
    const m = memoryTracer();
    const t = labTracing(m.tracer, { sampleRatio: 0.25 }, run(tmp()), { file: undefined, shutdown: async () => {} });
    const v = t.variant('baseline', {});
    const rt = v.requests(99, { templates: { get: '/item/{key}' }, links: { 'http://127.0.0.1:5000': 'client_to_frontend' } })!;
    const picked = Array.from({ length: 400 }, (_, i) => i + 1).filter((seq) => rt.sampled(seq));
    expect(picked).toEqual(Array.from({ length: 400 }, (_, i) => i + 1).filter((seq) => isTraced(99, seq, 0.25)));
    const req: OutgoingRequest = { op: 'get', method: 'GET', target: 'http://127.0.0.1:5000', path: '/item/42', seq: picked[0]!, key: 42 };
    const traced = rt.start(req, 1.5);
    traced.end('timeout', undefined, 'timeout');
    rt.start({ ...req, seq: picked[1]! }, 0).end('ok', 200);
    v.end({ status: 'completed', passed: true });

    const requests = m.spans.filter((s) => s.name === 'GET /item/{key}');
    expect(requests).toHaveLength(2);
    const [first, second] = requests as [ReadableSpan, ReadableSpan];
    expect(first.kind).toBe(SpanKind.CLIENT);
    expect(first.parentSpanContext).toBeUndefined();
    expect(first.spanContext().traceId).not.toBe(second.spanContext().traceId);
    expect(first.links[0]!.context.spanId).toBe(m.spans.find((s) => s.name === 'variant baseline')!.spanContext().spanId);
    expect(first.attributes).toMatchObject({ 'chaoslab.op': 'get', 'chaoslab.seq': picked[0], 'chaoslab.link': 'client_to_frontend', 'url.full': 'http://127.0.0.1:5000/item/42', 'chaoslab.outcome': 'timeout', 'chaoslab.send_lag_ms': 1.5 });
    expect(first.status).toEqual({ code: 2, message: 'timeout' });
    expect(second.attributes['http.response.status_code']).toBe(200);
    expect(second.status.code).toBe(0);

    const ctx = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, { traceparent: traced.traceparent }, { get: (c, k) => c[k as 'traceparent'], keys: Object.keys });
    expect(trace.getSpanContext(ctx)).toMatchObject({ traceId: first.spanContext().traceId, spanId: first.spanContext().spanId, traceFlags: 1 });
  });

  it('gives nodes the receiver (file mode) or the collector (OTLP mode) and the OTEL_ variables', async () => {
    const dir = tmp();
    const file = new SpanFile(path.join(dir, 'traces.jsonl'));
    const m = memoryTracer();
    const t = labTracing(m.tracer, { sampleRatio: 0.05, otelEnv: { OTEL_EXPORTER_OTLP_HEADERS: 'x=1' } }, run(dir), { file, shutdown: async () => {} });
    expect(t.nodeEnv('baseline', {})).toEqual({}); // nothing to send to before the receiver listens
    await t.listen('127.0.0.1');
    const env = t.nodeEnv('baseline', { '127.0.0.1:4000': 'frontend_to_backend' });
    const config = JSON.parse(env.CHAOSLAB_TRACES!) as { url: string; variant: string; links: Record<string, string> };
    expect(config).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/), variant: 'baseline', links: { '127.0.0.1:4000': 'frontend_to_backend' } });
    expect(env.OTEL_EXPORTER_OTLP_HEADERS).toBe('x=1');
    // A toy's export lands in the run's file, and the finish counts it.
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] };
    expect((await fetch(config.url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect(await t.finish({ passed: true, interrupted: false })).toEqual({ mode: 'file', file: 'traces.jsonl', sampleRatio: 0.05, spans: 1 });
    await expect(fetch(config.url, { method: 'POST', body: '{}' })).rejects.toThrow(); // the receiver stopped

    const otlp = labTracing(memoryTracer().tracer, { sampleRatio: 0.05, otlpEndpoint: 'http://collector:4318/v1/traces' }, run(dir), { file: undefined, shutdown: async () => {} });
    expect(JSON.parse(otlp.nodeEnv('mitigated', {}).CHAOSLAB_TRACES!)).toEqual({ url: 'http://collector:4318/v1/traces', variant: 'mitigated', links: {} });
  });

  it('flattens fault parameters into attributes', () => {
    expect(faultAttributes({ type: 'partition', groups: [['a'], ['b', 'c']], oneWay: false, mode: 'blackhole' })).toEqual({
      'chaoslab.fault.type': 'partition',
      'chaoslab.fault.groups': '[["a"],["b","c"]]',
      'chaoslab.fault.oneWay': false,
      'chaoslab.fault.mode': 'blackhole',
    });
    expect(faultAttributes({ type: 'clock', nodes: ['n-1'], offsetMs: -500 })).toEqual({ 'chaoslab.fault.type': 'clock', 'chaoslab.fault.nodes': ['n-1'], 'chaoslab.fault.offsetMs': -500 });
  });

  it('off at ratio 0; on, the run span lands in traces.jsonl (the SDK tracer provider)', async () => {
    expect(await startLabTracing({ sampleRatio: 0 }, run(tmp()))).toBe(TRACING_OFF);
    const dir = tmp();
    const t = await startLabTracing({ sampleRatio: 0.5 }, run(dir));
    t.variant('baseline', {}).end({ status: 'completed', passed: true });
    expect(await t.finish({ passed: true, interrupted: false })).toMatchObject({ mode: 'file', file: 'traces.jsonl', spans: 2 });
    const lines = parseSpanLines(readFileSync(path.join(dir, 'traces.jsonl'), 'utf8'));
    expect(lines.map((l) => `${l.service} ${l.name}`).sort()).toEqual(['chaoslab chaoslab run hello-latency', 'chaoslab variant baseline']);
  });

  it('exports over OTLP with the Node SDK when a collector is named, twice in one process', async () => {
    // The lab's own receiver stands in for the collector.
    const dir = tmp();
    const collected = new SpanFile(path.join(dir, 'collector.jsonl'));
    const collector = await startSpanReceiver(collected, { host: '127.0.0.1' });
    try {
      for (const scenario of ['first', 'second']) {
        const t = await startLabTracing({ sampleRatio: 0.5, otlpEndpoint: collector.url }, { ...run(dir), scenario });
        expect(t.where).toEqual({ mode: 'otlp', endpoint: collector.url, sampleRatio: 0.5 });
        t.variant('baseline', {}).end({ status: 'completed', passed: true });
        expect(await t.finish({ passed: true, interrupted: false })).toEqual({ mode: 'otlp', endpoint: collector.url, sampleRatio: 0.5 });
      }
      const lines = parseSpanLines(readFileSync(collected.file, 'utf8'));
      expect(lines.map((l) => `${l.service} ${l.name}`).sort()).toEqual(['chaoslab chaoslab run first', 'chaoslab chaoslab run second', 'chaoslab variant baseline', 'chaoslab variant baseline']);
    } finally {
      await collector.stop();
    }
  });
});
