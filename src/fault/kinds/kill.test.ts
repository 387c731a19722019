import { describe, expect, it } from 'vitest';
import { FakeNode, fakeApplyContext, fakeResolveContext } from '../testing.js';
import { kill } from './kill.js';

describe('kill', () => {
  it('reads the YAML users write (SIGKILL by default) and resolves node globs', () => {
    const ctx = fakeResolveContext({ nodes: ['metadata-spare-1', 'metadata-spare-2', 'metadata'] });
    const spec = kill.resolve(kill.schema.parse({ type: 'kill', nodes: 'metadata-spare-*' }), ctx);
    expect(spec).toEqual({ type: 'kill', nodes: ['metadata-spare-1', 'metadata-spare-2'], signal: 'SIGKILL' });
    expect(ctx.problems).toEqual([]);
    expect(kill.schema.safeParse({ type: 'kill', nodes: 'a', signal: 'SIGHUP' }).success).toBe(false);
  });

  it('reports nodes that match nothing', () => {
    const ctx = fakeResolveContext({ nodes: ['a'] });
    kill.resolve(kill.schema.parse({ type: 'kill', nodes: ['a', 'b'] }), ctx);
    expect(ctx.problems).toEqual([{ at: ['fault', 'nodes'], message: 'no node matches "b"', code: 'CHAOSLAB_UNKNOWN_REFERENCE' }]);
  });

  it('is described, targeted and claimed as before', () => {
    const spec = { type: 'kill', nodes: ['a', 'b'], signal: 'SIGTERM' } as const;
    const s = { ...spec, nodes: [...spec.nodes] };
    expect(kill.describe(s)).toBe('kill (SIGTERM) a, b');
    expect(kill.targets(s)).toEqual(['a', 'b']);
    expect(kill.claims(s)).toEqual(['node:a', 'node:b']);
  });

  it('kills with the signal; heal restarts', async () => {
    const a = new FakeNode('a');
    const heal = await kill.apply({ type: 'kill', nodes: ['a'], signal: 'SIGTERM' }, fakeApplyContext({ nodes: new Map([['a', a]]) }));
    expect(a.calls).toEqual(['kill SIGTERM']);
    await heal();
    expect(a.calls).toEqual(['kill SIGTERM', 'restart']);
  });

  it('a node that is not running is a node failure, and nothing is killed', async () => {
    const a = new FakeNode('a');
    await expect(kill.apply({ type: 'kill', nodes: ['a', 'b'], signal: 'SIGKILL' }, fakeApplyContext({ nodes: new Map([['a', a]]) }))).rejects.toMatchObject({
      code: 'CHAOSLAB_NODE_FAILED',
      message: 'node b is not running',
    });
    expect(a.calls).toEqual([]);
  });
});
