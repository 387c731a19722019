/** `restart`: nodes are stopped and started again at once (instantaneous: no `for`, nothing to heal). */
import { z } from 'zod';
import { Errors } from '../../errors/catalog.js';
import { nodeClaims, runningNodes, Selector, type FaultKind } from '../fault-kind.js';

export interface RestartSpec {
  type: 'restart';
  nodes: string[];
}

const schema = z.strictObject({
  type: z.literal('restart').describe('Restart nodes (stop, start, wait until healthy); takes no `for`.'),
  nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
});

export const restart = {
  schema,
  instant: true,
  resolve(f, ctx) {
    const spec: RestartSpec = { type: 'restart', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']) };
    if (ctx.forMs !== undefined) {
      ctx.problem(['for'], 'a restart is instantaneous and takes no `for`', 'remove `for`, or use `kill` with `for` to keep a node down for a while', Errors.InvalidField);
    }
    return spec;
  },
  describe: (s) => `restart ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => nodeClaims(s.nodes),
  async apply(s, ctx) {
    const nodes = runningNodes(s.nodes, ctx);
    await Promise.all(nodes.map((n) => n.restart()));
    return async () => {};
  },
} satisfies FaultKind<typeof schema, RestartSpec>;
