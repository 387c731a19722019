import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

/** One labelled time series; points are `[unix seconds, value]`, values may be NaN or ±Infinity. */
export interface Series {
  labels: Record<string, string>;
  points: [number, number][];
}

/** A scrape target as `/api/v1/targets` reports it (the fields the lab reads). */
export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
}

/**
 * A failed call to the Prometheus HTTP API. `errorType`/`prometheusError` are Prometheus's own
 * (`bad_data`, `execution`, `timeout`, …) or the lab's for transport failures (`unreachable`, `timeout`, `bad_response`).
 */
export class PrometheusQueryError extends LabError {
  readonly errorType: string;
  readonly prometheusError: string;
  readonly httpStatus: number | undefined;

  constructor(errorType: string, prometheusError: string, opts: { httpStatus?: number; expr?: string; cause?: unknown } = {}) {
    // bad_data means the expression itself is wrong (e.g. rate() of an instant vector), which the user fixes.
    const data = errorType === 'bad_data' ? Errors.InvalidPromQL : Errors.PrometheusFailed;
    const where = opts.expr === undefined ? '' : ` for \`${opts.expr}\``;
    super(data, `Prometheus ${errorType}${where}: ${prometheusError}`, {
      cause: opts.cause,
      hint:
        errorType === 'bad_data'
          ? 'fix the PromQL expression; try it in the Prometheus UI first'
          : 'check that Prometheus is running; its log is in the run directory',
    });
    this.errorType = errorType;
    this.prometheusError = prometheusError;
    this.httpStatus = opts.httpStatus;
  }
}

export interface PrometheusClientOptions {
  /** Per-request HTTP timeout; also sent to Prometheus as the query evaluation timeout. */
  timeoutMs?: number;
}

type Sample = [number, string];
interface ApiEnvelope {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: string;
  error?: string;
}
interface QueryData {
  resultType: 'matrix' | 'vector' | 'scalar' | 'string';
  result: unknown;
}

/** Prometheus encodes sample values as strings, including `NaN`, `+Inf` and `-Inf` (which `Number()` rejects). */
export function parseSampleValue(text: string): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default:
      return Number(text);
  }
}

function toPoint(s: Sample): [number, number] {
  return [s[0], parseSampleValue(s[1])];
}

/** Normalises every result type into Series[] so judging has one shape to read. */
export function resultToSeries(data: QueryData, expr: string): Series[] {
  switch (data.resultType) {
    case 'matrix':
      return (data.result as { metric: Record<string, string>; values?: Sample[] }[]).map((r) => ({
        labels: r.metric,
        // Native-histogram samples (`histograms`) have no single value; the lab does not judge them.
        points: (r.values ?? []).map(toPoint),
      }));
    case 'vector':
      return (data.result as { metric: Record<string, string>; value?: Sample }[]).map((r) => ({
        labels: r.metric,
        points: r.value ? [toPoint(r.value)] : [],
      }));
    case 'scalar':
      return [{ labels: {}, points: [toPoint(data.result as Sample)] }];
    case 'string':
      throw new PrometheusQueryError('bad_data', 'the expression yields a string, not a number', { expr });
    default:
      throw new PrometheusQueryError('bad_response', `unknown resultType ${String(data.resultType)}`, { expr });
  }
}

export class PrometheusClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, opts: PrometheusClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Instant query at `timeSec` (unix seconds). */
  async query(expr: string, timeSec: number): Promise<Series[]> {
    const data = (await this.call('/api/v1/query', { query: expr, time: String(timeSec) }, expr)) as QueryData;
    return resultToSeries(data, expr);
  }

  /** Range query; Prometheus evaluates at start, start+step, … ≤ end. */
  async queryRange(expr: string, startSec: number, endSec: number, stepSec: number): Promise<Series[]> {
    const params = { query: expr, start: String(startSec), end: String(endSec), step: String(stepSec) };
    const data = (await this.call('/api/v1/query_range', params, expr)) as QueryData;
    return resultToSeries(data, expr);
  }

  async targets(): Promise<ActiveTarget[]> {
    const data = (await this.call('/api/v1/targets', { state: 'active' })) as { activeTargets: ActiveTarget[] };
    return data.activeTargets;
  }

  private async call(path: string, params: Record<string, string>, expr?: string): Promise<unknown> {
    const isQuery = expr !== undefined;
    // The server-side timeout is a little shorter than ours so Prometheus's own error wins the race.
    const body = new URLSearchParams(isQuery ? { ...params, timeout: `${Math.max(1, this.timeoutMs - 500)}ms` } : params);
    let res: Response;
    try {
      // Queries go by POST so long expressions are not limited by URL length.
      res = await fetch(
        isQuery ? `${this.baseUrl}${path}` : `${this.baseUrl}${path}?${body.toString()}`,
        isQuery
          ? {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: body.toString(),
              signal: AbortSignal.timeout(this.timeoutMs),
            }
          : { signal: AbortSignal.timeout(this.timeoutMs) },
      );
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const msg = timedOut
        ? `no answer from ${this.baseUrl} within ${this.timeoutMs}ms`
        : `cannot reach ${this.baseUrl}: ${describeFetchError(e)}`;
      throw new PrometheusQueryError(timedOut ? 'timeout' : 'unreachable', msg, { expr, cause: e });
    }
    let envelope: ApiEnvelope;
    const text = await res.text();
    try {
      envelope = JSON.parse(text) as ApiEnvelope;
    } catch (e) {
      throw new PrometheusQueryError('bad_response', `HTTP ${res.status}: ${text.slice(0, 200)}`, {
        httpStatus: res.status,
        expr,
        cause: e,
      });
    }
    if (envelope.status !== 'success') {
      throw new PrometheusQueryError(envelope.errorType ?? 'unknown', envelope.error ?? `HTTP ${res.status}`, {
        httpStatus: res.status,
        expr,
      });
    }
    return envelope.data;
  }
}

function describeFetchError(e: unknown): string {
  // undici hides the useful part (ECONNREFUSED …) in `cause`.
  if (e instanceof Error) {
    const cause = e.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}
