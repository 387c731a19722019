import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { startSpanReceiver, type StartedSpanReceiver } from './receiver.js';
import { FileSpanExporter, SpanFile, parseSpanLines } from './span-file.js';
import type { SpanLine } from './span-line.js';

const dirs: string[] = [];
const receivers: StartedSpanReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function spanFile(): SpanFile {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-traces-'));
  dirs.push(dir);
  return new SpanFile(path.join(dir, 'traces.jsonl'));
}

/** A small trace with everything a line carries: parent, kinds, attribute types, an event, a link, an error. */
async function record(provider: BasicTracerProvider): Promise<void> {
  const tracer = provider.getTracer('test');
  const root = tracer.startSpan('GET /item/{key}', { kind: SpanKind.CLIENT, attributes: { 'chaoslab.seq': 3, 'url.full': 'http://127.0.0.1:1/item/3', ok: true, ratio: 0.5, tags: ['a', 'b'] } });
  const other = tracer.startSpan('variant baseline');
  const child = tracer.startSpan('GET /item/:key', { kind: SpanKind.SERVER, links: [{ context: other.spanContext(), attributes: { why: 'variant' } }] }, trace.setSpan(ROOT_CONTEXT, root));
  child.addEvent('retry', { attempt: 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'backend timed out' });
  await new Promise((r) => setTimeout(r, 5));
  child.end();
  root.end();
  other.end();
  await provider.forceFlush();
}

const provider = (processors: SimpleSpanProcessor[]) => new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'frontend', 'service.instance.id': 'frontend-1' }), spanProcessors: processors });

describe('traces.jsonl', () => {
  it('writes one line per span with ids, parent, service, times, attributes, status, events and links', async () => {
    const out = spanFile();
    const p = provider([new SimpleSpanProcessor(new FileSpanExporter(out))]);
    await record(p);
    const lines = parseSpanLines(readFileSync(out.file, 'utf8'));
    expect(lines).toHaveLength(3);
    expect(out.count).toBe(3);
    const root = lines.find((l) => l.name === 'GET /item/{key}')!;
    const child = lines.find((l) => l.name === 'GET /item/:key')!;
    const other = lines.find((l) => l.name === 'variant baseline')!;
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(root.parentSpanId).toBeUndefined();
    expect(child).toMatchObject({ traceId: root.traceId, parentSpanId: root.spanId, kind: 'server', service: 'frontend', instance: 'frontend-1', status: { code: 'error', message: 'backend timed out' } });
    expect(root).toMatchObject({ kind: 'client', status: { code: 'unset' }, attributes: { 'chaoslab.seq': 3, ok: true, ratio: 0.5, tags: ['a', 'b'] } });
    expect(child.events).toEqual([{ name: 'retry', time: expect.any(Number), attributes: { attempt: 2 } }]);
    expect(child.links).toEqual([{ traceId: other.traceId, spanId: other.spanId, attributes: { why: 'variant' } }]);
    expect(child.durationMs).toBeGreaterThanOrEqual(4);
    expect(child.end - child.start).toBeCloseTo(child.durationMs, 2);
    expect(Math.abs(child.start - Date.now())).toBeLessThan(60_000);
    await p.shutdown();
  });

  it('the receiver turns what the standard OTLP exporter sends into the same lines', async () => {
    const out = spanFile();
    const receiver = await startSpanReceiver(out, { host: '127.0.0.1' });
    receivers.push(receiver);
    const direct = spanFile();
    const p = provider([new SimpleSpanProcessor(new FileSpanExporter(direct)), new SimpleSpanProcessor(new OTLPTraceExporter({ url: receiver.url }))]);
    await record(p);
    await p.shutdown();
    const key = (l: SpanLine) => l.spanId;
    const viaOtlp = parseSpanLines(readFileSync(out.file, 'utf8')).sort((a, b) => key(a).localeCompare(key(b)));
    const viaSdk = parseSpanLines(readFileSync(direct.file, 'utf8')).sort((a, b) => key(a).localeCompare(key(b)));
    expect(viaOtlp).toHaveLength(3);
    expect(viaOtlp).toEqual(viaSdk);
    expect(receiver.rejected).toBe(0);
  });

  it('the receiver takes gzip, refuses protobuf and broken JSON, and counts the refusals', async () => {
    const out = spanFile();
    const receiver = await startSpanReceiver(out, { host: '127.0.0.1' });
    receivers.push(receiver);
    const span = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001500000' };
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cache' } }] }, scopeSpans: [{ spans: [span] }] }] });
    const post = (data: Buffer | string, headers: Record<string, string>) => fetch(receiver.url, { method: 'POST', body: data, headers }).then((r) => r.status);
    expect(await post(gzipSync(body), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toBe(200);
    expect(await post(body, { 'content-type': 'application/x-protobuf' })).toBe(415);
    expect(await post('{nope', { 'content-type': 'application/json' })).toBe(400);
    expect(await fetch(receiver.url.replace('/v1/traces', '/v1/metrics'), { method: 'POST' }).then((r) => r.status)).toBe(404);
    expect(receiver.rejected).toBe(2);
    expect(parseSpanLines(readFileSync(out.file, 'utf8'))).toEqual([
      { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', kind: 'server', service: 'cache', start: 1700000000000, end: 1700000000001.5, durationMs: 1.5, attributes: {}, status: { code: 'unset' } },
    ]);
  });
});
