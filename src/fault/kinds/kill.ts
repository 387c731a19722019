/** `kill`: nodes are killed; with `for`, they are restarted after it (the heal). */
import { z } from 'zod';
import { nodeClaims, runningNodes, Selector, type FaultKind } from '../fault-kind.js';

export interface KillSpec {
  type: 'kill';
  nodes: string[];
  signal: 'SIGKILL' | 'SIGTERM';
}

const schema = z.strictObject({
  type: z.literal('kill').describe('Kill nodes; with `for`, they are started again after it.'),
  nodes: Selector.describe('The nodes: instance names (broker-1) or groups (broker), a list, or * globs.'),
  signal: z.enum(['SIGKILL', 'SIGTERM']).default('SIGKILL').describe('SIGKILL (default): no chance to clean up; SIGTERM: a graceful stop.'),
});

export const kill = {
  schema,
  resolve: (f, ctx) => ({ type: 'kill', nodes: ctx.pickNodes(f.nodes, ['fault', 'nodes']), signal: f.signal }),
  describe: (s) => `kill (${s.signal}) ${s.nodes.join(', ')}`,
  targets: (s) => s.nodes,
  claims: (s) => nodeClaims(s.nodes),
  async apply(s, ctx) {
    const nodes = runningNodes(s.nodes, ctx);
    await Promise.all(nodes.map((n) => n.kill(s.signal)));
    return async () => {
      await Promise.all(nodes.map((n) => n.restart()));
    };
  },
} satisfies FaultKind<typeof schema, KillSpec>;
