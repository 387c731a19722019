/**
 * One span as one line of `traces.jsonl`: flat, readable with `jq`, the same shape whether the span came from
 * the lab itself (an SDK `ReadableSpan`) or from a toy (OTLP/HTTP JSON, as the toys' exporter sends it).
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type AttributeValue = string | number | boolean | (string | number | boolean | null)[];

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface SpanLine {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  /** `service.name` of the process that recorded it: `chaoslab` for the lab, the node's group for a toy. */
  service: string;
  /** `service.instance.id`: the node's name (`storage-3`), when set. */
  instance?: string;
  /** Unix time in milliseconds, with microseconds as the fraction. */
  start: number;
  end: number;
  durationMs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  events?: { name: string; time: number; attributes?: Record<string, AttributeValue> }[];
  links?: { traceId: string; spanId: string; attributes?: Record<string, AttributeValue> }[];
}

/** OpenTelemetry's SpanKind order (INTERNAL = 0 … CONSUMER = 4); OTLP numbers them from 1. */
const KINDS: readonly SpanKindName[] = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'] as const;

/** Nanoseconds since the epoch → milliseconds, keeping microseconds (a double holds them exactly enough). */
export function nanosToMs(nanos: bigint): number {
  return Number(nanos / 1000n) / 1000;
}

function hrTimeToMs([sec, nanos]: [number, number]): number {
  return nanosToMs(BigInt(sec) * 1_000_000_000n + BigInt(nanos));
}

function durationMs(start: number, end: number): number {
  return Math.round((end - start) * 1000) / 1000;
}

function plainAttributes(attrs: Record<string, unknown> | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map((x: unknown) => (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : null));
  }
  return out;
}

function nonEmpty(attributes: Record<string, AttributeValue>): { attributes?: Record<string, AttributeValue> } {
  return Object.keys(attributes).length ? { attributes } : {};
}

function withOptional(line: SpanLine, events: SpanLine['events'], links: SpanLine['links']): SpanLine {
  if (events && events.length) line.events = events;
  if (links && links.length) line.links = links;
  return line;
}

/** A span the lab recorded itself. */
export function fromReadableSpan(span: ReadableSpan): SpanLine {
  const ctx = span.spanContext();
  const resource = span.resource.attributes;
  const start = hrTimeToMs(span.startTime);
  const end = hrTimeToMs(span.endTime);
  const line: SpanLine = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    ...(span.parentSpanContext?.spanId ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    service: String(resource['service.name'] ?? 'unknown'),
    ...(resource['service.instance.id'] !== undefined ? { instance: String(resource['service.instance.id']) } : {}),
    start,
    end,
    durationMs: durationMs(start, end),
    attributes: plainAttributes(span.attributes),
    status: { code: STATUS[span.status.code] ?? 'unset', ...(span.status.message ? { message: span.status.message } : {}) },
  };
  return withOptional(
    line,
    span.events.map((e) => ({ name: e.name, time: hrTimeToMs(e.time), ...nonEmpty(plainAttributes(e.attributes)) })),
    span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, ...nonEmpty(plainAttributes(l.attributes)) })),
  );
}

// --- OTLP/HTTP JSON (opentelemetry-proto's JSON mapping: hex ids, nanosecond times as strings)

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  events?: { name?: string; timeUnixNano?: string | number; attributes?: OtlpKeyValue[] }[];
  links?: { traceId?: string; spanId?: string; attributes?: OtlpKeyValue[] }[];
}
export interface OtlpTraceRequest {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function anyValue(v: OtlpAnyValue | undefined): AttributeValue | undefined {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) {
    return (v.arrayValue.values ?? []).map((x) => {
      const y = anyValue(x);
      return y === undefined || Array.isArray(y) ? null : y;
    });
  }
  return undefined;
}

function otlpAttributes(kvs: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) {
    const v = anyValue(kv.value);
    if (v !== undefined) out[kv.key] = v;
  }
  return out;
}

const HEX = /^[0-9a-f]+$/;

/** Hex as the JSON mapping says; base64 as some senders still write it. */
function otlpId(id: string | undefined, bytes: number): string | undefined {
  if (!id) return undefined;
  if (id.length === bytes * 2 && HEX.test(id)) return id;
  const decoded = Buffer.from(id, 'base64');
  return decoded.length === bytes ? decoded.toString('hex') : undefined;
}

function otlpTime(t: string | number | undefined): number {
  if (t === undefined) return 0;
  try {
    return nanosToMs(BigInt(t));
  } catch {
    return 0;
  }
}

/** Every well-formed span of an OTLP/HTTP JSON export request; spans without ids are skipped. */
export function fromOtlpJson(body: OtlpTraceRequest): SpanLine[] {
  const out: SpanLine[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = otlpAttributes(rs.resource?.attributes);
    const service = String(resource['service.name'] ?? 'unknown');
    const instance = resource['service.instance.id'];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const traceId = otlpId(s.traceId, 16);
        const spanId = otlpId(s.spanId, 8);
        if (!traceId || !spanId) continue;
        const parentSpanId = otlpId(s.parentSpanId, 8);
        const start = otlpTime(s.startTimeUnixNano);
        const end = otlpTime(s.endTimeUnixNano);
        const line: SpanLine = {
          traceId,
          spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name: s.name ?? '',
          kind: KINDS[(s.kind ?? 1) - 1] ?? 'internal',
          service,
          ...(instance !== undefined ? { instance: String(instance) } : {}),
          start,
          end,
          durationMs: durationMs(start, end),
          attributes: otlpAttributes(s.attributes),
          status: { code: STATUS[s.status?.code ?? 0] ?? 'unset', ...(s.status?.message ? { message: s.status.message } : {}) },
        };
        out.push(
          withOptional(
            line,
            (s.events ?? []).map((e) => ({ name: e.name ?? '', time: otlpTime(e.timeUnixNano), ...nonEmpty(otlpAttributes(e.attributes)) })),
            (s.links ?? []).flatMap((l) => {
              const t = otlpId(l.traceId, 16);
              const sp = otlpId(l.spanId, 8);
              return t && sp ? [{ traceId: t, spanId: sp, ...nonEmpty(otlpAttributes(l.attributes)) }] : [];
            }),
          ),
        );
      }
    }
  }
  return out;
}
