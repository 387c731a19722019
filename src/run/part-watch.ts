/**
 * Watches every node and every part of the lab (Toxiproxy, Prometheus, the load generator) while a variant runs.
 * A death the timeline did not schedule must never pass unnoticed: a killed backend once hid behind the frontend's
 * fallback and the run passed, and a dead Prometheus read as "no data". An exit is scheduled while a `kill` or
 * `restart` step holds it (`expectExit`); any other exit is an event, and, unless the scenario lists the node under
 * `mayDie`, the variant's part failure: `signal` aborts with the `LabError` (exit 3, naming the node or part).
 *
 * Nodes are polled (their runtimes keep `exitStatus` current, process or container alike); parts report through a
 * promise that settles when they fail. The clock is injected so tests need no real waiting.
 */
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { ErrorData } from '../errors/lab-error.js';
import type { ExitStatus, StartedNode } from '../runtime/runtime.js';
import type { FaultSpec } from '../scenario/plan.js';

export const PART_ERRORS = {
  Toxiproxy: Errors.ToxiproxyFailed,
  Prometheus: Errors.PrometheusFailed,
  'load generator': Errors.WorkloadFailed,
} as const satisfies Record<string, ErrorData>;
export type PartName = keyof typeof PART_ERRORS;

/** How a part ended: an exit (a process or container) or an error (the in-process load generator). */
export interface PartEnd {
  code?: number | null;
  signal?: NodeJS.Signals | null;
  error?: string;
}

export interface WatchedPart {
  name: PartName;
  /** Resolves when, and only when, the part has failed (exited, or rejected). */
  failed: Promise<PartEnd>;
  /** Where to look, for the hint (e.g. its log file). */
  log?: string;
}

export type WatchedNode = Pick<StartedNode, 'name' | 'pid' | 'exitStatus'>;

export type WatchEvent =
  | { kind: 'node-exited'; node: string; pid?: number; code: number | null; signal: NodeJS.Signals | null; atMs: number; mayDie: boolean }
  | ({ kind: 'part-failed'; part: PartName; atMs: number } & PartEnd);

export interface WatchClock {
  /** Milliseconds since the variant's t0 (the load's start). */
  now(): number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

export function realWatchClock(t0: number): WatchClock {
  return {
    now: () => performance.now() - t0,
    every(ms, tick) {
      const t = setInterval(tick, ms);
      return () => clearInterval(t);
    },
  };
}

export interface PartWatchOptions {
  variant: string;
  nodes: Iterable<WatchedNode>;
  parts: WatchedPart[];
  /** Node instance names the scenario allows to die (`mayDie`): their exits are events, not failures. */
  mayDie?: ReadonlySet<string>;
  clock: WatchClock;
  /** Default 100 ms. */
  intervalMs?: number;
  /** A node's log file, for the hint. */
  logOf?: (node: string) => string;
  /** Every unscheduled exit, allowed or not (journal and terminal). */
  onEvent?: (e: WatchEvent) => void;
}

export interface PartWatch {
  /** Aborts, with the `LabError` as reason, at the first unscheduled death. */
  readonly signal: AbortSignal;
  readonly failure: LabError | undefined;
  /** A `kill`/`restart` step schedules these nodes' exits until the returned release is called (once). */
  expectExit(nodes: readonly string[]): () => void;
  /** Stops watching (before the lab itself stops what it watches); returns the first failure, if any. */
  stop(): LabError | undefined;
  /** Watches a node started during the variant (a `scale` step). */
  add(node: WatchedNode): void;
  /** Stops watching a node the lab is about to stop for good (a `scale` step): its exit is not a death. */
  remove(name: string): void;
}

/** The nodes whose exit a fault step schedules. */
export function scheduledExits(fault: FaultSpec): string[] {
  return fault.type === 'kill' || fault.type === 'restart' ? fault.nodes : [];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function describeEnd(e: PartEnd): string {
  if (e.error !== undefined) return e.error;
  return e.signal ? `signal ${e.signal}` : `code ${e.code ?? 'unknown'}`;
}

/** One terminal line per event. */
export function describeWatchEvent(e: WatchEvent, variant: string): string {
  if (e.kind === 'node-exited') {
    return `node ${e.node} exited (${describeEnd(e)}) ${seconds(e.atMs)} into variant ${variant}, not scheduled by the timeline${e.mayDie ? ' (the scenario allows it: mayDie)' : ''}`;
  }
  return `${e.part} ${e.error !== undefined ? `failed: ${e.error}` : `exited (${describeEnd(e)})`} ${seconds(e.atMs)} into variant ${variant}`;
}

export function startPartWatch(opts: PartWatchOptions): PartWatch {
  const abort = new AbortController();
  const expected = new Map<string, number>();
  // The exit already reported per node: each incarnation's death is reported once.
  const reported = new Map<string, ExitStatus>();
  let nodes = [...opts.nodes];
  let failure: LabError | undefined;
  let stopped = false;

  const fail = (e: LabError) => {
    if (failure) return;
    failure = e;
    abort.abort(e);
  };

  const poll = () => {
    if (stopped) return;
    for (const n of nodes) {
      const st = n.exitStatus;
      if (!st || reported.get(n.name) === st || (expected.get(n.name) ?? 0) > 0) continue;
      reported.set(n.name, st);
      const mayDie = opts.mayDie?.has(n.name) ?? false;
      const event: WatchEvent = { kind: 'node-exited', node: n.name, ...(n.pid !== undefined ? { pid: n.pid } : {}), code: st.code, signal: st.signal, atMs: Math.round(opts.clock.now()), mayDie };
      opts.onEvent?.(event);
      if (!mayDie) {
        fail(
          new LabError(Errors.NodeFailed, `node ${n.name} exited (${describeEnd(st)}) ${seconds(event.atMs)} into variant ${opts.variant}, and the timeline did not schedule it`, {
            hint: `${opts.logOf ? `see ${opts.logOf(n.name)}; ` : ''}a scenario in which this node may die lists it under mayDie`,
          }),
        );
      }
    }
  };
  const cancel = opts.clock.every(opts.intervalMs ?? 100, poll);

  for (const p of opts.parts) {
    void p.failed.then((end) => {
      if (stopped) return;
      const event: WatchEvent = { kind: 'part-failed', part: p.name, atMs: Math.round(opts.clock.now()), ...end };
      opts.onEvent?.(event);
      fail(
        new LabError(PART_ERRORS[p.name], `${describeWatchEvent(event, opts.variant)}; the run stops`, {
          hint: `${p.log ? `see ${p.log}; ` : ''}a verdict without its ${p.name} would rest on missing data`,
        }),
      );
    });
  }

  return {
    signal: abort.signal,
    get failure() {
      return failure;
    },
    expectExit(names) {
      for (const n of names) expected.set(n, (expected.get(n) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const n of names) expected.set(n, (expected.get(n) ?? 1) - 1);
      };
    },
    add(node) {
      nodes.push(node);
      reported.delete(node.name);
    },
    remove(name) {
      nodes = nodes.filter((n) => n.name !== name);
    },
    stop() {
      if (!stopped) {
        // A death in the last interval still counts.
        poll();
        stopped = true;
        cancel();
      }
      return failure;
    },
  };
}

/** A process or container part: failed when it exits (the watch stops before the lab stops it). */
export function exitingPart(name: PartName, exited: Promise<PartEnd>, log?: string): WatchedPart {
  return { name, failed: exited.then((e) => ({ code: e.code ?? null, signal: e.signal ?? null })), ...(log ? { log } : {}) };
}

/** The in-process load generator: failed when its `done` rejects (it resolves when the load simply ends). */
export function loadPart(done: Promise<unknown>): WatchedPart {
  return {
    name: 'load generator',
    failed: done.then(
      () => new Promise<never>(() => {}),
      (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
    ),
  };
}

/**
 * Applies a fault step with its nodes' exits scheduled: a `restart` until it returns, a `kill` until its heal has
 * restarted the node (or failed to: a node still dead then is reported).
 */
export async function withScheduledExits(watch: PartWatch | undefined, fault: FaultSpec, apply: () => Promise<() => Promise<void>>): Promise<() => Promise<void>> {
  const release = watch?.expectExit(scheduledExits(fault)) ?? (() => {});
  let heal: () => Promise<void>;
  try {
    heal = await apply();
  } catch (e) {
    release();
    throw e;
  }
  if (fault.type !== 'kill') {
    release();
    return heal;
  }
  return async () => {
    try {
      await heal();
    } finally {
      release();
    }
  };
}
