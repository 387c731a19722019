/**
 * A seeded OPEN-LOOP HTTP load generator.
 *
 * Requests go out at their scheduled times whether or not earlier ones have answered, like real users, so a
 * slow server meets a growing queue instead of a politely waiting client. Latency counts from the SCHEDULED
 * send time: a stalled server, or a timer that fired late, shows up in the numbers instead of silently
 * thinning the load (no coordinated omission). The in-flight cap protects the lab machine: arrivals over
 * it are dropped and counted, never quietly skipped.
 *
 * Same seed ⇒ same sequence of (operation, key, scheduled time); see ArrivalSchedule.
 *
 * Lifecycle: start() → issuing until durationMs → draining (outstanding requests answer or time out, so `done`
 * resolves at most timeoutMs later) → finished. stop() ends issuing at once and cancels what is outstanding.
 * With recordHistory, every sent request is an invoke plus an ok/fail/info completion (see history.ts);
 * dropped arrivals were never invoked, so they are counted but not in the history.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { HistoryRecorder, type HistoryValue, type Invocation } from './history.js';
import { LatencyHistogram, type Percentiles } from './histogram.js';
import { createNodeHttpSender, errorLabel, wasNotSent, type HttpSender, type OutgoingRequest, type Sender, type SendResponse } from './http-sender.js';
import type { KeySpec } from './keys.js';
import type { LoadControl } from './load-control.js';
import { createRawHttpSender } from './raw-http-sender.js';
import { ArrivalSchedule, checkRate, compileTemplate, valueKind, type Arrival, type ArrivalProcess, type Operation } from './schedule.js';

export type { Operation, HttpMethod, ArrivalProcess } from './schedule.js';
export type { Sender, OutgoingRequest, SendResponse } from './http-sender.js';

export interface LoadSpec {
  /** Base URLs like `http://127.0.0.1:1234`, used round robin. */
  targets: string[];
  /** Requests per second. */
  rate: number;
  arrival: ArrivalProcess;
  operations: Operation[];
  keys: KeySpec;
  timeoutMs: number;
  maxInFlight: number;
  durationMs: number;
  seed: number;
  recordHistory: boolean;
  /**
   * 5xx statuses after which the write may or may not have applied (history `info`, not `fail`).
   * Default [500, 502, 504]: a crash inside the handler or a gateway that lost its upstream.
   */
  indeterminateStatuses?: number[];
}

export type Outcome = 'ok' | 'error' | 'timeout' | 'dropped';

export interface RequestResult {
  op: string;
  outcome: Outcome;
  status?: number;
  /** From the scheduled send time to the answer (or to giving up). 0 for dropped requests. */
  latencyMs: number;
  scheduledAtMs: number;
  /** The `{seq}` the request used, else its key. */
  value?: string;
  body?: string;
}

export interface OutcomeCounts {
  sent: number;
  ok: number;
  error: number;
  timeout: number;
  dropped: number;
}

export interface LoadSummary extends OutcomeCounts {
  /** Requests still outstanding at stop(); counted in `timeout` too (we gave up waiting). */
  cancelled: number;
  /** Mean rate the profile asked for over the issuing window (req/s). */
  askedRate: number;
  /** Requests actually sent per second (dropped ones excluded). */
  achievedRate: number;
  /** The issuing window: from start until the last send, at least until stop or durationMs. */
  durationMs: number;
  byOp: Record<string, OutcomeCounts>;
  /** Of ok requests, from the scheduled time. */
  latencyMs: Percentiles;
  /** How late requests left compared with their schedule (timer and event-loop lag). */
  sendLagMs: Percentiles;
  seed: number;
}

export interface LoadHooks {
  onResult?(r: RequestResult): void;
}

/** Traces some requests (the lab's tracing implements it): the generator asks which, and reports how they ended. */
export interface RequestTracing {
  /** Whether request `seq` is traced: decided from the seed alone, so a replay traces the same requests. */
  sampled(seq: number): boolean;
  /** Starts the request's span when it is sent (`lagMs` late); its `traceparent` goes out with it. */
  start(req: OutgoingRequest, lagMs: number): TracedRequest;
}

export interface TracedRequest {
  readonly traceparent: string;
  end(outcome: Exclude<Outcome, 'dropped'>, status?: number, error?: string): void;
}

export interface LoadGeneratorOptions {
  /** Replaces real HTTP (tests). When given, the caller owns its lifecycle. */
  send?: Sender;
  /** Real HTTP client: raw keep-alive sockets (default, cheapest per request) or node:http. */
  client?: 'raw' | 'node';
  tracing?: RequestTracing;
}

const DEFAULT_INDETERMINATE = [500, 502, 504];
/** Arrivals handled per turn of the event loop, so responses are read even when far behind schedule. */
const MAX_BATCH = 512;

interface InFlight {
  arrival: Arrival;
  value: HistoryValue;
  controller: AbortController;
  /** When it times out (elapsed ms); sends are in time order, so the oldest request expires first. */
  deadline: number;
  inv: Invocation | undefined;
  settled: boolean;
  traced?: TracedRequest;
}

type State = 'idle' | 'running' | 'draining' | 'finished';

function emptyCounts(): OutcomeCounts {
  return { sent: 0, ok: 0, error: 0, timeout: 0, dropped: 0 };
}

function checkSpec(spec: LoadSpec): void {
  const bad = (field: string, message: string, hint: string): LabError =>
    new LabError(Errors.InvalidField, message, { hint, location: { file: '<workload>', field } });
  checkRate(spec.rate);
  if (!(spec.timeoutMs > 0)) throw bad('timeoutMs', `timeout must be > 0 ms, got ${spec.timeoutMs}`, 'Give the request timeout, e.g. 2s.');
  if (!Number.isInteger(spec.maxInFlight) || spec.maxInFlight < 1) {
    throw bad('maxInFlight', `maxInFlight must be a positive integer, got ${spec.maxInFlight}`, 'Bound outstanding requests, e.g. 256.');
  }
  if (!(spec.durationMs > 0) || !Number.isFinite(spec.durationMs)) {
    throw bad('durationMs', `duration must be a finite number > 0 ms, got ${spec.durationMs}`, 'Every load loop is bounded in time.');
  }
}

export class LoadGenerator implements LoadControl {
  readonly done: Promise<LoadSummary>;
  private resolveDone!: (s: LoadSummary) => void;
  private rejectDone!: (e: unknown) => void;

  private state: State = 'idle';
  private readonly schedule: ArrivalSchedule;
  private readonly renderPath: ((seq: number, key: number) => string)[];
  private readonly renderBody: (((seq: number, key: number) => string) | undefined)[];
  private readonly valueKinds: ('seq' | 'key' | 'none')[];
  private readonly indeterminate: Set<number>;
  private sender: HttpSender | undefined;
  private send: Sender | undefined;
  private historyRecorder: HistoryRecorder | undefined;

  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Insertion-ordered, hence ordered by deadline: one timer watches the oldest instead of a timer per request. */
  private readonly inFlight = new Set<InFlight>();
  private timeoutTimer: NodeJS.Timeout | undefined;
  /**
   * One AbortController per tick, shared by the requests sent in it: they share one deadline, so they time out
   * together, and aborting a request that already answered is a no-op. A controller per request cost more
   * than the rest of the dispatch path together.
   */
  private batchController: AbortController | undefined;
  private issueEndMs = 0;
  private lastSendMs = 0;
  private failure: unknown;

  private readonly totals = emptyCounts();
  private readonly byOp: Record<string, OutcomeCounts> = {};
  private cancelled = 0;
  private readonly latency = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();

  constructor(
    private readonly spec: LoadSpec,
    private readonly hooks: LoadHooks = {},
    private readonly options: LoadGeneratorOptions = {},
  ) {
    checkSpec(spec);
    this.schedule = new ArrivalSchedule(spec);
    this.renderPath = spec.operations.map((o) => compileTemplate(o.path));
    this.renderBody = spec.operations.map((o) => (o.body === undefined ? undefined : compileTemplate(o.body)));
    this.valueKinds = spec.operations.map(valueKind);
    this.indeterminate = new Set(spec.indeterminateStatuses ?? DEFAULT_INDETERMINATE);
    for (const o of spec.operations) this.byOp[o.name] = emptyCounts();
    this.done = new Promise<LoadSummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only uses stop() still sees failures there; this keeps an unawaited `done` from crashing Node.
    this.done.catch(() => undefined);
  }

  /** The run's history when `recordHistory` is on (available from start()). */
  get history(): HistoryRecorder | undefined {
    return this.historyRecorder;
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.state !== 'idle') throw new Error('LoadGenerator.start() called twice');
    this.state = 'running';
    if (this.options.send) this.send = this.options.send;
    else {
      const make = this.options.client === 'node' ? createNodeHttpSender : createRawHttpSender;
      this.sender = make({ maxSockets: this.spec.maxInFlight });
      this.send = this.sender.send;
    }
    if (this.spec.recordHistory) this.historyRecorder = new HistoryRecorder();
    this.t0 = performance.now();
    this.tick();
  }

  /** Ramps linearly from the current rate to `rate` req/s over `rampMs`, starting now. */
  setRate(rate: number, rampMs: number): void {
    this.schedule.setRate(this.state === 'idle' ? 0 : this.elapsed(), rate, rampMs);
    if (this.state === 'running') this.wake(0);
  }

  setWeights(weights: Record<string, number>): void {
    this.schedule.setWeights(weights);
  }

  /** Stops issuing, cancels outstanding requests, and resolves the summary. */
  stop(): Promise<LoadSummary> {
    if (this.state === 'idle') {
      this.state = 'finished';
      void this.finish();
      return this.done;
    }
    if (this.state === 'running') this.endIssuing(Math.min(this.elapsed(), this.spec.durationMs));
    if (this.state === 'draining') {
      const now = this.elapsed();
      for (const f of [...this.inFlight]) {
        this.cancelled++;
        this.settle(f, 'timeout', now, undefined, 'info', 'cancelled');
      }
      this.maybeFinish();
    }
    return this.done;
  }

  private elapsed(): number {
    return performance.now() - this.t0;
  }

  private wake(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const run = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      this.tick();
    };
    // Only a backlog (delay 0) yields with setImmediate. Sub-millisecond waits use a 1 ms timer rather than
    // spinning: at 500 req/s spinning burned a third of a core that the toy cluster needs, for ≤ 1 ms of
    // send lag, which the latency (counted from the scheduled time) reports anyway.
    if (delayMs <= 0) this.immediate = setImmediate(run);
    else this.timer = setTimeout(run, Math.max(1, Math.floor(delayMs)));
  }

  private tick(): void {
    if (this.state !== 'running') return;
    const now = this.elapsed();
    const end = this.spec.durationMs;
    this.batchController = undefined;
    let n = 0;
    for (; n < MAX_BATCH; n++) {
      const at = this.schedule.peekTime();
      if (at > now || at >= end) break;
      this.dispatch(this.schedule.take(), now);
      if (this.state !== 'running') return; // an onResult hook called stop()
    }
    if (n === MAX_BATCH) return this.wake(0);
    const next = this.schedule.peekTime();
    if (next < end) return this.wake(next - now);
    if (now >= end) return this.endIssuing(end);
    this.wake(end - now);
  }

  private dispatch(a: Arrival, now: number): void {
    const name = a.op.name;
    const stats = this.byOp[name]!;
    const kind = this.valueKinds[a.opIndex]!;
    const value: HistoryValue = kind === 'seq' ? a.seq : kind === 'key' ? a.key : null;
    if (this.inFlight.size >= this.spec.maxInFlight) {
      this.totals.dropped++;
      stats.dropped++;
      if (this.hooks.onResult) {
        const r: RequestResult = { op: name, outcome: 'dropped', latencyMs: 0, scheduledAtMs: a.atMs };
        if (value !== null) r.value = String(value);
        this.emit(r);
      }
      return;
    }
    this.totals.sent++;
    stats.sent++;
    this.lastSendMs = now;
    this.sendLag.record(now - a.atMs);
    const render = this.renderBody[a.opIndex];
    const req: OutgoingRequest = {
      op: name,
      method: a.op.method,
      target: a.target,
      path: this.renderPath[a.opIndex]!(a.seq, a.key),
      seq: a.seq,
      key: a.key,
    };
    if (render) req.body = render(a.seq, a.key);
    const tracing = this.options.tracing;
    const traced = tracing?.sampled(a.seq) ? tracing.start(req, now - a.atMs) : undefined;
    if (traced) req.traceparent = traced.traceparent;
    let controller = this.batchController;
    if (!controller) {
      controller = this.batchController = new AbortController();
      setMaxListeners(MAX_BATCH + 1, controller.signal);
    }
    const f: InFlight = {
      arrival: a,
      value,
      controller,
      inv: this.historyRecorder?.invoke(name, value),
      settled: false,
      deadline: now + this.spec.timeoutMs,
    };
    if (traced) f.traced = traced;
    this.inFlight.add(f);
    if (!this.timeoutTimer) this.armTimeouts(this.spec.timeoutMs);
    let pending: Promise<SendResponse>;
    try {
      pending = this.send!(req, controller.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (res) => this.onResponse(f, res),
      (err: unknown) => this.settle(f, 'error', this.elapsed(), undefined, wasNotSent(err) ? 'fail' : 'info', errorLabel(err)),
    );
  }

  private onResponse(f: InFlight, res: SendResponse): void {
    const s = res.status;
    const outcome = s >= 200 && s < 400 ? 'ok' : 'error';
    // 3xx is not followed: whether the write happened elsewhere is unknown.
    const type = s >= 200 && s < 300 ? 'ok' : s >= 400 && !this.indeterminate.has(s) ? 'fail' : 'info';
    this.settle(f, outcome, this.elapsed(), res, type, type === 'ok' ? undefined : `status ${s}`);
  }

  private settle(
    f: InFlight,
    outcome: Exclude<Outcome, 'dropped'>,
    now: number,
    res: SendResponse | undefined,
    historyType: 'ok' | 'fail' | 'info',
    error: string | undefined,
  ): void {
    if (f.settled) return;
    f.settled = true;
    this.inFlight.delete(f);
    // The sender may not have noticed yet; tell it to give up (a no-op once it answered).
    if (outcome === 'timeout') f.controller.abort(error);
    if (f.inv) this.historyRecorder!.complete(f.inv, historyType, error === undefined ? {} : { error });
    f.traced?.end(outcome, res?.status, error);
    const a = f.arrival;
    const latencyMs = now - a.atMs;
    this.totals[outcome]++;
    this.byOp[a.op.name]![outcome]++;
    if (outcome === 'ok') this.latency.record(latencyMs);
    if (this.hooks.onResult) {
      const r: RequestResult = { op: a.op.name, outcome, latencyMs, scheduledAtMs: a.atMs };
      if (res) {
        r.status = res.status;
        if (res.body !== undefined) r.body = res.body;
      }
      if (f.value !== null) r.value = String(f.value);
      this.emit(r);
    }
    this.maybeFinish();
  }

  private armTimeouts(delayMs: number): void {
    this.timeoutTimer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(delayMs)));
  }

  private expire(): void {
    this.timeoutTimer = undefined;
    const now = this.elapsed();
    for (const f of this.inFlight) {
      if (f.deadline > now) return this.armTimeouts(f.deadline - now);
      this.settle(f, 'timeout', now, undefined, 'info', 'timeout');
    }
  }

  private emit(r: RequestResult): void {
    const hook = this.hooks.onResult;
    if (!hook) return;
    try {
      hook(r);
    } catch (err) {
      // A broken consumer must not pass unnoticed: stop the run and reject with the cause.
      if (this.failure === undefined) {
        this.failure = new LabError(Errors.WorkloadFailed, `the onResult hook threw: ${errorLabel(err)}`, {
          hint: 'This is a bug in the code consuming load results.',
          cause: err,
        });
        queueMicrotask(() => void this.stop());
      }
    }
  }

  private endIssuing(windowEndMs: number): void {
    if (this.state !== 'running') return;
    this.state = 'draining';
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.issueEndMs = windowEndMs;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.state !== 'draining' || this.inFlight.size > 0) return;
    this.state = 'finished';
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    void this.finish();
  }

  private async finish(): Promise<void> {
    try {
      await this.sender?.close();
    } catch {
      // Closing idle sockets cannot lose results; ignore.
    }
    if (this.failure !== undefined) return this.rejectDone(this.failure);
    this.resolveDone(this.summary());
  }

  private summary(): LoadSummary {
    const askedWindow = this.issueEndMs;
    const window = Math.max(askedWindow, this.lastSendMs);
    const perSecond = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
    return {
      ...this.totals,
      cancelled: this.cancelled,
      askedRate: perSecond(this.schedule.expectedArrivals(askedWindow), askedWindow),
      achievedRate: perSecond(this.totals.sent, window),
      durationMs: window,
      byOp: this.byOp,
      latencyMs: this.latency.percentiles(),
      sendLagMs: this.sendLag.percentiles(),
      seed: this.spec.seed,
    };
  }
}
