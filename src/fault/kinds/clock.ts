/**
 * `clock`: the nodes' wall clocks are offset by `offset`, and/or run fast or slow by `drift`, until the heal, at the
 * OS boundary: each target node runs with libfaketime preloaded (src/runtime/fake-clock.ts), and the fault rewrites
 * its control file (`-3s`; a drift `-0.010000s x1.0005`, the offset taking back the step libfaketime's rate would
 * make; heal `+0`, or `+0 x1` after a drift). Only wall time moves; timers and durations keep real time, as after a
 * bad NTP step or under a clock discipline gone wrong. Any program linked against libc is skewed alike; the node
 * cannot tell that a fault is on.
 */
import { z } from 'zod';
import { formatDuration } from '../../common/duration.js';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { FAKETIME_HEALED_RATE, faketimeDrift, faketimeOffset, processAgeMs } from '../../runtime/fake-clock.js';
import { SignedDuration } from '../../scenario/durations.js';
import { runningNodes, Selector, type ApplyContext, type FaultKind } from '../fault-kind.js';

export interface ClockSpec {
  type: 'clock';
  nodes: string[];
  /** The step at the apply (0 for a drift alone). */
  offsetMs: number;
  /** Parts per million the clock gains (negative: loses) from the apply on. */
  driftPpm?: number;
}

/** The largest drift accepted: 10% (a clock that far off is broken, not drifting; 500 ppm is already 30 ms a minute). */
export const MAX_DRIFT_PPM = 100_000;

const Drift = z
  .string({ error: 'expected a drift like 500ppm or -200ppm' })
  .regex(/^\s*[+-]?\d+(\.\d+)?\s*ppm\s*$/, { error: 'expected a drift like 500ppm or -200ppm' })
  .transform((s) => Number(s.trim().replace(/ppm$/, '').trim()))
  .refine((ppm) => ppm !== 0 && Math.abs(ppm) <= MAX_DRIFT_PPM, { error: `expected a drift other than 0, at most ${MAX_DRIFT_PPM}ppm either way` });

const schema = z
  .strictObject({
    type: z.literal('clock').describe("Offset the nodes' wall clocks for `for`, or make them drift (libfaketime, preloaded into those nodes)."),
    nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
    offset: SignedDuration.optional().describe('A step at the apply: -500ms is behind, +2s ahead.'),
    drift: Drift.optional().describe('A rate from the apply on: 500ppm gains 0.5 ms a second, -200ppm loses 0.2 ms a second. With offset: both.'),
  })
  .refine((f) => f.offset !== undefined || f.drift !== undefined, { error: 'a clock fault needs offset (a step, like -3s), drift (a rate, like 500ppm), or both' });

/** How close the node's reported offset must be to the target (a GET on loopback takes a few ms). */
export const OFFSET_TOLERANCE_MS = 100;
/** How long a node may take to show the new time before the fault fails (libfaketime re-reads on every call). */
export const SEEN_BOUND_MS = 3000;

export interface SeenOffset {
  /** The node's wall clock minus the lab's, measured at the middle of the request. */
  offsetMs: number;
  /** From the file write to the answer that showed it. */
  afterMs: number;
}

/** The node's `GET /admin/clock` (`{now}`: its `Date.now()`); undefined where it has no such route (a user's service). */
async function readOffset(address: string): Promise<number | undefined> {
  const before = Date.now();
  const res = await fetch(`http://${address}/admin/clock`, { signal: AbortSignal.timeout(1000) });
  const after = Date.now();
  if (res.status === 404) return undefined;
  const body = (await res.json().catch(() => undefined)) as { now?: unknown } | undefined;
  if (!res.ok || typeof body?.now !== 'number') return undefined;
  return body.now - (before + after) / 2;
}

/**
 * Polls the node until its wall clock is within the tolerance of `offsetMs`. A node without the route: undefined
 * (the write is all the lab can do). A node that never shows it (the preload did not take): a node failure.
 */
export async function waitForOffset(node: string, address: string, offsetMs: number, opts: { boundMs?: number; written?: number } = {}): Promise<SeenOffset | undefined> {
  const written = opts.written ?? performance.now();
  const bound = opts.boundMs ?? SEEN_BOUND_MS;
  let last: number | undefined;
  for (;;) {
    const seen = await readOffset(address).catch(() => NaN);
    if (seen === undefined) return undefined;
    const afterMs = performance.now() - written;
    if (!Number.isNaN(seen)) {
      last = seen;
      if (Math.abs(seen - offsetMs) <= OFFSET_TOLERANCE_MS) return { offsetMs: Math.round(seen), afterMs: Math.round(afterMs * 10) / 10 };
    }
    if (afterMs > bound) {
      throw new LabError(Errors.NodeFailed, `node ${node} did not take the clock offset ${offsetMs} ms within ${bound} ms (it reports ${last === undefined ? 'nothing' : `${Math.round(last)} ms`})`, {
        hint: 'the node must be dynamically linked against libc for libfaketime to reach it; see its log in the run folder',
      });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The control text for a node at the apply: a plain offset, or with a drift the offset that takes back libfaketime's step. */
function controlText(name: string, s: ClockSpec, ctx: ApplyContext): string | undefined {
  if (s.driftPpm === undefined) return undefined;
  const pid = ctx.nodes.get(name)?.pid;
  const ageMs = pid === undefined ? undefined : processAgeMs(pid);
  if (ageMs === undefined) {
    throw new LabError(Errors.NodeFailed, `node ${name}: a clock drift needs the node's start time (libfaketime's rate counts from it), and /proc does not have it${pid === undefined ? ' (the runtime gives no local pid)' : ` (pid ${pid})`}`, {
      hint: 'drift works with the process runtime and a local Docker engine; use offset (a step) elsewhere',
    });
  }
  return faketimeDrift(s.offsetMs, s.driftPpm, ageMs);
}

async function setClock(nodes: readonly string[], s: ClockSpec, ctx: ApplyContext): Promise<(SeenOffset | undefined)[]> {
  // Every writer and control text first: a node that cannot take the fault stops the apply before anything is
  // written, so no wait is left polling a node whose clock the failed apply then sets back.
  const plan = nodes.map((name) => {
    const write = ctx.clock(name);
    // The runner starts every node a clock fault names with libfaketime (fakeClockNodes): a bug otherwise.
    if (write === undefined) throw new Error(`node ${name} was started without a libfaketime control file`);
    return { name, write, text: controlText(name, s, ctx) ?? faketimeOffset(s.offsetMs) };
  });
  // Every wait settles before the apply judges, so a second failure is never left as an unhandled rejection.
  // `async`: a write that fails (ENOSPC, EACCES, a folder gone, an exec into a pod refused) or an address that cannot
  // be had becomes this node's rejection instead of a throw out of the map, which would leave the waits already
  // started with no listener.
  const settled = await Promise.allSettled(
    plan.map(async ({ name, write, text }) => {
      // From before the write: in Kubernetes the write itself (an exec into the pod) is part of how long it took.
      const written = performance.now();
      await write(text);
      // A drift starts at the step: the node shows the offset at once and drifts from there.
      return waitForOffset(name, ctx.nodeAddress(name), s.offsetMs, { written });
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<SeenOffset | undefined>).value);
}

/** Sets every node back to true time, each whatever another's write did; throws the first failure after all were tried. */
async function heal(nodes: readonly string[], s: ClockSpec, ctx: ApplyContext): Promise<void> {
  const text = s.driftPpm === undefined ? faketimeOffset(0) : FAKETIME_HEALED_RATE;
  const settled = await Promise.allSettled(nodes.map(async (name) => ctx.clock(name)?.(text)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const signed = (n: number, unit: string) => `${n >= 0 ? '+' : '-'}${Math.abs(n)}${unit}`;

export const clock = {
  schema,
  resolve: (f, ctx) => ({ type: 'clock', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']), offsetMs: f.offset ?? 0, ...(f.drift !== undefined ? { driftPpm: f.drift } : {}) }),
  describe: (s) =>
    `clock ${[...(s.driftPpm === undefined || s.offsetMs !== 0 ? [`${s.offsetMs >= 0 ? '+' : '-'}${formatDuration(Math.abs(s.offsetMs))}`] : []), ...(s.driftPpm !== undefined ? [`drift ${signed(s.driftPpm, 'ppm')}`] : [])].join(', ')} on ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => s.nodes.map((n) => `clock:${n}`),
  fakeClockNodes: (s) => s.nodes,
  async apply(s, ctx) {
    runningNodes(s.nodes, ctx); // a stopped node is a node failure, as for every node fault
    try {
      const seen = await setClock(s.nodes, s, ctx);
      // The slowest node sets when the fault is on; its offset as the node reports it goes with it.
      const slowest = seen.reduce<SeenOffset | undefined>((a, b) => (b && (!a || b.afterMs > a.afterMs) ? b : a), undefined);
      if (slowest) ctx.observe({ offsetSeenMs: slowest.offsetMs, seenAfterMs: slowest.afterMs });
    } catch (e) {
      // The apply's own failure is what the step reports; a heal that fails too leaves nothing worse to say.
      await heal(s.nodes, s, ctx).catch(() => undefined);
      throw e;
    }
    // The heal only writes: a node killed meanwhile starts again with the file as it is, as a real clock would
    // (after a drift's heal, `+0 x1`: true time); a pod started later is given the file's text (Kubernetes runtime).
    return () => heal(s.nodes, s, ctx);
  },
} satisfies FaultKind<typeof schema, ClockSpec>;
