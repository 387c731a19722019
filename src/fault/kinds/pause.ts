/** `pause`: nodes are frozen (SIGSTOP) with their sockets open for `for`, then resumed (SIGCONT). */
import { z } from 'zod';
import { Errors } from '../../errors/catalog.js';
import { nodeClaims, runningNodes, Selector, type FaultKind } from '../fault-kind.js';

export interface PauseSpec {
  type: 'pause';
  nodes: string[];
}

const schema = z.strictObject({
  type: z.literal('pause').describe('Freeze nodes (SIGSTOP) for `for`, then resume them (SIGCONT): a GC pause, a hung VM.'),
  nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
});

export const pause = {
  schema,
  resolve(f, ctx) {
    const spec: PauseSpec = { type: 'pause', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']) };
    if (ctx.forMs === undefined) ctx.problem([], 'a pause needs `for` (how long the node stays paused)', 'add for: 10s', Errors.InvalidField);
    return spec;
  },
  describe: (s) => `pause ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => nodeClaims(s.nodes),
  async apply(s, ctx) {
    const nodes = runningNodes(s.nodes, ctx);
    await Promise.all(nodes.map((n) => n.pause()));
    return async () => {
      await Promise.all(nodes.map((n) => n.resume()));
    };
  },
} satisfies FaultKind<typeof schema, PauseSpec>;
