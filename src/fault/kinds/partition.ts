/**
 * `partition`: every proxied link between two groups of nodes is cut, as a black hole (silent drop) or
 * down (refused). The cut is computed here only: `partitionCut`.
 */
import { z } from 'zod';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { Selector, type FaultKind, type LinkInfo } from '../fault-kind.js';
import { addToxics, disableProxies, linkClaims } from '../toxics.js';

export interface PartitionSpec {
  type: 'partition';
  groups: string[][];
  oneWay: boolean;
  mode: 'blackhole' | 'down';
}

/**
 * The links a partition cuts. A link is cut when its ends lie in different groups; with `oneWay`, only
 * links from groups[0] to another group. Nodes in no group keep all their links.
 */
export function partitionCut(groups: readonly (readonly string[])[], oneWay: boolean, links: readonly LinkInfo[]): LinkInfo[] {
  const groupOf = new Map<string, number>();
  groups.forEach((members, i) => {
    for (const node of members) {
      const seen = groupOf.get(node);
      if (seen !== undefined && seen !== i) {
        throw new LabError(Errors.InvalidScenario, `partition: node "${node}" is in groups ${seen} and ${i}`, {
          hint: 'each node may be in one partition group only',
        });
      }
      groupOf.set(node, i);
    }
  });
  return links.filter((l) => {
    const from = groupOf.get(l.from);
    const to = groupOf.get(l.to);
    if (from === undefined || to === undefined || from === to) return false;
    return oneWay ? from === 0 : true;
  });
}

const NO_CUT_HINT = 'partition groups must name node instances that have proxied links between them';

const schema = z.strictObject({
  type: z.literal('partition').describe('Cut every proxied link between groups of nodes.'),
  groups: z
    .array(Selector.describe('One side: node instances or groups, a list, or * globs; `client` is the load generator.'))
    .min(2)
    .describe('Two or more groups of nodes; every link from a node of one group to a node of another is cut.'),
  oneWay: z.boolean().default(false).describe('Cut only the links leaving the first group (default false: both ways).'),
  mode: z
    .enum(['blackhole', 'down'])
    .default('blackhole')
    .describe('blackhole (default): data silently dropped, connects still succeed; down: connections refused.'),
});

export const partition = {
  schema,
  resolve(f, ctx) {
    const groups = f.groups.map((g, gi) => ctx.pickNodes(g, ['fault', 'groups', gi], { client: true }));
    const seen = new Set<string>();
    let twice = false;
    for (const n of groups.flat()) {
      if (seen.has(n)) {
        twice = true;
        ctx.problem(['fault', 'groups'], `node "${n}" is in two partition groups`, 'each node may be on one side only');
      }
      seen.add(n);
    }
    const spec: PartitionSpec = { type: 'partition', groups, oneWay: f.oneWay, mode: f.mode };
    // A partition that cuts nothing would make the run prove nothing: refuse it before anything starts.
    if (!twice && groups.every((g) => g.length > 0) && partitionCut(groups, f.oneWay, ctx.links).length === 0) {
      ctx.problem(['fault', 'groups'], `${partition.describe(spec)} cuts no link`, NO_CUT_HINT, Errors.InvalidField);
    }
    return spec;
  },
  describe(s) {
    const groups = s.groups.map((g) => `[${g.join(', ')}]`);
    const shape = s.oneWay ? `${groups[0] ?? '[]'} -> ${groups.slice(1).join(' ') || '[]'} one-way` : groups.join(' | ');
    return `partition ${shape} (${s.mode})`;
  },
  targets: (s) => s.groups.map((g) => g.join('+')),
  claims: (s, links) => linkClaims(partitionCut(s.groups, s.oneWay, links).map((l) => l.name)),
  async apply(s, ctx) {
    const cut = partitionCut(s.groups, s.oneWay, ctx.links).map((l) => l.name);
    if (cut.length === 0) throw new LabError(Errors.InvalidScenario, `${partition.describe(s)} cuts no link`, { hint: NO_CUT_HINT });
    // Blackhole = timeout 0 both ways: silent drop; new connects still succeed (toxiproxy #265).
    return s.mode === 'down'
      ? disableProxies(ctx.toxiproxy, cut)
      : addToxics(ctx.toxiproxy, ctx.faultId, { proxies: cut, type: 'timeout', streams: ['upstream', 'downstream'], toxicity: 1, attributes: { timeout: 0 } });
  },
} satisfies FaultKind<typeof schema, PartitionSpec>;
