/**
 * Traces end to end, with the real Toxiproxy and real toys: a tweet's trace starts at the lab's load generator,
 * crosses api → queue (through api_to_queue) and, carried in the queued job, worker → cache (through
 * worker-N_to_cache-M), and the latency a fault adds on the worker-to-cache links is inside the worker's client
 * spans. Every span comes from traces.jsonl in the run folder; the fault's window from the lab's own fault span.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpanLines } from '../../src/trace/span-file.js';
import type { SpanLine } from '../../src/trace/span-line.js';
import { runCli } from '../utils/cli.js';

const fixture = 'test/fixtures/traces-twitter.yaml';
const FAULT_MS = 300;
const WORKER_TO_CACHE = /^worker-\d+_to_cache-\d+$/;

describe('traces', () => {
  it('one trace crosses five services through Toxiproxy links, and a fault’s latency shows inside its spans', async () => {
    const run = await runCli(['run', fixture, '--variant', 'baseline', '--seed', '11', '--trace-sample', '1', '--json', '--out', 'runs/e2e']);
    const r = run.json;
    // The verdict is not this test's business; a part that failed (3) or bad input (2) is.
    expect([0, 1], run.stderr).toContain(run.code);

    // Where the traces went: the result and the journal say so.
    expect(r.traces).toMatchObject({ mode: 'file', file: 'traces.jsonl', sampleRatio: 1 });
    const file = path.join(r.runDir, 'traces.jsonl');
    expect(existsSync(file)).toBe(true);
    const spans = parseSpanLines(readFileSync(file, 'utf8'));
    expect(r.traces?.mode === 'file' ? r.traces.spans : undefined).toBe(spans.length);
    const journal = readFileSync(path.join(r.runDir, 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"kind":"traces","t":\d+,"at":"[^"]+","mode":"file","file":"traces.jsonl"/);
    expect(journal).toMatch(/"kind":"traces-written".*"spans":\d+/);

    const traces = new Map<string, SpanLine[]>();
    for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
    const toyServices = (t: SpanLine[]) => new Set(t.filter((s) => s.service !== 'chaoslab').map((s) => s.service));

    // The lab's own trace: run → variant → phases and the fault step, with its parameters.
    const fault = spans.find((s) => s.name === 'fault slow-cache-links')!;
    expect(fault, 'the lab traced the fault step').toBeDefined();
    expect(fault.attributes).toMatchObject({ 'chaoslab.scenario': 'traces-twitter', 'chaoslab.seed': 11, 'chaoslab.variant': 'baseline', 'chaoslab.fault.type': 'latency', 'chaoslab.fault.latencyMs': FAULT_MS });
    const variantSpan = spans.find((s) => s.spanId === fault.parentSpanId)!;
    expect(variantSpan.name).toBe('variant baseline');
    expect(spans.find((s) => s.spanId === variantSpan.parentSpanId)?.name).toBe('chaoslab run traces-twitter');

    // One tweet, one trace: rooted at the lab's request span, connected, through api, the tweet store, queue, worker and cache.
    const full = [...traces.values()].filter((t) => toyServices(t).size >= 4);
    expect(full.length, `services per trace: ${[...traces.values()].map((t) => [...toyServices(t)].join('+')).slice(0, 20).join(', ')}`).toBeGreaterThan(0);
    const trace = full[0]!;
    expect([...toyServices(trace)].sort()).toEqual(['api', 'cache', 'queue', 'store', 'worker']);
    const ids = new Set(trace.map((s) => s.spanId));
    const roots = trace.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId));
    expect(roots.map((s) => `${s.service} ${s.kind} ${s.name}`)).toEqual(['chaoslab client POST /tweet/{key}']);
    // Through the proxies: each client span names its link, and the server on the far side is its child, so
    // the traceparent went through Toxiproxy.
    const crossed = trace.filter((s) => s.kind === 'client' && typeof s.attributes['chaoslab.link'] === 'string');
    const links = crossed.map((s) => String(s.attributes['chaoslab.link']));
    expect(links).toContain('api_to_queue');
    expect(links).toContain('api_to_store');
    expect(links.some((l) => WORKER_TO_CACHE.test(l))).toBe(true);
    for (const c of crossed) expect(trace.some((s) => s.kind === 'server' && s.parentSpanId === c.spanId), `a server span under ${c.name} over ${String(c.attributes['chaoslab.link'])}`).toBe(true);
    // The worker's part continues the queue's span (the job carried it), in a consumer span.
    const consumer = trace.find((s) => s.service === 'worker' && s.kind === 'consumer')!;
    expect(trace.find((s) => s.spanId === consumer.parentSpanId)?.service).toBe('queue');

    // The fault's latency inside the spans: every write over a worker-to-cache link that began while the
    // fault was on (and could end before its heal) took at least the toxic's 300 ms; the others did not.
    const writes = spans.filter((s) => s.service === 'worker' && s.kind === 'client' && WORKER_TO_CACHE.test(String(s.attributes['chaoslab.link'])));
    const during = writes.filter((s) => s.start >= fault.start + 50 && s.start <= fault.end - FAULT_MS - 50);
    const outside = writes.filter((s) => s.end < fault.start || s.start > fault.end + 50);
    expect(during.length, 'writes during the fault').toBeGreaterThan(3);
    expect(outside.length, 'writes outside the fault').toBeGreaterThan(3);
    for (const s of during) expect(s.durationMs, `${s.name} over ${String(s.attributes['chaoslab.link'])} at +${Math.round(s.start - fault.start)} ms`).toBeGreaterThanOrEqual(FAULT_MS);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(median(outside.map((s) => s.durationMs))).toBeLessThan(FAULT_MS / 2);
    // And the slow write sits in a trace the lab's request started.
    const slow = during[0]!;
    const slowTrace = traces.get(slow.traceId)!;
    expect(slowTrace.some((s) => s.service === 'chaoslab' && s.kind === 'client' && s.parentSpanId === undefined)).toBe(true);
  });
});
