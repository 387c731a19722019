/**
 * `clock`: the nodes' wall clocks are offset by `offset` until the heal, at the OS boundary: each target node runs
 * with libfaketime preloaded (src/runtime/fake-clock.ts), and the fault rewrites its control file (`-3s`, heal `+0`).
 * Only wall time moves; timers and durations keep real time, as after a bad NTP step. Any program linked against
 * libc is skewed alike; the node cannot tell that a fault is on.
 */
import { z } from 'zod';
import { formatDuration } from '../../common/duration.js';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { writeClockOffset } from '../../runtime/fake-clock.js';
import { SignedDuration } from '../../scenario/durations.js';
import { runningNodes, Selector, type ApplyContext, type FaultKind } from '../fault-kind.js';

export interface ClockSpec {
  type: 'clock';
  nodes: string[];
  offsetMs: number;
}

const schema = z.strictObject({
  type: z.literal('clock').describe("Offset the nodes' wall clocks for `for` (libfaketime, preloaded into those nodes)."),
  nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
  offset: SignedDuration.describe('How far the clocks are moved: -500ms is behind, +2s ahead.'),
});

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

async function setOffset(nodes: readonly string[], offsetMs: number, ctx: ApplyContext): Promise<(SeenOffset | undefined)[]> {
  return Promise.all(
    nodes.map((name) => {
      const file = ctx.clockFile(name);
      // The runner starts every node a clock fault names with a control file (fakeClockNodes): a bug otherwise.
      if (file === undefined) throw new Error(`node ${name} was started without a libfaketime control file`);
      const written = performance.now();
      writeClockOffset(file, offsetMs);
      return waitForOffset(name, ctx.nodeAddress(name), offsetMs, { written });
    }),
  );
}

export const clock = {
  schema,
  resolve: (f, ctx) => ({ type: 'clock', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']), offsetMs: f.offset }),
  describe: (s) => `clock ${s.offsetMs >= 0 ? '+' : '-'}${formatDuration(Math.abs(s.offsetMs))} on ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => s.nodes.map((n) => `clock:${n}`),
  fakeClockNodes: (s) => s.nodes,
  async apply(s, ctx) {
    runningNodes(s.nodes, ctx); // a stopped node is a node failure, as for every node fault
    try {
      const seen = await setOffset(s.nodes, s.offsetMs, ctx);
      // The slowest node sets when the fault is on; its offset as the node reports it goes with it.
      const slowest = seen.reduce<SeenOffset | undefined>((a, b) => (b && (!a || b.afterMs > a.afterMs) ? b : a), undefined);
      if (slowest) ctx.observe({ offsetSeenMs: slowest.offsetMs, seenAfterMs: slowest.afterMs });
    } catch (e) {
      await setOffset(s.nodes, 0, ctx).catch(() => undefined);
      throw e;
    }
    // The heal only writes: a node killed meanwhile starts again with the file as it is (+0), as a real clock would.
    return async () => {
      for (const name of s.nodes) writeClockOffset(ctx.clockFile(name)!, 0);
    };
  },
} satisfies FaultKind<typeof schema, ClockSpec>;
