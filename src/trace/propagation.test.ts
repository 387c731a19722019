import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { formatTraceparent } from './propagation.js';

const read = (traceparent: string) =>
  trace.getSpanContext(new W3CTraceContextPropagator().extract(ROOT_CONTEXT, { traceparent }, { get: (c, k) => c[k as 'traceparent'], keys: Object.keys }));

describe('formatTraceparent', () => {
  it('writes version 00 that the standard W3C propagator reads back, sampled or not', () => {
    const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    expect(formatTraceparent({ ...ids, sampled: true })).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(read(formatTraceparent({ ...ids, sampled: true }))).toMatchObject({ ...ids, traceFlags: 1, isRemote: true });
    expect(read(formatTraceparent({ ...ids, sampled: false }))).toMatchObject({ ...ids, traceFlags: 0 });
  });
});
