/**
 * The run's one event stream. The runner says what happened once (`events.emit`); the journal, tracing, the lab's
 * metrics, the terminal, JUnit and the HTML report are subscribers (vitest's reporters, Chaos Toolkit's run event
 * handlers: every handler optional). A subscriber that throws, rejects or hangs is recorded in the journal as a
 * `subscriber-error` event and never breaks or stalls the run.
 *
 * Event kinds and field names are the journal's on-disk format (journal.json, journal.jsonl): keep them stable, add
 * fields rather than rename them, so `chaoslab report` still rebuilds old runs.
 */
import type { LinearizabilitySummary } from '../check/linearizability.js';
import type { ForeignItem } from '../fault/proxy-guard.js';
import type { PartName } from './part-watch.js';
import type { Phase } from '../observe/lab-metrics.js';
import type { KeptInfo } from '../runtime/kept.js';
import type { FaultSpec } from '../scenario/plan.js';
import type { TraceSummary } from '../trace/lab-tracing.js';
import type { LoadSummary } from '../workload/load-generator.js';
import type { ClusterUp, LiveStats, Progress } from './reporter.js';
import type { ActionRecord, AssertionResult, LoadAverages, RunEnvironment, RunResult, VariantResult } from './result.js';
import type { JournalRecord } from './journal.js';

export interface ErrorFields {
  code: string;
  message: string;
  hint?: string;
}

// Fields are flattened into object types (not interfaces), so each record is assignable to the loose
// `StoredJournalRecord` that readers of old run folders use.
type Fields<T> = { [K in keyof T]: T[K] };
type Of<K extends string, F = object> = { kind: K } & Fields<F>;
type InVariant<K extends string, F = object> = { kind: K; variant: string } & Fields<F>;

/** What the journal records: kinds and fields as they are on disk. */
export type JournalEvent =
  | Of<'run-start', { scenario: string; title: string; seed: number; control: boolean; variants: string[]; command: string; runDir: string }>
  | Of<'environment', RunEnvironment>
  | Of<'part-started', { part: 'runtime'; runtime: string; description: string }>
  | Of<'part-started', { part: 'toxiproxy' | 'prometheus'; url: string; pid: number }>
  | Of<'part-started', { part: 'lab-metrics'; address: string }>
  | ({ kind: 'traces' } & Fields<TraceSummary>)
  | InVariant<'variant-start', { expect: VariantResult['expect']; mitigations: string[]; params: VariantResult['params']; control: boolean }>
  | InVariant<'host-load', { when: 'start' | 'end'; loadavg: LoadAverages }>
  | InVariant<'phase', { phase: Phase }>
  | InVariant<'node-started', { node: string; pid?: number | undefined }>
  | InVariant<'node-healthy', { node: string; readyMs: number }>
  | InVariant<'cluster-up', { nodes: { name: string; pid?: number | undefined; address: string }[]; proxies: Record<string, string> }>
  | InVariant<'load-start', { t0: number; rate: number; targets: string[] }>
  | InVariant<'load-change', { step: string; action: 'apply' | 'heal'; rate: number; scheduledMs: number; actualMs: number }>
  // Written before the fault is applied: a crash mid-apply still shows what was attempted.
  | InVariant<'fault-apply', { step: string; fault: FaultSpec; description: string; scheduledMs: number }>
  /** `observed`: what the apply measured, e.g. a clock fault's `offsetSeenMs` (the offset the node reported) and `seenAfterMs`. */
  | InVariant<'fault-applied', { step: string; scheduledMs: number; actualMs: number; skewMs: number; description: string; faultType: string; targets: string[]; observed?: Record<string, number> }>
  | InVariant<'fault-heal', { step: string; scheduledMs: number }>
  /** `final`: healed in the variant's teardown (no scheduled time). */
  | InVariant<'fault-healed', { step: string; scheduledMs?: number; actualMs?: number; skewMs?: number; final?: true; description: string; faultType: string; targets: string[] }>
  | InVariant<'fault-error', { step: string; action: 'apply' | 'heal'; error: ErrorFields; description?: string; skewMs?: number }>
  /** A `scale` step (scale-step.ts): the group's size went `from` → `to`; `started`/`stopped` name the instances. */
  | InVariant<'scale', { step: string; action: 'apply' | 'heal'; group: string; from: number; to: number; scheduledMs: number; actualMs: number; started: string[]; stopped: string[]; readyMs: number; error?: ErrorFields }>
  // An operator action (action-step.ts): written before the call, and with what each instance answered.
  | InVariant<'action-start', { step: string; description: string; targets: string[]; scheduledMs: number }>
  | InVariant<'action-end', { step: string; description: string; scheduledMs: number; actualMs: number; skewMs: number; durationMs: number; ok: boolean; calls: ActionRecord['calls']; error?: string }>
  | InVariant<'load-end', { summary: LoadSummary }>
  | InVariant<'checker', { checker: 'set' } & Record<'lost' | 'unexpected' | 'recovered' | 'acked' | 'attempted' | 'read', number> & { valid: boolean }>
  | InVariant<'checker', LinearizabilitySummary & { checker: 'linearizable' }>
  | InVariant<'checker-error', { checker: 'set' | 'linearizable'; error: string }>
  | InVariant<'assertion', Omit<AssertionResult, 'series'>>
  | InVariant<'cluster-down', { stopMs: number }>
  | InVariant<'variant-end', { passed: boolean; status: VariantResult['status'] }>
  /** A node ended without being told to (run-hardening's watcher). */
  | InVariant<'node-exited', { node: string; pid?: number; code: number | null; signal: string | null; atMs: number; /** The scenario allows it (`mayDie`): recorded, not a failure. */ mayDie: boolean }>
  /** A real part broke while the variant ran (part-watch.ts): a process or container exited, or the load generator failed. */
  | InVariant<'part-failed', { part: PartName; atMs: number; code?: number | null; signal?: string | null; error?: string }>
  /** A proxy or toxic the lab did not make was found in Toxiproxy and removed (proxy-guard.ts). */
  | InVariant<'foreign-removed', ForeignItem & { when: string }>
  /** A game day's action (src/gameday): a team's declare/mitigate/…, or the facilitator's hint/curveball; `atMs` since the load's start. */
  | InVariant<'gameday', { action: string; by: 'team' | 'facilitator' | 'lab'; text: string; atMs: number; ok: boolean; detail?: string }>
  | Of<'error', { variant?: string; error: ErrorFields; /** `teardown`: a part that failed to stop. */ during?: 'teardown' }>
  | Of<'kept', KeptInfo>
  | Of<'parts-stopped', { stopMs: number }>
  | Of<'interrupted'>
  | ({ kind: 'traces-written' } & Fields<TraceSummary>)
  | Of<'run-end', { passed: boolean }>
  /** A subscriber threw, rejected or did not settle in time; the run went on. */
  | Of<'subscriber-error', { subscriber: string; event: string; error: string; timedOut?: true }>;

/** What only the live view and the report writers need: not journaled. */
export type LiveEvent =
  | Of<'message', { line: string }>
  /** `progress: null`: the step is done. */
  | Of<'progress', { progress: Progress | null }>
  | Of<'tick', { stats: LiveStats }>
  /** Nodes healthy and Prometheus answers: where to point tools. */
  | Of<'cluster-ready', { info: ClusterUp }>
  | Of<'variant-result', { result: VariantResult }>
  /** The run's outcome, after result.json is written: the report writers and the terminal's summary. */
  | Of<'run-result', { result: RunResult }>;

export type RunEvent = JournalEvent | LiveEvent;
export type RunEventKind = RunEvent['kind'];
export type RunEventOf<K extends RunEventKind> = Extract<RunEvent, { kind: K }>;

const LIVE_KINDS = { message: true, progress: true, tick: true, 'cluster-ready': true, 'variant-result': true, 'run-result': true } as const satisfies Record<LiveEvent['kind'], true>;

export function isJournaled(e: RunEvent): e is JournalEvent {
  return !(e.kind in LIVE_KINDS);
}

type Handlers = { [K in RunEventKind]?: (e: RunEventOf<K>) => void | Promise<void> };

/**
 * A run event handler: any subset of per-kind handlers, and `onEvent` for every event (after the per-kind one).
 * A handler may return a promise: the run does not wait for it, only the end of the run does (bounded).
 */
export type RunSubscriber = Handlers & {
  /** Named in `subscriber-error` records. */
  readonly name: string;
  onEvent?(e: RunEvent): void | Promise<void>;
};

export interface RunEventsOptions {
  /** How long the run's end waits for a subscriber's promise before recording it as timed out. */
  timeoutMs?: number;
  /** Injected for tests; returns a cancel function. */
  setTimer?: (ms: number, fire: () => void) => () => void;
}

// Not unref'd: at the run's end, `flush` may be all that keeps the process alive until a hanging subscriber times out.
const realTimer = (ms: number, fire: () => void): (() => void) => {
  const t = setTimeout(fire, ms);
  return () => clearTimeout(t);
};

/** Fans each event out to the subscribers in their order; isolates their failures. */
export class RunEvents {
  private readonly pending = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly setTimer: NonNullable<RunEventsOptions['setTimer']>;

  constructor(
    private readonly subscribers: readonly RunSubscriber[],
    opts: RunEventsOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.setTimer = opts.setTimer ?? realTimer;
  }

  /**
   * Delivers to every subscriber before the next event: an event emitted while one is being delivered (a failure
   * report, or a subscriber emitting) waits its turn, so every subscriber sees the events in one order.
   */
  emit(e: RunEvent): void {
    this.enqueue(e);
  }

  private readonly queue: { e: RunEvent; except?: RunSubscriber }[] = [];
  private delivering = false;

  private enqueue(e: RunEvent, except?: RunSubscriber): void {
    this.queue.push(except ? { e, except } : { e });
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const { e: event, except: skip } = next;
        for (const s of this.subscribers) {
          if (s === skip) continue;
          const handler = (s as Handlers)[event.kind] as ((e: RunEvent) => void | Promise<void>) | undefined;
          if (handler) this.call(s, event, () => handler.call(s, event));
          if (s.onEvent) this.call(s, event, () => s.onEvent!(event));
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Waits for the subscribers' promises, each at most `timeoutMs` from when it started. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private call(s: RunSubscriber, e: RunEvent, f: () => void | Promise<void>): void {
    let out: void | Promise<void>;
    try {
      out = f();
    } catch (err) {
      this.failed(s, e, err);
      return;
    }
    if (!isPromise(out)) return;
    let cancel = (): void => {};
    let done = false;
    const finish = (err?: { error: unknown; timedOut?: boolean }) => {
      if (done) return;
      done = true;
      if (err) this.failed(s, e, err.error, err.timedOut);
    };
    const settled = new Promise<void>((resolve) => {
      cancel = this.setTimer(this.timeoutMs, () => {
        finish({ error: new Error(`did not settle within ${this.timeoutMs} ms`), timedOut: true });
        resolve();
      });
      out.then(
        () => {
          finish();
          resolve();
        },
        (error: unknown) => {
          finish({ error });
          resolve();
        },
      );
    }).finally(() => {
      cancel();
      this.pending.delete(settled);
    });
    this.pending.add(settled);
  }

  private failed(s: RunSubscriber, e: RunEvent, err: unknown, timedOut = false): void {
    // A failure to take the report of a failure is not reported again (no loops).
    if (e.kind === 'subscriber-error') return;
    const record: RunEvent = { kind: 'subscriber-error', subscriber: s.name, event: e.kind, error: err instanceof Error ? err.message : String(err), ...(timedOut ? { timedOut: true as const } : {}) };
    // To every subscriber but the one that failed (the journal records it).
    this.enqueue(record, s);
  }
}

function isPromise(v: unknown): v is Promise<void> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/** What an injected subscriber may know of its run when it is made. */
export interface SubscriberContext {
  runDir: string;
  /** The journal's records so far. */
  records(): readonly JournalRecord[];
}

export type SubscriberFactory = (ctx: SubscriberContext) => RunSubscriber;
