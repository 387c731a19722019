/**
 * `clock`: the nodes' wall clocks are offset by `offset` until the heal. Today through the toys' own
 * `POST /admin/clock` (toys/lib/toy-node.ts); issue 12 moves it to libfaketime, here only.
 */
import { z } from 'zod';
import { formatDuration } from '../../common/duration.js';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { SignedDuration } from '../../scenario/durations.js';
import { runningNodes, Selector, type ApplyContext, type FaultKind } from '../fault-kind.js';

export interface ClockSpec {
  type: 'clock';
  nodes: string[];
  offsetMs: number;
}

const schema = z.strictObject({
  type: z.literal('clock').describe("Offset the nodes' wall clocks for `for`."),
  nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
  offset: SignedDuration.describe('How far the clocks are moved: -500ms is behind, +2s ahead.'),
});

async function setOffset(nodes: readonly string[], offsetMs: number, ctx: ApplyContext): Promise<void> {
  await Promise.all(
    nodes.map(async (name) => {
      const res = await fetch(`http://${ctx.nodeAddress(name)}/admin/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offsetMs }),
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) throw new LabError(Errors.NodeFailed, `node ${name} refused the clock offset (HTTP ${res.status})`, { hint: 'the toy must serve POST /admin/clock (toys/lib/toy-node.ts)' });
    }),
  );
}

export const clock = {
  schema,
  resolve: (f, ctx) => ({ type: 'clock', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']), offsetMs: f.offset }),
  describe: (s) => `clock ${s.offsetMs >= 0 ? '+' : '-'}${formatDuration(Math.abs(s.offsetMs))} on ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => s.nodes.map((n) => `clock:${n}`),
  async apply(s, ctx) {
    runningNodes(s.nodes, ctx); // a stopped node is a node failure, as for every node fault
    await setOffset(s.nodes, s.offsetMs, ctx);
    return () => setOffset(s.nodes, 0, ctx);
  },
} satisfies FaultKind<typeof schema, ClockSpec>;
