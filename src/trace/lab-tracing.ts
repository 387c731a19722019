/**
 * The lab traces itself: a span for the run, one per variant, per phase and per fault step, and a client span for
 * each load request the seed picks (`sampling.ts`), whose `traceparent` the toys continue. By default spans go
 * to `traces.jsonl` in the run folder, where the toys' spans arrive too (through `receiver.ts`); when the
 * standard OTLP variables name a collector, the lab uses the OpenTelemetry Node SDK to export there, and the
 * toys export there directly.
 *
 * The lab never makes a span implicitly current (no `context.with`): parents are passed explicitly, so the load
 * generator's promises never run under async hooks. Nothing of OpenTelemetry is loaded unless tracing is on
 * (this module is the runner's only link to it; the spans themselves are in lab-spans.ts).
 */
import path from 'node:path';
import type { AttributeValue } from '@opentelemetry/api';
import type { FaultSpec } from '../scenario/plan.js';
import type { RequestTracing } from '../workload/load-generator.js';

/** What the CLI decided from its options and the OTEL_* variables (config.ts). */
export interface TraceOptions {
  /** Fraction of load requests traced; 0 turns tracing off (nothing loaded, the toys untouched). */
  sampleRatio: number;
  /** OTLP/HTTP traces endpoint (…/v1/traces); undefined: `traces.jsonl` in the run folder. */
  otlpEndpoint?: string;
  /** OTEL_* variables handed to the toys (headers, compression, …): a container inherits nothing. */
  otelEnv?: Record<string, string>;
}

/** Where the run's traces went: in the journal, result.json and the report. */
export type TraceSummary =
  | { mode: 'off' }
  | { mode: 'file'; file: string; sampleRatio: number; spans?: number; rejected?: number; error?: string }
  | { mode: 'otlp'; endpoint: string; sampleRatio: number };

export interface RunIdentity {
  runDir: string;
  runId: string;
  scenario: string;
  seed: number;
  control: boolean;
}

export interface VariantTrace {
  phase(name: string): void;
  faultStart(step: string, fault: FaultSpec, description: string): void;
  faultEnd(step: string, error?: string): void;
  /** Request tracing for this variant's load; undefined when tracing is off. */
  requests(seed: number, opts: { templates: Record<string, string>; links: Record<string, string> }): RequestTracing | undefined;
  end(outcome: { status: string; passed: boolean }): void;
}

export interface LabTracing {
  /** What to journal now: where traces will go. */
  readonly where: TraceSummary;
  /**
   * In file mode, starts the receiver the toys export to, on the interface Prometheus reaches the lab on;
   * `allowPeer` says which clients are the run's (others get 403).
   */
  listen(host: string, allowPeer?: (address: string) => boolean): Promise<void>;
  /** The environment a node needs to trace (empty when tracing is off). */
  nodeEnv(variant: string, links: Record<string, string>): Record<string, string>;
  variant(name: string, attributes: Record<string, AttributeValue>): VariantTrace;
  /** Ends the run span and flushes everything; call after the nodes stopped (their last spans arrive first). */
  finish(outcome: { passed: boolean; interrupted: boolean }): Promise<TraceSummary>;
}

const NOOP_VARIANT: VariantTrace = { phase() {}, faultStart() {}, faultEnd() {}, requests: () => undefined, end() {} };

export const TRACING_OFF: LabTracing = {
  where: { mode: 'off' },
  listen: async () => {},
  nodeEnv: () => ({}),
  variant: () => NOOP_VARIANT,
  finish: async () => ({ mode: 'off' }),
};

export const TRACES_ENV = 'CHAOSLAB_TRACES';
export const TRACES_FILE = 'traces.jsonl';

export async function startLabTracing(opts: TraceOptions, run: RunIdentity): Promise<LabTracing> {
  if (!(opts.sampleRatio > 0)) return TRACING_OFF;
  const attributes = { 'service.name': 'chaoslab', 'chaoslab.run_id': run.runId, 'chaoslab.scenario': run.scenario };
  if (opts.otlpEndpoint === undefined) {
    // traces.jsonl: the SDK's tracer provider alone. The Node SDK takes about 2 s to load (its OTLP, gRPC,
    // Prometheus, metrics and logs modules), which every run would pay at its start for nothing it uses here.
    const [{ AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor }, { resourceFromAttributes }, { FileSpanExporter, SpanFile }, { labTracing }] = await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('./span-file.js'),
      import('./lab-spans.js'),
    ]);
    const file = new SpanFile(path.join(run.runDir, TRACES_FILE));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(attributes),
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor(new FileSpanExporter(file), BATCH)],
    });
    return labTracing(provider.getTracer('chaoslab'), opts, run, { file, shutdown: () => provider.shutdown() });
  }
  // A collector: the Node SDK, so the standard variables apply as users of OpenTelemetry expect
  // (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, OTEL_LOG_LEVEL to see export errors).
  const [{ NodeSDK }, { AlwaysOnSampler }, { envDetector, resourceFromAttributes }, { OTLPTraceExporter }, { context, propagation, trace }, { labTracing }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/api'),
    import('./lab-spans.js'),
  ]);
  const disableGlobals = (): void => {
    trace.disable();
    context.disable();
    propagation.disable();
  };
  // A run in the same process before this one (tests) left its registrations; the SDK would not replace them.
  disableGlobals();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes(attributes),
    resourceDetectors: [envDetector],
    sampler: new AlwaysOnSampler(),
    traceExporter: new OTLPTraceExporter({ url: opts.otlpEndpoint }),
    // Traces only: no metric reader or log exporter of the SDK's env defaults (they would push OTLP on their own).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: null,
  });
  sdk.start();
  return labTracing(trace.getTracer('chaoslab'), opts, run, {
    file: undefined,
    shutdown: async () => {
      await sdk.shutdown();
      disableGlobals();
    },
  });
}

/** Spans go out every second; a long run's spans never pile up in memory. */
const BATCH = { scheduledDelayMillis: 1000, maxQueueSize: 8192, maxExportBatchSize: 512 };
