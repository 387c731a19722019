/**
 * The load generator as a server, for a pod in the run's namespace (or a child process): the lab starts a load,
 * changes its rate and mix, polls its status and per-request results, stops it and fetches its history over HTTP
 * (load-api.ts); an in-cluster Prometheus scrapes its `/metrics`, the same client series the lab exports when the
 * load runs in the lab. Load, faults and scrapes then stay inside the cluster; only control calls cross the
 * port-forward.
 *
 * One load at a time, one after another (a run's variants), at most MAX_LOADS per server. Bounded in time: each
 * load by its `durationMs` (plus its request timeout to drain, plus a guard), the server by its idle deadline: no
 * control call for `idleMs` means the lab is gone, so the server stops any load and closes. Scrapes and health
 * probes do not count as control calls: a Prometheus or a kubelet polling forever must not keep it alive.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { LabError } from '../../errors/lab-error.js';
import { registerClientRequestMetrics, type ClientRequestMetrics } from '../../observe/lab-metrics.js';
import { LatencyHistogram } from '../histogram.js';
import { errorLabel } from '../http-sender.js';
import { LoadGenerator, type LoadGeneratorOptions, type LoadSummary, type OutcomeCounts, type RequestResult } from '../load-generator.js';
import {
  describeIssues,
  HISTORY_ELAPSED_HEADER,
  LOAD_API,
  LoadSpecSchema,
  MAX_RESULTS_PER_PAGE,
  OUTCOMES,
  SetRateBody,
  SetWeightsBody,
  type ApiError,
  type LoadState,
  type LoadStatus,
  type ResultsPage,
} from './load-api.js';

/** Loads one server runs at most: a run's variants and control runs, with room to spare. */
export const MAX_LOADS = 100;
/** Per-request results held for the live feed: 3 s at the scenario's highest rate, for a client polling every second. */
export const RESULT_RING_SIZE = 65_536;
/** A control request's body at most (a spec with 100 operations and their bodies fits many times). */
const MAX_BODY_BYTES = 1024 * 1024;
/** After `durationMs` and a request timeout, a load still not done is stopped (a generator bug must not run on). */
const GUARD_GRACE_MS = 5000;

export interface ServiceRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

export interface ServiceReply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown): ServiceReply => ({ status, contentType: 'application/json', body: JSON.stringify(value) });
const apiError = (status: number, code: string, message: string, issues?: { field: string; message: string }[]): ServiceReply =>
  json(status, { error: { code, message, ...(issues ? { issues } : {}) } } satisfies ApiError);

/** Fixed-size ring of compact results with a global cursor: memory stays bounded whatever the rate. */
export class ResultRing {
  private readonly op: Uint16Array;
  private readonly outcome: Uint8Array;
  private readonly latency: Float64Array;
  private readonly scheduled: Float64Array;
  private written = 0;

  constructor(private readonly size = RESULT_RING_SIZE) {
    this.op = new Uint16Array(size);
    this.outcome = new Uint8Array(size);
    this.latency = new Float64Array(size);
    this.scheduled = new Float64Array(size);
  }

  get count(): number {
    return this.written;
  }

  push(op: number, outcome: number, latencyMs: number, scheduledAtMs: number): void {
    const i = this.written % this.size;
    this.op[i] = op;
    this.outcome[i] = outcome;
    this.latency[i] = latencyMs;
    this.scheduled[i] = scheduledAtMs;
    this.written++;
  }

  /** The results numbered from `after` on (a client's cursor), at most `max`. */
  page(after: number, max = MAX_RESULTS_PER_PAGE): ResultsPage {
    const oldest = Math.max(0, this.written - this.size);
    const from = Math.min(Math.max(after, oldest), this.written);
    const to = Math.min(this.written, from + max);
    const results: ResultsPage['results'] = [];
    // 0.001 ms is finer than the timers can measure; rounding keeps a page short.
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    for (let n = from; n < to; n++) {
      const i = n % this.size;
      results.push([this.op[i]!, this.outcome[i]!, round(this.latency[i]!), round(this.scheduled[i]!)]);
    }
    return { next: to, lost: Math.max(0, oldest - after), results };
  }
}

const emptyCounts = (): OutcomeCounts => ({ sent: 0, ok: 0, error: 0, timeout: 0, dropped: 0 });

/** One load of the server, from start to its summary (or failure). */
class ServedLoad {
  state: Exclude<LoadState, 'idle'> = 'running';
  summary: LoadSummary | undefined;
  error: { code?: string; message: string } | undefined;
  readonly ring = new ResultRing();
  readonly generator: LoadGenerator;
  readonly operations: string[];
  private readonly opIndex = new Map<string, number>();
  private readonly totals = emptyCounts();
  private readonly byOp: Record<string, OutcomeCounts> = {};
  private readonly latency = new LatencyHistogram();
  private readonly t0 = performance.now();
  private readonly guard: NodeJS.Timeout;

  constructor(
    readonly id: number,
    spec: z.infer<typeof LoadSpecSchema>,
    metrics: ClientRequestMetrics,
    options: LoadGeneratorOptions,
    log: ServiceLog,
  ) {
    this.operations = spec.operations.map((o) => o.name);
    this.operations.forEach((name, i) => {
      this.opIndex.set(name, i);
      this.byOp[name] = emptyCounts();
    });
    const onResult = (r: RequestResult): void => {
      metrics.observeRequest(r.op, r.outcome, r.latencyMs / 1000);
      this.ring.push(this.opIndex.get(r.op)!, OUTCOMES.indexOf(r.outcome), r.latencyMs, r.scheduledAtMs);
      this.totals[r.outcome]++;
      const c = this.byOp[r.op]!;
      c[r.outcome]++;
      if (r.outcome !== 'dropped') {
        c.sent++;
        this.totals.sent++;
      }
      if (r.outcome === 'ok') this.latency.record(r.latencyMs);
    };
    this.generator = new LoadGenerator(spec, { onResult }, options);
    this.generator.start();
    log({ load: id, started: { targets: spec.targets, rate: spec.rate, durationMs: spec.durationMs, seed: spec.seed } });
    this.guard = setTimeout(() => void this.generator.stop(), spec.durationMs + spec.timeoutMs + GUARD_GRACE_MS);
    this.generator.done.then(
      (s) => {
        this.summary = s;
        this.state = 'finished';
        log({ load: id, finished: { sent: s.sent, ok: s.ok, error: s.error, timeout: s.timeout, dropped: s.dropped, cancelled: s.cancelled } });
      },
      (e: unknown) => {
        this.error = { ...(e instanceof LabError ? { code: e.code } : {}), message: e instanceof Error ? e.message : String(e) };
        this.state = 'failed';
        log({ load: id, failed: this.error });
      },
    ).finally(() => clearTimeout(this.guard));
  }

  status(after: number | undefined): LoadStatus {
    const history = this.generator.history;
    return {
      load: this.id,
      state: this.state,
      elapsedMs: performance.now() - this.t0,
      operations: this.operations,
      // `sent` also counts requests still waiting for their answer.
      counts: { ...this.totals, sent: this.totals.sent + this.generator.outstanding },
      byOp: this.byOp,
      latencyMs: this.latency.percentiles(),
      ...(this.summary ? { summary: this.summary } : {}),
      ...(this.error ? { error: this.error } : {}),
      ...(history ? { historyOps: history.ops.length } : {}),
      ...(after !== undefined ? { results: this.ring.page(after) } : {}),
    };
  }
}

/** One JSON line of the server's log (stdout: the pod's log), per load started and ended. */
export type ServiceLog = (entry: Record<string, unknown>) => void;

/** The API without sockets (the HTTP glue is `startLoadServer`), so its logic is tested without a server. */
export class LoadService {
  readonly registry = new Registry();
  private readonly metrics = registerClientRequestMetrics(this.registry);
  private current: ServedLoad | undefined;
  private served = 0;
  /** The lab's metrics as it last pushed them (text exposition), served to Prometheus as they are. */
  private labMetricsText = '';

  constructor(
    private readonly options: LoadGeneratorOptions = {},
    private readonly log: ServiceLog = () => {},
  ) {}

  /** Whether a load is issuing or draining (the idle deadline stops it). */
  get running(): boolean {
    return this.current?.state === 'running';
  }

  async handle(req: ServiceRequest): Promise<ServiceReply> {
    const route = `${req.method} ${req.path}`;
    switch (route) {
      case `GET ${LOAD_API.health}`:
        return { status: 200, contentType: 'text/plain', body: 'ok\n' };
      case `GET ${LOAD_API.metrics}`:
        return { status: 200, contentType: this.registry.contentType, body: await this.registry.metrics() };
      case `POST ${LOAD_API.start}`:
        return this.start(req.body);
      case `POST ${LOAD_API.rate}`:
        return this.command(req.body, SetRateBody, (load, b) => load.generator.setRate(b.rate, b.rampMs));
      case `POST ${LOAD_API.weights}`:
        return this.command(req.body, SetWeightsBody, (load, b) => load.generator.setWeights(b.weights));
      case `POST ${LOAD_API.stop}`:
        return this.stop();
      case `GET ${LOAD_API.status}`:
        return this.status(req.query);
      case `GET ${LOAD_API.history}`:
        return this.history();
      case `PUT ${LOAD_API.labMetrics}`:
        this.labMetricsText = req.body;
        return { status: 204, contentType: 'text/plain', body: '' };
      case `GET ${LOAD_API.labScrape}`:
        return { status: 200, contentType: this.registry.contentType, body: this.labMetricsText };
    }
    const known = Object.values(LOAD_API) as string[];
    if (known.includes(req.path)) return apiError(405, 'method-not-allowed', `${req.method} ${req.path} is not served`);
    return apiError(404, 'not-found', `${req.path} is not a path of the load API v1 (${known.join(', ')})`);
  }

  /** Stops the load now (the server is closing). */
  async close(): Promise<void> {
    await this.current?.generator.stop().catch(() => undefined);
  }

  private start(body: string): ServiceReply {
    const parsed = parseBody(body, LoadSpecSchema);
    if ('reply' in parsed) return parsed.reply;
    if (this.current?.state === 'running') return apiError(409, 'conflict', `load ${this.current.id} is still running: stop it first`);
    if (this.served >= MAX_LOADS) return apiError(409, 'conflict', `this server ran its ${MAX_LOADS} loads: start another one`);
    try {
      this.current = new ServedLoad(this.served + 1, parsed.value, this.metrics, this.options, this.log);
    } catch (e) {
      return fromThrown(e);
    }
    this.served++;
    return json(201, { load: this.current.id });
  }

  private command<S extends z.ZodType>(body: string, schema: S, apply: (load: ServedLoad, value: z.infer<S>) => void): ServiceReply {
    const parsed = parseBody(body, schema);
    if ('reply' in parsed) return parsed.reply;
    const load = this.current;
    if (!load || load.state !== 'running') return apiError(409, 'conflict', load ? `load ${load.id} has ended` : 'no load started');
    try {
      apply(load, parsed.value);
    } catch (e) {
      return fromThrown(e);
    }
    return json(200, { load: load.id });
  }

  private async stop(): Promise<ServiceReply> {
    const load = this.current;
    if (!load) return apiError(409, 'conflict', 'no load started');
    try {
      return json(200, { load: load.id, summary: await load.generator.stop() });
    } catch {
      return apiError(500, load.error?.code ?? 'load-failed', `load ${load.id} failed: ${load.error?.message ?? 'unknown'}`);
    }
  }

  private status(query: URLSearchParams): ServiceReply {
    const afterText = query.get('after');
    const after = afterText === null ? undefined : Number(afterText);
    if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) {
      return apiError(400, 'invalid-field', `after: expected a result number ≥ 0, got "${afterText}"`, [{ field: 'after', message: 'expected an integer ≥ 0' }]);
    }
    if (!this.current) {
      const idle: LoadStatus = { load: 0, state: 'idle', elapsedMs: 0, operations: [], counts: emptyCounts(), byOp: {}, latencyMs: new LatencyHistogram().percentiles() };
      return json(200, idle);
    }
    return json(200, this.current.status(after));
  }

  private history(): ServiceReply {
    const recorder = this.current?.generator.history;
    if (!recorder) return apiError(404, 'no-history', this.current ? `load ${this.current.id} records no history (recordHistory: false)` : 'no load started');
    return { status: 200, contentType: 'application/x-ndjson', body: recorder.toJsonLines(), headers: { [HISTORY_ELAPSED_HEADER]: String(recorder.elapsedNs()) } };
  }
}

function parseBody<S extends z.ZodType>(body: string, schema: S): { value: z.infer<S> } | { reply: ServiceReply } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    return { reply: apiError(400, 'invalid-json', `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`) };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { value: r.data };
  const { message, issues } = describeIssues(r.error);
  return { reply: apiError(400, 'invalid-field', message, issues) };
}

/** The generator refused a value its own checks cover (a weight for an unknown operation): bad input, 400. */
function fromThrown(e: unknown): ServiceReply {
  if (e instanceof LabError && e.kind === 'input') {
    const field = e.location?.field;
    return apiError(400, e.code, `${field ? `${field}: ` : ''}${e.message}`, field ? [{ field, message: e.message }] : undefined);
  }
  return apiError(500, 'internal', errorLabel(e));
}

export interface LoadServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** No control call for this long: the lab is gone; stop the load and close. */
  idleMs: number;
  /** When set, control calls (`/v1/…`) need `authorization: Bearer <token>`. */
  token?: string;
  generator?: LoadGeneratorOptions;
  log?: ServiceLog;
}

export interface StartedLoadServer {
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** Why it closed: `idle`, or the reason given to `close`. */
  readonly closed: Promise<string>;
  close(reason: string): Promise<void>;
}

export async function startLoadServer(opts: LoadServerOptions): Promise<StartedLoadServer> {
  const service = new LoadService(opts.generator, opts.log);
  const expected = opts.token === undefined ? undefined : Buffer.from(`Bearer ${opts.token}`);
  let lastControl = performance.now();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://load-server');
    const control = url.pathname.startsWith('/v1/');
    if (control && expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        send(res, apiError(401, 'unauthorized', 'control calls need the bearer token the server was started with'));
        req.resume();
        return;
      }
    }
    if (control) lastControl = performance.now();
    readBody(req).then(
      (body) => {
        if (body === undefined) return send(res, apiError(413, 'too-large', `a request body is at most ${MAX_BODY_BYTES} bytes`));
        service.handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body }).then(
          (reply) => send(res, reply),
          (e: unknown) => send(res, apiError(500, 'internal', errorLabel(e))),
        );
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;
  const close = (reason: string): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(idleWatch);
      await service.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        // Keep-alive connections (a Prometheus, a client's pool) would hold the close open.
        server.closeAllConnections();
      });
      resolveClosed(reason);
    })());
  const idleWatch = setInterval(() => {
    if (performance.now() - lastControl >= opts.idleMs) void close('idle');
  }, Math.max(10, Math.min(1000, opts.idleMs / 4)));

  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { port, url: `http://${host}:${port}`, closed, close };
}

function send(res: http.ServerResponse, reply: ServiceReply): void {
  res.writeHead(reply.status, { 'content-type': reply.contentType, ...reply.headers }).end(reply.body);
}

/** The body as text, or undefined past MAX_BODY_BYTES. */
function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
