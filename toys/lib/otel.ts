/**
 * The OpenTelemetry side of toy tracing (loaded only when the lab asks for traces; see tracing.ts).
 *
 * The active span lives in this module's own AsyncLocalStorage instead of a global context manager: nothing is
 * registered globally, tests can run several toys in one process, and async hooks switch on only with the first
 * traced request. A client span is made only while its parent is still recording, so work a request left behind
 * (a timer, a background loop it woke) is not attributed to it forever.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { formatTraceparent, parseTraceparent } from './trace-context.js';
import type { ActiveSpan, ClientSpan, SpanAttributes, SpanOutcome, ToyIdentity, ToyTracer, TraceConfig } from './tracing.js';

export interface OtelToyTracerOptions {
  exporter: SpanExporter;
  variant?: string;
  links?: Record<string, string>;
  /** How often buffered spans go out (default 1 s: a killed toy loses at most that much). */
  exportDelayMs?: number;
  /** Bound on `shutdown()` (default 500 ms: the lab sends SIGKILL 2 s after SIGTERM, and closing takes up to 1 s). */
  shutdownTimeoutMs?: number;
}

/** `/item/42?x=1` → `/item/{id}`: span names stay few (one per call kind), the full URL is in `url.full`. */
export function pathTemplate(path: string): string {
  return (path.split('?')[0] ?? '').replace(/\/\d+(?=\/|$)/g, '/{id}');
}

export function createOtlpToyTracer(config: TraceConfig, who: ToyIdentity): ToyTracer {
  return createOtelToyTracer(who, {
    exporter: new OTLPTraceExporter({ url: config.url, timeoutMillis: 1000 }),
    ...(config.variant ? { variant: config.variant } : {}),
    ...(config.links ? { links: config.links } : {}),
  });
}

export function createOtelToyTracer(who: ToyIdentity, opts: OtelToyTracerOptions): ToyTracer {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: who.service,
      'service.instance.id': who.instance,
      'chaoslab.run_id': who.runId,
      ...(opts.variant ? { 'chaoslab.variant': opts.variant } : {}),
    }),
    // The lab decides what is traced; a toy follows its caller and never starts a trace of its own.
    sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    spanProcessors: [new BatchSpanProcessor(opts.exporter, { scheduledDelayMillis: opts.exportDelayMs ?? 1000, maxQueueSize: 4096, maxExportBatchSize: 512 })],
  });
  const tracer: Tracer = provider.getTracer('chaoslab-toy');
  const active = new AsyncLocalStorage<Span>();
  // While an AsyncLocalStorage is enabled, Node 20 runs a hook on every promise the process makes (about 5-10%
  // more CPU per request in a toy). It is on only while a traced request is being served: `run` switches it on,
  // the last span to end switches it off again (a later read of it gives undefined: untraced, as it should).
  let live = 0;
  const links = opts.links ?? {};

  const remoteParent = (traceparent: string | undefined) => {
    const p = parseTraceparent(traceparent);
    if (!p) return undefined;
    return trace.setSpanContext(ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.flags & TraceFlags.SAMPLED, isRemote: true });
  };

  const finish = (span: Span, outcome: SpanOutcome, serverSide: boolean): void => {
    if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
    if (outcome.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
    // A server's 4xx is the caller's mistake, not this span's failure (OpenTelemetry's HTTP conventions).
    else if (outcome.status !== undefined && outcome.status >= (serverSide ? 500 : 400)) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };

  const activeSpan = (span: Span, serverSide: boolean): ActiveSpan => {
    live++;
    let ended = false;
    return {
      run: (fn) => active.run(span, fn),
      end(outcome = {}) {
        if (ended) return;
        ended = true;
        finish(span, outcome, serverSide);
        if (--live === 0) active.disable();
      },
    };
  };

  /** Starts a span under a remote parent; undefined when the sampler records nothing (an unsampled parent). */
  const continueTrace = (traceparent: string | undefined, name: string, kind: SpanKind, attributes: Attributes): Span | undefined => {
    const parent = remoteParent(traceparent);
    if (!parent) return undefined;
    const span = tracer.startSpan(name, { kind, attributes }, parent);
    return span.isRecording() ? span : undefined;
  };

  return {
    enabled: true,
    server(traceparent, method, route, path) {
      const span = continueTrace(traceparent, `${method} ${route}`, SpanKind.SERVER, { 'http.request.method': method, 'http.route': route, 'url.path': path });
      return span && activeSpan(span, true);
    },
    consumer(traceparent, name, attributes: SpanAttributes = {}) {
      const span = continueTrace(traceparent, name, SpanKind.CONSUMER, attributes);
      return span && activeSpan(span, false);
    },
    client(method, address, path): ClientSpan | undefined {
      const parent = active.getStore();
      if (!parent?.isRecording()) return undefined;
      const colon = address.lastIndexOf(':');
      const attributes: Attributes = {
        'http.request.method': method,
        'url.full': `http://${address}${path}`,
        'server.address': address.slice(0, colon),
        'server.port': Number(address.slice(colon + 1)),
      };
      const link = links[address];
      if (link !== undefined) attributes['chaoslab.link'] = link;
      const span = tracer.startSpan(`${method} ${pathTemplate(path)}`, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
      const ctx = span.spanContext();
      return { traceparent: formatTraceparent({ traceId: ctx.traceId, spanId: ctx.spanId, flags: ctx.traceFlags }), end: (o: SpanOutcome) => finish(span, o, false) };
    },
    current() {
      const span = active.getStore();
      if (!span?.isRecording()) return undefined;
      const ctx = span.spanContext();
      return formatTraceparent({ traceId: ctx.traceId, spanId: ctx.spanId, flags: ctx.traceFlags });
    },
    async shutdown() {
      const limit = opts.shutdownTimeoutMs ?? 500;
      await Promise.race([provider.shutdown().catch(() => undefined), new Promise<void>((r) => setTimeout(r, limit).unref())]);
    },
  };
}
