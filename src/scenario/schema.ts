/**
 * The scenario and cluster file formats, as zod schemas. One source of truth: the loader validates
 * with them, `npm run build` derives the JSON Schemas editors use from them, and the types below
 * are what the rest of the lab trusts after validation.
 */
import { z } from 'zod';
import { parseDuration } from '../common/duration.js';

const DURATION_HINT = 'a number with a unit, like 500ms, 2s or 1m';

/** A non-negative duration like `500ms`, `2s`, `1.5m`; becomes milliseconds. */
export const Duration = z
  .string({ error: `expected a duration (${DURATION_HINT})` })
  .regex(/^\s*\d+(\.\d+)?(ms|s|m|h)\s*$/, { error: `expected a duration (${DURATION_HINT})` })
  .transform((s) => parseDuration(s) ?? 0)
  .meta({ description: `Duration: ${DURATION_HINT}` });

/** A duration that must be above zero (fault lengths, timeouts of a run). */
export const PositiveDuration = Duration.refine((ms) => ms > 0, { error: 'expected a duration above zero' });

/** A signed duration for clock offsets: `-500ms`, `+2s`. */
export const SignedDuration = z
  .string({ error: 'expected a signed duration like -500ms or +2s' })
  .regex(/^\s*[+-]?\d+(\.\d+)?(ms|s|m)\s*$/, { error: 'expected a signed duration like -500ms or +2s' })
  .transform((s) => {
    const t = s.trim();
    const neg = t.startsWith('-');
    return (neg ? -1 : 1) * (parseDuration(t.replace(/^[+-]/, '')) ?? 0);
  });

const Name = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, { error: 'expected a lowercase name (letters, digits, dashes), like "storage" or "lb-tv"' });
const PortName = z.string().regex(/^[a-z][a-z0-9]*$/, { error: 'expected a port name like "http"' });
export const ParamValue = z.union([z.number(), z.string(), z.boolean()]);
const Params = z.record(z.string(), ParamValue);
/** Parameter overrides per node group: `{ frontend: { backendTimeoutMs: 150 } }`. */
const ParamsByNode = z.record(z.string(), Params);

// ---------------------------------------------------------------- cluster files

export const ClusterNode = z.strictObject({
  description: z.string().optional(),
  /** argv; `{toys}` is replaced by the compiled toys folder. */
  command: z.array(z.string()).min(1),
  replicas: z.number().int().min(1).max(32).default(1),
  ports: z.array(PortName).min(1).default(['http']),
  health: z
    .strictObject({ path: z.string().startsWith('/').default('/health'), port: PortName.optional(), timeout: PositiveDuration.default(10_000) })
    .default({ path: '/health', timeout: 10_000 }),
  metrics: z
    .strictObject({ path: z.string().startsWith('/').default('/metrics'), port: PortName.optional() })
    .default({ path: '/metrics' }),
  params: Params.default({}),
});

export const ClusterLink = z.strictObject({
  from: Name,
  to: Name,
  /** Which port of `to` the link carries; the first port by default. */
  port: PortName.optional(),
});

export const Mitigation = z.strictObject({
  description: z.string(),
  set: ParamsByNode,
});

export const ClusterFile = z.strictObject({
  name: Name,
  description: z.string().optional(),
  nodes: z.record(Name, ClusterNode).refine((n) => Object.keys(n).length > 0, { error: 'a cluster needs at least one node' }),
  links: z.array(ClusterLink).default([]),
  mitigations: z.record(Name, Mitigation).default({}),
});

// ---------------------------------------------------------------- faults

const Stream = z.enum(['upstream', 'downstream', 'both']);
const Toxicity = z.number().min(0).max(1).default(1);
/** One name or a list; `*` matches any run of characters (e.g. `storage-*_to_metadata`). */
const Selector = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const linkFault = <L extends string, T extends z.ZodRawShape>(type: L, shape: T, stream: 'upstream' | 'downstream' | 'both' = 'downstream') =>
  z.strictObject({ type: z.literal(type), links: Selector, stream: Stream.default(stream), toxicity: Toxicity, ...shape });

export const Fault = z.discriminatedUnion('type', [
  linkFault('latency', { latency: Duration, jitter: Duration.default(0) }),
  linkFault('bandwidth', { rate: z.number().positive().meta({ description: 'KB/s' }) }),
  linkFault('timeout', { timeout: Duration.default(0) }, 'both'),
  linkFault('reset_peer', { timeout: Duration.default(0) }),
  linkFault('slow_close', { delay: Duration }),
  linkFault('slicer', { averageSize: z.number().int().positive(), sizeVariation: z.number().int().min(0).default(0), delay: Duration.default(0) }),
  linkFault('limit_data', { bytes: z.number().int().positive() }),
  z.strictObject({ type: z.literal('down'), links: Selector }),
  z.strictObject({
    type: z.literal('partition'),
    /** Node groups; every link between two groups is cut. */
    groups: z.array(Selector).min(2),
    oneWay: z.boolean().default(false),
    mode: z.enum(['blackhole', 'down']).default('blackhole'),
  }),
  z.strictObject({ type: z.literal('kill'), nodes: Selector, signal: z.enum(['SIGKILL', 'SIGTERM']).default('SIGKILL') }),
  z.strictObject({ type: z.literal('restart'), nodes: Selector }),
  z.strictObject({ type: z.literal('pause'), nodes: Selector }),
  z.strictObject({ type: z.literal('clock'), nodes: Selector, offset: SignedDuration }),
]);

export const LoadChange = z
  .strictObject({
    /** Absolute rate in requests per second. */
    rate: z.number().positive().optional(),
    /** Or a multiple of the workload's base rate. */
    multiply: z.number().positive().optional(),
    ramp: Duration.default(0),
    /** New operation weights, by operation name. */
    weights: z.record(z.string(), z.number().min(0)).optional(),
  })
  .refine((l) => l.rate !== undefined || l.multiply !== undefined || l.weights !== undefined, {
    error: 'a load step needs rate, multiply or weights',
  });

export const TimelineStep = z
  .strictObject({
    name: Name.optional(),
    at: Duration,
    for: PositiveDuration.optional(),
    fault: Fault.optional(),
    load: LoadChange.optional(),
    /**
     * Whether a control run (`--control`) keeps this step. By default fault steps are dropped and
     * load steps kept; a load surge that *is* the incident's trigger says `control: drop`.
     */
    control: z.enum(['keep', 'drop']).optional(),
  })
  .refine((s) => (s.fault === undefined) !== (s.load === undefined), { error: 'a step has exactly one of `fault` or `load`' });

// ---------------------------------------------------------------- workload

export const Operation = z.strictObject({
  name: Name,
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('GET'),
  /** May contain {key} and {seq}. */
  path: z.string().startsWith('/'),
  body: z.string().optional(),
  /** Relative share of the load; 0 = only when a load step gives it weight. */
  weight: z.number().min(0).default(1),
});

export const Workload = z.strictObject({
  target: z.strictObject({ node: Name, port: PortName.optional() }),
  rate: z.number().positive().max(20_000),
  arrival: z.enum(['constant', 'poisson']).default('constant'),
  timeout: PositiveDuration.default(2000),
  maxInFlight: z.number().int().positive().max(100_000).default(2000),
  operations: z.array(Operation).min(1).refine((ops) => ops.some((o) => o.weight > 0), { error: 'at least one operation needs a weight above 0' }),
  keys: z
    .strictObject({ count: z.number().int().positive().default(1000), distribution: z.enum(['uniform', 'zipf']).default('uniform'), exponent: z.number().positive().default(1) })
    .default({ count: 1000, distribution: 'uniform', exponent: 1 }),
  /** Record every operation as a Jepsen-style history in the run folder. */
  history: z.boolean().default(false),
});

// ---------------------------------------------------------------- assertions

export const Window = z.union([
  /** `final`: after the load and the checkers, for series a checker exports once it has judged. */
  z.enum(['steady', 'whole', 'final']),
  z.strictObject({ during: Name, skip: Duration.default(0) }),
  z.strictObject({ after: Name, skip: Duration.default(0), for: PositiveDuration.optional() }),
  z.strictObject({ from: Duration, to: PositiveDuration }),
]);

export const Condition = z
  .string()
  .regex(/^\s*(<=|>=|==|!=|<|>)\s*-?\d+(\.\d+)?(e-?\d+)?\s*$/, { error: 'expected a comparison like "< 0.3" or ">= 0.99"' });

export const Assertion = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** PromQL, evaluated as a range query over the window at the scrape step. */
  query: z.string().min(1),
  window: Window,
  condition: Condition,
  over: z.enum(['all', 'any', 'mean', 'max', 'min', 'last']).default('all'),
  /** For windows that start at a heal: the condition must hold from start + recoverWithin to the end. */
  recoverWithin: Duration.optional(),
  /**
   * Per-variant expectation; variants not named expect `holds`. The key `control` sets what a
   * control run (`--control`: same load, no faults) expects; `holds` by default.
   */
  expect: z.record(z.string(), z.enum(['holds', 'violated'])).default({}),
  /** Only evaluate in these variants (all by default). */
  variants: z.array(z.string()).optional(),
});

// ---------------------------------------------------------------- scenario files

export const Variant = z.strictObject({
  description: z.string().optional(),
  mitigations: z.array(z.string()).default([]),
  /** What the variant shows: the incident reproduces, or the mitigation recovers from it. */
  expect: z.enum(['reproduce', 'recover']),
  params: ParamsByNode.default({}),
});

export const Incident = z.strictObject({
  system: z.string(),
  date: z.string(),
  summary: z.string(),
  rootCause: z.string(),
  lesson: z.string(),
  /** Facts stated in a public source. */
  documented: z.array(z.strictObject({ fact: z.string(), source: z.string() })).default([]),
  /** What only the seed text or the lab's design asserts. */
  assumed: z.array(z.string()).default([]),
});

/**
 * A checker judges the recorded history rather than the scrapes (Jepsen: record, then judge).
 * `set`: the values of `adds` operations that were acknowledged must all be in the final read.
 */
export const Checker = z.strictObject({
  type: z.literal('set'),
  /** Workload operations whose `{seq}` values are the set's elements. */
  adds: z.array(Name).min(1),
  /** After the load, the runner GETs this from the node (directly, not through a proxy). */
  finalRead: z.strictObject({ node: Name, path: z.string().startsWith('/'), timeout: PositiveDuration.default(20_000) }),
});

export const ScenarioFile = z.strictObject({
  $schema: z.string().optional(),
  id: Name,
  title: z.string(),
  description: z.string().optional(),
  incident: Incident,
  cluster: z.strictObject({ file: z.string(), params: ParamsByNode.default({}) }),
  variants: z.record(Name, Variant).refine((v) => Object.keys(v).length > 0, { error: 'at least one variant is needed' }),
  /** Length of the load; every step must end within it. */
  duration: PositiveDuration,
  /** Time after the load starts that the steady-state window skips. */
  warmup: Duration.default(3000),
  workload: Workload,
  timeline: z.array(TimelineStep).default([]),
  checker: Checker.optional(),
  assertions: z.array(Assertion).min(1),
  mayDie: Selector.optional().meta({
    description:
      'Nodes (instance or group names, `*` globs) that may exit on their own during the load. Any other exit that no kill or restart step scheduled fails the variant (exit 3); an exit of a node listed here is only recorded (journal event node-exited).',
  }),
});

export type ClusterFileT = z.output<typeof ClusterFile>;
export type ClusterNodeT = z.output<typeof ClusterNode>;
export type ScenarioFileT = z.output<typeof ScenarioFile>;
export type FaultT = z.output<typeof Fault>;
export type TimelineStepT = z.output<typeof TimelineStep>;
export type AssertionT = z.output<typeof Assertion>;
export type WindowT = z.output<typeof Window>;
export type WorkloadT = z.output<typeof Workload>;
export type VariantT = z.output<typeof Variant>;
export type ParamValueT = z.output<typeof ParamValue>;
export type CheckerT = z.output<typeof Checker>;
