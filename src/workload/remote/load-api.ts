/**
 * The load server's HTTP API, one copy for the server (load-server.ts) and its client (remote-load-generator.ts):
 * paths, request bodies and answers as zod schemas. Both sides validate what crosses the wire: the server the
 * lab's commands (a 400 names the field), the client the server's answers (an image of another chaoslab version
 * is an error naming the server, not a wrong number in a verdict).
 *
 * The paths carry the API's version: a client meeting a server of another version gets a 404 it can name.
 */
import { z } from 'zod';
import { LIMITS } from '../../scenario/limits.js';
import type { LoadSpec, LoadSummary, Outcome, OutcomeCounts } from '../load-generator.js';
import type { HistoryOp } from '../history.js';
import type { Percentiles } from '../histogram.js';

export const LOAD_API = {
  start: '/v1/start',
  rate: '/v1/rate',
  weights: '/v1/weights',
  stop: '/v1/stop',
  /** `?after=N`: also the per-request results numbered after N (the live feed). */
  status: '/v1/status',
  history: '/v1/history',
  /** Prometheus's scrape; not control traffic (it does not keep an idle server alive). */
  metrics: '/metrics',
  /** The pod's readiness probe; not control traffic either. */
  health: '/healthz',
  /**
   * PUT: the lab's own metrics (phases, faults, checker counts) as Prometheus text; served again at `labScrape`.
   * Where pods cannot reach the lab (a cluster far from the user's machine), Prometheus scrapes them here.
   */
  labMetrics: '/v1/lab-metrics',
  labScrape: '/metrics/lab',
} as const;

/** The server's port in a pod (a local child process takes any free one: `--port 0`). */
export const LOAD_SERVER_PORT = 7070;
/** Header carrying the history's clock at the time it was served (see `FetchedHistory`). */
export const HISTORY_ELAPSED_HEADER = 'x-chaoslab-history-elapsed-ns';
/** Results served per status call at most: a client that fell behind catches up over several calls. */
export const MAX_RESULTS_PER_PAGE = 20_000;

const Name = z.string().min(1).max(LIMITS.nameChars);
const Rate = z.number().min(0).max(LIMITS.rate);
const Duration = z.number().positive().max(LIMITS.durationMs);

export const Operation = z.strictObject({
  name: Name,
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
  path: z.string().startsWith('/').max(LIMITS.lineChars),
  weight: z.number().min(0).max(1e6),
  body: z.string().max(LIMITS.textChars).optional(),
});

/** `LoadSpec` on the wire: the same object `new LoadGenerator(spec)` takes, within the scenario limits. */
export const LoadSpecSchema = z.strictObject({
  targets: z
    .array(z.url({ protocol: /^http$/, error: 'expected a base URL like http://10.0.0.7:8080' }))
    .min(1)
    .max(LIMITS.nodeInstances),
  rate: Rate,
  arrival: z.enum(['constant', 'poisson']),
  operations: z
    .array(Operation)
    .min(1)
    .max(LIMITS.operations)
    .refine((ops) => ops.some((o) => o.weight > 0), { error: 'at least one operation needs a weight above 0' })
    .refine((ops) => new Set(ops.map((o) => o.name)).size === ops.length, { error: 'operation names must be distinct' }),
  keys: z.strictObject({
    count: z.number().int().positive().max(LIMITS.keys),
    distribution: z.enum(['uniform', 'zipf']),
    exponent: z.number().min(0).max(LIMITS.zipfExponent),
  }),
  timeoutMs: Duration,
  maxInFlight: z.number().int().positive().max(100_000),
  durationMs: Duration,
  seed: z.number().int(),
  recordHistory: z.boolean(),
  indeterminateStatuses: z.array(z.number().int().min(100).max(599)).max(100).optional(),
}) satisfies z.ZodType<LoadSpec>;

export const SetRateBody = z.strictObject({ rate: Rate, rampMs: z.number().min(0).max(LIMITS.durationMs) });
export const SetWeightsBody = z.strictObject({ weights: z.record(Name, z.number().min(0).max(1e6)) });

const Counts = z.strictObject({ sent: z.number(), ok: z.number(), error: z.number(), timeout: z.number(), dropped: z.number() }) satisfies z.ZodType<OutcomeCounts>;
const PercentilesSchema = z.strictObject({ count: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }) satisfies z.ZodType<Percentiles>;

export const LoadSummarySchema = Counts.extend({
  cancelled: z.number(),
  askedRate: z.number(),
  achievedRate: z.number(),
  durationMs: z.number(),
  byOp: z.record(z.string(), Counts),
  latencyMs: PercentilesSchema,
  sendLagMs: PercentilesSchema,
  seed: z.number(),
}) satisfies z.ZodType<LoadSummary>;

export const OUTCOMES = ['ok', 'error', 'timeout', 'dropped'] as const satisfies readonly Outcome[];

/**
 * Per-request results after a cursor, compact: `[op index, outcome index, latency ms, scheduled at ms]` with
 * indexes into the load's operations and `OUTCOMES`. `lost`: results the server no longer held (the client polled
 * too rarely); they are in the counts and the metrics, only not in the live feed.
 */
export const ResultsPage = z.strictObject({
  next: z.number().int().min(0),
  lost: z.number().int().min(0),
  results: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0).max(OUTCOMES.length - 1), z.number(), z.number()])),
});
export type ResultsPage = z.infer<typeof ResultsPage>;

export const LOAD_STATES = ['idle', 'running', 'finished', 'failed'] as const;
export type LoadState = (typeof LOAD_STATES)[number];

export const LoadStatus = z.strictObject({
  /** Which load of this server (1, 2, …; 0 before the first): a variant's client checks it polls its own. */
  load: z.number().int().min(0),
  state: z.enum(LOAD_STATES),
  /** Since the load started. */
  elapsedMs: z.number(),
  operations: z.array(z.string()),
  /** Live: `sent` counts requests still outstanding too. */
  counts: Counts,
  /** Live, per operation: requests answered or given up (`sent` without those still outstanding). */
  byOp: z.record(z.string(), Counts),
  /** Of ok requests, from the scheduled time. */
  latencyMs: PercentilesSchema,
  summary: LoadSummarySchema.optional(),
  /** Why the generator died (`state: failed`). */
  error: z.strictObject({ code: z.string().optional(), message: z.string() }).optional(),
  historyOps: z.number().int().min(0).optional(),
  results: ResultsPage.optional(),
});
export type LoadStatus = z.infer<typeof LoadStatus>;

export const Started = z.strictObject({ load: z.number().int().min(1) });
export const Stopped = z.strictObject({ load: z.number().int().min(1), summary: LoadSummarySchema });

/** Every 4xx/5xx answer: what was wrong, and for bad input each field's problem. */
export const ApiError = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

export const HistoryOpSchema = z.strictObject({
  index: z.number().int().min(0),
  type: z.enum(['invoke', 'ok', 'fail', 'info']),
  f: z.string(),
  value: z.union([z.number(), z.string(), z.null()]),
  process: z.number().int().min(0),
  time: z.number(),
  error: z.string().optional(),
}) satisfies z.ZodType<HistoryOp>;

/** `operations[0].method` from zod's path. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(body)';
}

/** Zod's issues as the API's `issues` and one line naming them. */
export function describeIssues(error: z.ZodError): { message: string; issues: { field: string; message: string }[] } {
  const issues = error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message }));
  return { message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues };
}
