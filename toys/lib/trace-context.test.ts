import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, isSampled, parseTraceparent } from './trace-context.js';

// The W3C specification's own example.
const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  it('reads the specification example and writes it back byte for byte', () => {
    const p = parseTraceparent(EXAMPLE)!;
    expect(p).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
    expect(isSampled(p)).toBe(true);
    expect(formatTraceparent(p)).toBe(EXAMPLE);
    expect(isSampled(parseTraceparent(EXAMPLE.replace(/01$/, '00'))!)).toBe(false);
    expect(formatTraceparent({ ...p, flags: 0 })).toBe(EXAMPLE.replace(/01$/, '00'));
  });

  it('refuses what the specification says to ignore', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      EXAMPLE.toUpperCase(), // hex must be lowercase
      EXAMPLE.replace('4bf92f3577b34da6a3ce929d0e0e4736', '0'.repeat(32)), // all-zero trace id
      EXAMPLE.replace('00f067aa0ba902b7', '0'.repeat(16)), // all-zero span id
      `ff${EXAMPLE.slice(2)}`, // version ff
      `${EXAMPLE}-extra`, // version 00 has exactly four fields
      EXAMPLE.slice(0, -1), // short flags
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it('accepts a later version with more fields (forward compatibility), and surrounding blanks', () => {
    expect(parseTraceparent(`01${EXAMPLE.slice(2)}-what-comes-next`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parseTraceparent(` ${EXAMPLE} `)?.spanId).toBe('00f067aa0ba902b7');
  });

  it('agrees with the OpenTelemetry W3C propagator both ways', () => {
    const propagator = new W3CTraceContextPropagator();
    const ctx = propagator.extract(ROOT_CONTEXT, { traceparent: EXAMPLE }, { get: (c, k) => c[k as 'traceparent'], keys: (c) => Object.keys(c) });
    const sc = trace.getSpanContext(ctx)!;
    const mine = parseTraceparent(EXAMPLE)!;
    expect({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }).toEqual(mine);
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: mine.traceId, spanId: mine.spanId, traceFlags: mine.flags }), carrier, { set: (c, k, v) => void (c[k] = v) });
    expect(carrier.traceparent).toBe(formatTraceparent(mine));
  });
});
