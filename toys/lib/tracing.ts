/**
 * Request tracing for toys, behind a small interface so the OpenTelemetry SDK is loaded only when the lab asks
 * for traces (`CHAOSLAB_TRACES`), and a toy without them pays nothing. The lab's load generator decides which
 * requests are traced and sends `traceparent` (sampled) with those alone; a toy records spans only under a
 * sampled parent (ParentBased, root: off), so an untraced request costs one header lookup.
 */
import { ToyConfigError } from './config.js';

export type SpanAttributes = Record<string, string | number | boolean>;

/** How a traced call or request ended: an HTTP status, or the error that stopped it. */
export interface SpanOutcome {
  status?: number;
  error?: string;
}

/** A server or consumer span: the calls made inside `run` are its children. */
export interface ActiveSpan {
  run<T>(fn: () => T): T;
  end(outcome?: SpanOutcome): void;
}

/** A client span; `traceparent` goes out with the call. */
export interface ClientSpan {
  readonly traceparent: string;
  end(outcome: SpanOutcome): void;
}

export interface ToyTracer {
  readonly enabled: boolean;
  /** A server span for a request whose `traceparent` is sampled; undefined otherwise (no span, no cost). */
  server(traceparent: string, method: string, route: string, path: string): ActiveSpan | undefined;
  /** A span continuing a trace carried in a message (a queued job); undefined when there is none or it is unsampled. */
  consumer(traceparent: string | undefined, name: string, attributes?: SpanAttributes): ActiveSpan | undefined;
  /** A client span for a call made while a traced request is being served; undefined otherwise. */
  client(method: string, address: string, path: string): ClientSpan | undefined;
  /** The `traceparent` of the span being served now, if traced: to carry in work handed to another node. */
  current(): string | undefined;
  /** Sends what is buffered; bounded in time (a stopping toy must not hang on a missing collector). */
  shutdown(): Promise<void>;
}

export const NOOP_TRACER: ToyTracer = {
  enabled: false,
  server: () => undefined,
  consumer: () => undefined,
  client: () => undefined,
  current: () => undefined,
  shutdown: async () => {},
};

export const TRACES_ENV = 'CHAOSLAB_TRACES';

/** What the lab puts in `CHAOSLAB_TRACES` (JSON). */
export interface TraceConfig {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`: the lab's own receiver or the user's collector. */
  url: string;
  variant?: string;
  /** Peer address → Toxiproxy link name, so a client span says which link it crossed (`chaoslab.link`). */
  links?: Record<string, string>;
}

/** Undefined when the variable is unset or empty (tracing off); a malformed value is the lab's bug: exit 2. */
export function parseTraceConfig(text: string | undefined): TraceConfig | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ToyConfigError(`${TRACES_ENV} is not valid JSON: ${(e as Error).message}`);
  }
  const o = raw as Partial<Record<keyof TraceConfig, unknown>> | null;
  if (typeof o !== 'object' || o === null || typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) {
    throw new ToyConfigError(`${TRACES_ENV} must be {"url": "http://…/v1/traces", …}, got ${text}`);
  }
  const links: Record<string, string> = {};
  if (o.links !== undefined) {
    if (typeof o.links !== 'object' || o.links === null) throw new ToyConfigError(`${TRACES_ENV}.links must be an object of address → link name`);
    for (const [address, name] of Object.entries(o.links)) if (typeof name === 'string') links[address] = name;
  }
  return { url: o.url, ...(typeof o.variant === 'string' ? { variant: o.variant } : {}), links };
}

export interface ToyIdentity {
  /** `service.name`: the node's group (frontend, storage, ...). */
  service: string;
  /** `service.instance.id`: the node's name (storage-3). */
  instance: string;
  runId: string;
}

/** The tracer for this process: the no-op one unless `CHAOSLAB_TRACES` is set. */
export async function loadToyTracer(env: NodeJS.ProcessEnv, who: ToyIdentity): Promise<ToyTracer> {
  const config = parseTraceConfig(env[TRACES_ENV]);
  if (!config) return NOOP_TRACER;
  const { createOtlpToyTracer } = await import('./otel.js');
  return createOtlpToyTracer(config, who);
}

/**
 * A tracer that is off until `loading` resolves, then delegates. Loading the OpenTelemetry SDK costs a toy about
 * 300 ms of CPU; a toy starts serving (and answers its health check) without waiting for it, so a ten-node cluster
 * on two cores does not start a second or more later. Requests before the SDK is in are simply untraced; a
 * failed load leaves tracing off rather than the toy down.
 */
export function deferredToyTracer(loading: Promise<ToyTracer>, onError: (e: unknown) => void = () => {}): ToyTracer {
  let inner: ToyTracer = NOOP_TRACER;
  const ready = loading.then(
    (t) => {
      inner = t;
    },
    onError,
  );
  return {
    get enabled() {
      return inner.enabled;
    },
    server: (traceparent, method, route, path) => inner.server(traceparent, method, route, path),
    consumer: (traceparent, name, attributes) => inner.consumer(traceparent, name, attributes),
    client: (method, address, path) => inner.client(method, address, path),
    current: () => inner.current(),
    async shutdown() {
      await ready;
      await inner.shutdown();
    },
  };
}
