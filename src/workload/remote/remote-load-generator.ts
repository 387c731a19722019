/**
 * Drives a load server (load-server.ts) over HTTP with the surface the runner uses from `LoadGenerator`
 * (`LoadControl`): in the Kubernetes runtime the base URL is a port-forward's local address to the load pod.
 *
 * Calls are asynchronous but the surface is not (the runner calls `setRate` from its timeline and moves on), so
 * every call goes through one queue, in order, polls included: a rate change reaches the server after the start
 * and before the stop, and the live feed is never read twice. A refused call, an answer this version cannot read,
 * or a server silent for `unreachableMs` fails the load: `done` rejects with `WorkloadFailed` (the runner's part
 * watch turns that into a failed variant, as for a load generator that died in the lab).
 *
 * Live numbers: per-request results cannot be pushed across a port-forward cheaply, so the client polls
 * `/v1/status?after=<cursor>` every `pollIntervalMs` and replays the results it gets, in order, to the same
 * `onResult` hook LoadGenerator calls, `pollIntervalMs` late at most. The runner's live view (SlidingStats, 3 s
 * windows of whole seconds) takes them as they come. The lab must NOT also count them in its own metrics: the
 * cluster's Prometheus scrapes the load server's `/metrics` directly, the same series, counted once, on time.
 */
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { checkRate } from '../schedule.js';
import { historyEdn, historyJsonLines, type HistoryOp, type RecordedHistory } from '../history.js';
import type { LoadControl } from '../load-control.js';
import type { LoadHooks, LoadSpec, LoadSummary, RequestResult } from '../load-generator.js';
import { z } from 'zod';
import {
  ApiError,
  describeIssues,
  HISTORY_ELAPSED_HEADER,
  HistoryOpSchema,
  LOAD_API,
  LoadSpecSchema,
  LoadStatus,
  MAX_RESULTS_PER_PAGE,
  OUTCOMES,
  Started,
  Stopped,
} from './load-api.js';

export interface RemoteLoadOptions {
  /** Replaces the global fetch (unit tests). */
  fetch?: typeof fetch;
  /** How often status and results are polled: the live feed's delay at most. */
  pollIntervalMs?: number;
  /** One HTTP call gives up after this. */
  requestTimeoutMs?: number;
  /** Polls failing for this long mean the server is gone (its pod, the port-forward). */
  unreachableMs?: number;
  /** The server's bearer token (its CHAOSLAB_LOAD_TOKEN). */
  token?: string;
  /** Monotonic nanoseconds, for the fetched history's clock (tests). */
  clockNs?: () => bigint;
}

const DEFAULTS = { pollIntervalMs: 1000, requestTimeoutMs: 10_000, unreachableMs: 10_000 };
const UNREACHABLE_HINT = "Its pod (or process) stopped, or the port-forward to it broke; see the load generator's log.";
/** Between tries of a call whose connection failed. */
const RETRY_PAUSE_MS = 200;
/** Pages read when the load ends, after which the feed's tail is given up (it is in the summary and the metrics). */
const MAX_DRAIN_PAGES = 64;

/** A history fetched from a load server; its clock goes on from the server's at the time it was served. */
export class FetchedHistory implements RecordedHistory {
  private readonly receivedNs: bigint;

  constructor(
    readonly ops: readonly HistoryOp[],
    /** The server recorder's `elapsedNs()` when it served the history. */
    private readonly servedElapsedNs: number,
    private readonly clockNs: () => bigint = () => process.hrtime.bigint(),
  ) {
    this.receivedNs = clockNs();
  }

  /** The server's clock, continued here; off by the one-way delay of the history's transfer (ms through a port-forward). */
  elapsedNs(): number {
    return this.servedElapsedNs + Number(this.clockNs() - this.receivedNs);
  }

  toJsonLines(): string {
    return historyJsonLines(this.ops);
  }

  toEdn(): string {
    return historyEdn(this.ops);
  }
}

/** A network failure (retried by polls until `unreachableMs`), as opposed to an answer that fails the load at once. */
class Unreachable extends Error {}

type State = 'idle' | 'running' | 'finished';

export class RemoteLoadGenerator implements LoadControl {
  readonly done: Promise<LoadSummary>;
  private resolveDone!: (s: LoadSummary) => void;
  private rejectDone!: (e: unknown) => void;

  private state: State = 'idle';
  private readonly spec: LoadSpec;
  private readonly options: Required<Omit<RemoteLoadOptions, 'token' | 'clockNs'>> & Pick<RemoteLoadOptions, 'token' | 'clockNs'>;
  private readonly weights: Map<string, number>;
  /** Calls made before start(), sent right after it. */
  private readonly beforeStart: (() => Promise<void>)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private load = 0;
  private cursor = 0;
  private operations: string[] = [];
  private lastAnswerMs = 0;
  private fetched: FetchedHistory | undefined;

  constructor(
    readonly baseUrl: string,
    spec: LoadSpec,
    private readonly hooks: LoadHooks = {},
    options: RemoteLoadOptions = {},
  ) {
    const parsed = LoadSpecSchema.safeParse(spec);
    if (!parsed.success) {
      const { message, issues } = describeIssues(parsed.error);
      throw new LabError(Errors.InvalidField, message, { location: { file: '<workload>', field: issues[0]!.field }, hint: 'The load server takes what LoadGenerator takes, within the scenario limits.' });
    }
    this.spec = parsed.data;
    this.options = { ...DEFAULTS, fetch: globalThis.fetch, ...options };
    this.weights = new Map(this.spec.operations.map((o) => [o.name, o.weight]));
    this.done = new Promise<LoadSummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only uses stop() still sees failures there; this keeps an unawaited `done` from crashing Node.
    this.done.catch(() => undefined);
  }

  /** The history once `done` has settled (fetched when the load ended), when `recordHistory` is on. */
  get history(): RecordedHistory | undefined {
    return this.fetched;
  }

  /** Which load of the server this is (0 until it started). */
  get loadId(): number {
    return this.load;
  }

  start(): void {
    if (this.state !== 'idle') throw new Error('RemoteLoadGenerator.start() called twice');
    this.state = 'running';
    this.lastAnswerMs = performance.now();
    this.enqueue(async () => {
      const started = await this.call('POST', LOAD_API.start, this.spec, Started);
      this.load = started.load;
      this.operations = this.spec.operations.map((o) => o.name);
    });
    for (const call of this.beforeStart.splice(0)) this.enqueue(call);
    this.enqueue(async () => this.schedulePoll());
  }

  setRate(rate: number, rampMs: number): void {
    checkRate(rate);
    if (!Number.isFinite(rampMs) || rampMs < 0) throw new LabError(Errors.InvalidField, `ramp must be ≥ 0 ms, got ${rampMs}`, { hint: 'Use 0 for a step change.', location: { file: '<workload>', field: 'rampMs' } });
    this.command(async () => void (await this.retried(() => this.call('POST', LOAD_API.rate, { rate, rampMs }, z.unknown()))));
  }

  setWeights(weights: Record<string, number>): void {
    // Checked here as LoadGenerator checks them (a throw at the call), not as a failed load a second later.
    const next = new Map(this.weights);
    for (const [name, w] of Object.entries(weights)) {
      if (!next.has(name)) throw new LabError(Errors.InvalidField, `unknown operation "${name}"`, { hint: `Known operations: ${[...next.keys()].join(', ')}.`, location: { file: '<workload>', field: `weights.${name}` } });
      if (!Number.isFinite(w) || w < 0) throw new LabError(Errors.InvalidField, `weight must be ≥ 0, got ${w}`, { hint: 'Use 0 to switch an operation off.', location: { file: '<workload>', field: `weights.${name}` } });
      next.set(name, w);
    }
    if (![...next.values()].some((w) => w > 0)) throw new LabError(Errors.InvalidField, 'operation weights sum to 0', { hint: 'Give at least one operation a positive weight.', location: { file: '<workload>', field: 'operations' } });
    for (const [name, w] of next) this.weights.set(name, w);
    this.command(async () => void (await this.retried(() => this.call('POST', LOAD_API.weights, { weights }, z.unknown()))));
  }

  stop(): Promise<LoadSummary> {
    if (this.state === 'idle') {
      this.state = 'finished';
      this.resolveDone(emptySummary(this.spec));
      return this.done;
    }
    if (this.state === 'running') {
      this.enqueue(async () => {
        const stopped = await this.retried(() => this.call('POST', LOAD_API.stop, undefined, Stopped));
        await this.finish(stopped.summary);
      });
    }
    return this.done;
  }

  /** Resolves when every call made so far has been answered (or the load has failed). */
  settled(): Promise<void> {
    return this.queue;
  }

  private command(call: () => Promise<void>): void {
    if (this.state === 'idle') this.beforeStart.push(call);
    // After the end a change has nothing to change (as with LoadGenerator).
    else if (this.state === 'running') this.enqueue(call);
  }

  /** Runs `call` after the calls before it; a failure fails the load, and the calls after it are skipped. */
  private enqueue(call: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.state !== 'running') return;
      try {
        await call();
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /**
   * Calls again after a network failure until `unreachableMs` has passed: a port-forward stream can break and the
   * next connection gets a new one. Only for calls that may arrive twice (a rate, the weights, a stop); a start
   * that arrived twice would be refused as a second load.
   */
  private async retried<T>(call: () => Promise<T>): Promise<T> {
    const since = performance.now();
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof Unreachable) || performance.now() - since >= this.options.unreachableMs) throw e;
        await new Promise((r) => setTimeout(r, Math.min(RETRY_PAUSE_MS, this.options.unreachableMs / 4)));
      }
    }
  }

  private schedulePoll(): void {
    if (this.state !== 'running') return;
    this.pollTimer = setTimeout(() => this.enqueue(() => this.poll()), this.options.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    let status: LoadStatus;
    try {
      status = await this.readStatus();
    } catch (e) {
      if (!(e instanceof Unreachable)) throw e;
      if (performance.now() - this.lastAnswerMs < this.options.unreachableMs) return this.schedulePoll();
      throw new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} has not answered for ${Math.round(this.options.unreachableMs / 1000)} s: ${e.message}`, {
        hint: UNREACHABLE_HINT,
        cause: e,
      });
    }
    if (status.state === 'failed') {
      throw new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} failed: ${status.error?.message ?? 'no reason given'}`, { hint: 'See the load generator\'s log.' });
    }
    if (status.state === 'finished') return this.finish(status.summary!);
    if (status.results && status.results.results.length >= MAX_RESULTS_PER_PAGE) return this.enqueue(() => this.poll()); // behind: read on at once
    this.schedulePoll();
  }

  /** The status with the results after the cursor, which go to `onResult`. */
  private async readStatus(): Promise<LoadStatus> {
    const status = await this.call('GET', `${LOAD_API.status}?after=${this.cursor}`, undefined, LoadStatus);
    this.lastAnswerMs = performance.now();
    if (status.load !== this.load) {
      throw new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} runs load ${status.load}, not this client's load ${this.load}`, { hint: 'Two labs drive one load server; each run needs its own.' });
    }
    if (status.state === 'finished' && !status.summary) throw this.unreadable(LOAD_API.status, 'a finished load without its summary');
    const page = status.results;
    if (page) {
      this.cursor = page.next;
      const hook = this.hooks.onResult;
      if (hook) {
        for (const [op, outcome, latencyMs, scheduledAtMs] of page.results) {
          const name = this.operations[op];
          if (name === undefined) throw this.unreadable(LOAD_API.status, `a result of operation #${op}, which the load does not have`);
          const r: RequestResult = { op: name, outcome: OUTCOMES[outcome]!, latencyMs, scheduledAtMs };
          try {
            hook(r);
          } catch (err) {
            throw new LabError(Errors.WorkloadFailed, `the onResult hook threw: ${err instanceof Error ? err.message : String(err)}`, { hint: 'This is a bug in the code consuming load results.', cause: err });
          }
        }
      }
    }
    return status;
  }

  /** The load ended: read the rest of the feed and the history, then resolve `done`. */
  private async finish(summary: LoadSummary): Promise<void> {
    if (this.state !== 'running') return;
    clearTimeout(this.pollTimer);
    for (let page = 0; page < MAX_DRAIN_PAGES; page++) {
      const status = await this.readStatus();
      if ((status.results?.results.length ?? 0) < MAX_RESULTS_PER_PAGE) break;
    }
    if (this.spec.recordHistory) this.fetched = await this.fetchHistory();
    this.state = 'finished';
    this.resolveDone(summary);
  }

  private async fetchHistory(): Promise<FetchedHistory> {
    const res = await this.request('GET', LOAD_API.history, undefined);
    const text = await this.bodyOf(res, 'GET', LOAD_API.history);
    const served = Number(res.headers.get(HISTORY_ELAPSED_HEADER));
    if (!Number.isFinite(served)) throw this.unreadable(LOAD_API.history, `no ${HISTORY_ELAPSED_HEADER} header`);
    const ops: HistoryOp[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw this.unreadable(LOAD_API.history, `line ${i + 1} is not JSON`);
      }
      const op = HistoryOpSchema.safeParse(raw);
      if (!op.success) throw this.unreadable(LOAD_API.history, `line ${i + 1}: ${describeIssues(op.error).message}`);
      ops.push(op.data);
    }
    return new FetchedHistory(ops, served, this.options.clockNs);
  }

  private fail(e: unknown): void {
    if (this.state !== 'running') return;
    this.state = 'finished';
    clearTimeout(this.pollTimer);
    // A connection that failed is the load generator's failure too (exit 3 naming it), not a bug of the lab.
    this.rejectDone(
      e instanceof Unreachable
        ? new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} did not answer ${e.message}`, { hint: UNREACHABLE_HINT, cause: e })
        : e,
    );
    // Best effort: a load whose controller gave up must not run on (the server's idle deadline is the backstop).
    if (this.load > 0) void this.request('POST', LOAD_API.stop, undefined).then((r) => r.body?.cancel(), () => undefined);
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    const text = await this.bodyOf(await this.request(method, path, body), method, path);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw this.unreadable(path, 'an answer that is not JSON');
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw this.unreadable(path, describeIssues(parsed.error).message);
    return parsed.data;
  }

  private async request(method: 'GET' | 'POST', path: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    try {
      return await this.options.fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new Unreachable(`${method} ${path}: ${cause?.code ?? (e instanceof Error ? e.message : String(e))}`, { cause: e });
    }
  }

  /** The body of a 2xx answer; any other status fails the load, naming what the server said. */
  private async bodyOf(res: Response, method: string, path: string): Promise<string> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new Unreachable(`${method} ${path}: the answer broke off (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    if (res.ok) return text;
    let said: string | undefined;
    try {
      const err = ApiError.safeParse(JSON.parse(text));
      if (err.success) said = err.data.error.message;
    } catch {
      // not the API's error form: said stays undefined
    }
    const hint =
      res.status === 401
        ? 'The lab and the load server disagree on the token (CHAOSLAB_LOAD_TOKEN).'
        : res.status === 404 && said === undefined
          ? "It does not speak load API v1: is the load generator's image from this chaoslab version?"
          : 'This is a bug in chaoslab: the lab checks what it sends before it sends it.';
    return Promise.reject(new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} refused ${method} ${path}: HTTP ${res.status}${said ? `: ${said}` : ''}`, { hint }));
  }

  private unreadable(path: string, what: string): LabError {
    return new LabError(Errors.WorkloadFailed, `the load generator at ${this.baseUrl} answered ${path} with ${what}`, {
      hint: 'Is the load generator\'s image from this chaoslab version? Rebuild or push the images.',
    });
  }
}

/** What a load stopped before it started did: nothing. */
function emptySummary(spec: LoadSpec): LoadSummary {
  const counts = () => ({ sent: 0, ok: 0, error: 0, timeout: 0, dropped: 0 });
  const none = { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return { ...counts(), cancelled: 0, askedRate: 0, achievedRate: 0, durationMs: 0, byOp: Object.fromEntries(spec.operations.map((o) => [o.name, counts()])), latencyMs: none, sendLagMs: { ...none }, seed: spec.seed };
}
