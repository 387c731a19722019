/**
 * The lab's spans (see lab-tracing.ts): loaded only when tracing is on, with the SDK that records them.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue, type Span, type Tracer } from '@opentelemetry/api';
import type { FaultSpec } from '../scenario/plan.js';
import type { OutgoingRequest } from '../workload/http-sender.js';
import type { Outcome, RequestTracing, TracedRequest } from '../workload/load-generator.js';
import { TRACES_ENV, TRACES_FILE, type LabTracing, type RunIdentity, type TraceOptions, type TraceSummary, type VariantTrace } from './lab-tracing.js';
import { formatTraceparent } from './propagation.js';
import type { StartedSpanReceiver } from './receiver.js';
import { isTraced } from './sampling.js';
import type { SpanFile } from './span-file.js';

/** The tracing itself, on any tracer (tests pass one over an in-memory exporter). */
export function labTracing(tracer: Tracer, opts: TraceOptions, run: RunIdentity, io: { file: SpanFile | undefined; shutdown(): Promise<void> }): LabTracing {
  const base: Attributes = { 'chaoslab.scenario': run.scenario, 'chaoslab.seed': run.seed, 'chaoslab.control': run.control };
  const runSpan = tracer.startSpan(`chaoslab run ${run.scenario}`, { attributes: { ...base, 'chaoslab.run_id': run.runId } });
  const where: TraceSummary = io.file ? { mode: 'file', file: TRACES_FILE, sampleRatio: opts.sampleRatio } : { mode: 'otlp', endpoint: opts.otlpEndpoint!, sampleRatio: opts.sampleRatio };
  let receiver: StartedSpanReceiver | undefined;
  const open = new Set<VariantTrace>();
  const exportUrl = (): string | undefined => (io.file ? receiver?.url : opts.otlpEndpoint);

  return {
    where,
    async listen(host, allowPeer) {
      if (!io.file || receiver) return;
      const { startSpanReceiver } = await import('./receiver.js');
      receiver = await startSpanReceiver(io.file, { host, ...(allowPeer ? { allowPeer } : {}) });
    },
    nodeEnv(variant, links) {
      const url = exportUrl();
      if (url === undefined) return {};
      return { ...opts.otelEnv, [TRACES_ENV]: JSON.stringify({ url, variant, links }) };
    },
    variant(name, attributes) {
      const v = variantTrace(tracer, trace.setSpan(ROOT_CONTEXT, runSpan), { ...base, 'chaoslab.variant': name }, name, attributes, opts.sampleRatio);
      open.add(v);
      return {
        ...v,
        end(outcome) {
          open.delete(v);
          v.end(outcome);
        },
      };
    },
    async finish(outcome) {
      // A variant that threw past its own end still gets its span.
      for (const v of open) v.end({ status: 'failed', passed: false });
      open.clear();
      runSpan.setAttributes({ 'chaoslab.passed': outcome.passed, 'chaoslab.interrupted': outcome.interrupted });
      if (!outcome.passed) runSpan.setStatus({ code: SpanStatusCode.ERROR, message: outcome.interrupted ? 'interrupted' : 'not every variant met its expectation' });
      runSpan.end();
      await io.shutdown();
      await receiver?.stop();
      if (!io.file) return where;
      return { ...where, spans: io.file.count, ...(receiver?.rejected ? { rejected: receiver.rejected } : {}), ...(io.file.error ? { error: io.file.error } : {}) };
    },
  };
}

function variantTrace(tracer: Tracer, parent: ReturnType<typeof trace.setSpan>, base: Attributes, name: string, attributes: Record<string, AttributeValue>, ratio: number): VariantTrace {
  const span = tracer.startSpan(`variant ${name}`, { attributes: { ...base, ...prefixed('chaoslab.variant.', attributes) } }, parent);
  const inVariant = trace.setSpan(ROOT_CONTEXT, span);
  let phase: Span | undefined;
  const faults = new Map<string, Span>();
  return {
    phase(p) {
      phase?.end();
      phase = tracer.startSpan(`phase ${p}`, { attributes: { ...base, 'chaoslab.phase': p } }, inVariant);
    },
    faultStart(step, fault, description) {
      faults.get(step)?.end();
      faults.set(step, tracer.startSpan(`fault ${step}`, { attributes: { ...base, ...faultAttributes(fault), 'chaoslab.fault.step': step, 'chaoslab.fault.description': description } }, inVariant));
    },
    faultEnd(step, error) {
      const f = faults.get(step);
      if (!f) return;
      if (error !== undefined) f.setStatus({ code: SpanStatusCode.ERROR, message: error });
      f.end();
      faults.delete(step);
    },
    requests(seed, { templates, links }) {
      return requestTracing(tracer, span, base, seed, ratio, templates, links);
    },
    end(outcome) {
      phase?.end();
      for (const f of faults.values()) f.end();
      faults.clear();
      span.setAttributes({ 'chaoslab.variant.status': outcome.status, 'chaoslab.variant.passed': outcome.passed });
      if (outcome.status !== 'completed' || !outcome.passed) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.status === 'completed' ? 'expectation not met' : outcome.status });
      span.end();
    },
  };
}

function prefixed(prefix: string, attrs: Record<string, AttributeValue>): Attributes {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`${prefix}${k}`, v]));
}

/**
 * A fault's type and parameters as span attributes: `chaoslab.fault.type`, `chaoslab.fault.links` (one
 * attribute `chaoslab.link` too when there is a single link), `chaoslab.fault.latencyMs`, … Nested values
 * (a partition's groups) are JSON.
 */
export function faultAttributes(fault: FaultSpec): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(fault)) {
    const key = `chaoslab.fault.${k}`;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v as string[];
    else if (v !== undefined) out[key] = JSON.stringify(v);
  }
  if ('links' in fault && fault.links.length === 1) out['chaoslab.link'] = fault.links[0]!;
  return out;
}

/**
 * Each traced request is its own trace (a run's thousands of requests would bury the run's trace), rooted at
 * the lab's client span and linked to its variant's span.
 */
function requestTracing(tracer: Tracer, variantSpan: Span, base: Attributes, seed: number, ratio: number, templates: Record<string, string>, links: Record<string, string>): RequestTracing {
  const variantLink = [{ context: variantSpan.spanContext() }];
  return {
    sampled: (seq) => isTraced(seed, seq, ratio),
    start(req: OutgoingRequest, lagMs: number): TracedRequest {
      const attributes: Attributes = {
        ...base,
        'http.request.method': req.method,
        'url.full': `${req.target}${req.path}`,
        'chaoslab.op': req.op,
        'chaoslab.seq': req.seq,
        'chaoslab.send_lag_ms': Math.round(lagMs * 1000) / 1000,
      };
      const link = links[req.target];
      if (link !== undefined) attributes['chaoslab.link'] = link;
      const span = tracer.startSpan(`${req.method} ${templates[req.op] ?? req.op}`, { kind: SpanKind.CLIENT, attributes, links: variantLink, root: true });
      const ctx = span.spanContext();
      return {
        traceparent: formatTraceparent({ traceId: ctx.traceId, spanId: ctx.spanId, sampled: true }),
        end(outcome: Outcome, status?: number, error?: string) {
          span.setAttribute('chaoslab.outcome', outcome);
          if (status !== undefined) span.setAttribute('http.response.status_code', status);
          if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : status !== undefined ? { message: `status ${status}` } : {}) });
          span.end();
        },
      };
    },
  };
}
