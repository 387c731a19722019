import { describe, expect, it } from 'vitest';
import { LabError } from '../../errors/lab-error.js';
import type { LinkInfo } from '../fault-kind.js';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { partition, partitionCut } from './partition.js';

const link = (from: string, to: string): LinkInfo => ({ name: `${from}_to_${to}`, from, to });
const names = (ls: LinkInfo[]) => ls.map((l) => l.name).sort();

describe('partitionCut', () => {
  const links = meshLinks(['a', 'b', 'c']);

  it('cuts every link across groups, both ways', () => {
    expect(names(partitionCut([['a'], ['b', 'c']], false, links))).toEqual(['a_to_b', 'a_to_c', 'b_to_a', 'c_to_a']);
  });

  it('with oneWay cuts only links leaving groups[0]', () => {
    expect(names(partitionCut([['a'], ['b', 'c']], true, links))).toEqual(['a_to_b', 'a_to_c']);
    expect(names(partitionCut([['b', 'c'], ['a']], true, links))).toEqual(['b_to_a', 'c_to_a']);
  });

  it('isolates three groups from each other', () => {
    expect(names(partitionCut([['a'], ['b'], ['c']], false, links))).toEqual(names(links));
    // one-way from a to b and c, but b and c still talk
    expect(names(partitionCut([['a'], ['b'], ['c']], true, links))).toEqual(['a_to_b', 'a_to_c']);
  });

  it('leaves nodes in no group untouched', () => {
    expect(names(partitionCut([['a'], ['b']], false, meshLinks(['a', 'b', 'c', 'd'])))).toEqual(['a_to_b', 'b_to_a']);
  });

  it('handles real instance names and non-mesh tables', () => {
    const table = [link('frontend', 'backend'), link('backend', 'storage-1'), link('storage-1', 'metadata'), link('storage-2', 'metadata')];
    expect(names(partitionCut([['storage-1', 'storage-2'], ['metadata']], false, table))).toEqual(['storage-1_to_metadata', 'storage-2_to_metadata']);
  });

  it('returns nothing for one group, no groups, or unknown nodes', () => {
    expect(partitionCut([['a', 'b', 'c']], false, links)).toEqual([]);
    expect(partitionCut([], false, links)).toEqual([]);
    expect(partitionCut([['x'], ['y']], false, links)).toEqual([]);
  });

  it('rejects a node in two groups', () => {
    expect(() => partitionCut([['a', 'b'], ['b', 'c']], false, links)).toThrow(/node "b" is in groups 0 and 1/);
  });
});

describe('partition', () => {
  const links = [...meshLinks(['broker-1', 'broker-2', 'coordinator']), link('client', 'broker-1')];

  it('reads the YAML users write (blackhole, both ways by default)', () => {
    expect(partition.schema.parse({ type: 'partition', groups: [['broker-1'], 'coordinator'] })).toEqual({
      type: 'partition', groups: [['broker-1'], ['coordinator']], oneWay: false, mode: 'blackhole',
    });
    expect(partition.schema.safeParse({ type: 'partition', groups: [['broker-1']] }).success).toBe(false);
  });

  it('resolves groups (the load generator too) and reports unknown nodes and nodes on two sides', () => {
    const ctx = fakeResolveContext({ links, nodes: ['broker-1', 'broker-2', 'coordinator'] });
    const input = partition.schema.parse({ type: 'partition', groups: [['client'], ['broker-*', 'zk']] });
    expect(partition.resolve(input, ctx)).toEqual({ type: 'partition', groups: [['client'], ['broker-1', 'broker-2']], oneWay: false, mode: 'blackhole' });
    expect(ctx.problems).toEqual([{ at: ['fault', 'groups', 1], message: 'no node matches "zk"', code: 'CHAOSLAB_UNKNOWN_REFERENCE' }]);

    const twice = fakeResolveContext({ links, nodes: ['broker-1', 'broker-2'] });
    partition.resolve(partition.schema.parse({ type: 'partition', groups: [['broker-1'], ['broker-*']] }), twice);
    expect(twice.problems).toEqual([{ at: ['fault', 'groups'], message: 'node "broker-1" is in two partition groups', code: 'CHAOSLAB_UNKNOWN_REFERENCE' }]);
  });

  it('refuses, when loading, a partition that cuts no link', () => {
    const ctx = fakeResolveContext({ links: [link('broker-1', 'coordinator')], nodes: ['broker-1', 'broker-2', 'coordinator'] });
    partition.resolve(partition.schema.parse({ type: 'partition', groups: [['broker-1'], ['broker-2']] }), ctx);
    expect(ctx.problems).toEqual([{ at: ['fault', 'groups'], message: 'partition [broker-1] | [broker-2] (blackhole) cuts no link', code: 'CHAOSLAB_INVALID_FIELD' }]);
  });

  it('is described, targeted and claimed as before', () => {
    expect(partition.describe({ type: 'partition', groups: [['a'], ['b', 'c']], oneWay: false, mode: 'blackhole' })).toBe('partition [a] | [b, c] (blackhole)');
    expect(partition.describe({ type: 'partition', groups: [['a'], ['b'], ['c']], oneWay: true, mode: 'down' })).toBe('partition [a] -> [b] [c] one-way (down)');
    const spec = { type: 'partition', groups: [['broker-1'], ['broker-2', 'coordinator']], oneWay: true, mode: 'blackhole' } as const;
    const s = { ...spec, groups: spec.groups.map((g) => [...g]) };
    expect(partition.targets(s)).toEqual(['broker-1', 'broker-2+coordinator']);
    expect(partition.claims(s, links).sort()).toEqual(['link:broker-1_to_broker-2', 'link:broker-1_to_coordinator']);
  });

  it('blackholes the cut both ways with timeout 0 and heals', async () => {
    const tp = new FakeToxiproxy(links.map((l) => l.name));
    const heal = await partition.apply(
      { type: 'partition', groups: [['broker-2'], ['broker-1']], oneWay: false, mode: 'blackhole' },
      fakeApplyContext({ toxiproxy: tp, links, faultId: '1-cut' }),
    );
    for (const p of ['broker-1_to_broker-2', 'broker-2_to_broker-1']) {
      expect(tp.toxicsOf(p)).toEqual([
        { name: 'chaoslab-1-cut-upstream', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } },
        { name: 'chaoslab-1-cut-downstream', type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } },
      ]);
    }
    expect(tp.toxicsOf('broker-1_to_coordinator')).toEqual([]);
    await heal();
    expect(tp.clean).toBe(true);
  });

  it('in mode down disables only the cut', async () => {
    const tp = new FakeToxiproxy(links.map((l) => l.name));
    const heal = await partition.apply({ type: 'partition', groups: [['broker-1'], ['coordinator']], oneWay: true, mode: 'down' }, fakeApplyContext({ toxiproxy: tp, links }));
    expect(tp.calls).toEqual(['disable broker-1_to_coordinator']);
    await heal();
    expect(tp.clean).toBe(true);
  });

  it('refuses a partition that cuts nothing, before calling the API', async () => {
    const tp = new FakeToxiproxy([]);
    const err = await partition.apply({ type: 'partition', groups: [['x'], ['y']], oneWay: false, mode: 'blackhole' }, fakeApplyContext({ toxiproxy: tp, links })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('CHAOSLAB_INVALID_SCENARIO');
    expect(tp.calls).toEqual([]);
  });
});
