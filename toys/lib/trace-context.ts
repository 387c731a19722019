/**
 * W3C Trace Context (`traceparent`), read and written by hand: a toy checks every request for the header, and
 * the common case (no header, or not sampled) must cost a string test, not a trip through the OpenTelemetry SDK.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */

export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  spanId: string;
  /** The trace-flags byte; bit 0 is `sampled`. */
  flags: number;
}

export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The header's value, or undefined when it is malformed (the spec says: then start as if there were none). */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is invalid; version 00 has exactly four fields; later versions may append fields after a dash.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: parseInt(flags!, 16) };
}

export function isSampled(p: TraceParent): boolean {
  return (p.flags & 1) === 1;
}

/** Version 00, as every current implementation writes it. */
export function formatTraceparent(p: TraceParent): string {
  return `00-${p.traceId}-${p.spanId}-${(p.flags & 0xff).toString(16).padStart(2, '0')}`;
}
