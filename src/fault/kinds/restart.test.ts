import { describe, expect, it } from 'vitest';
import { FakeNode, fakeApplyContext, fakeResolveContext } from '../testing.js';
import { restart } from './restart.js';

describe('restart', () => {
  it('is instantaneous: a `for` is refused', () => {
    expect(restart.instant).toBe(true);
    const ok = fakeResolveContext({ nodes: ['a'] });
    expect(restart.resolve(restart.schema.parse({ type: 'restart', nodes: 'a' }), ok)).toEqual({ type: 'restart', nodes: ['a'] });
    expect(ok.problems).toEqual([]);
    const withFor = fakeResolveContext({ nodes: ['a'], forMs: 5000 });
    restart.resolve(restart.schema.parse({ type: 'restart', nodes: 'a' }), withFor);
    expect(withFor.problems).toEqual([{ at: ['for'], message: 'a restart is instantaneous and takes no `for`', code: 'CHAOSLAB_INVALID_FIELD' }]);
  });

  it('is described as before', () => {
    expect(restart.describe({ type: 'restart', nodes: ['a', 'b'] })).toBe('restart a, b');
    expect(restart.claims({ type: 'restart', nodes: ['a'] })).toEqual(['node:a']);
  });

  it('restarts the nodes; heal does nothing', async () => {
    const a = new FakeNode('a');
    const heal = await restart.apply({ type: 'restart', nodes: ['a'] }, fakeApplyContext({ nodes: new Map([['a', a]]) }));
    expect(a.calls).toEqual(['restart']);
    await heal();
    expect(a.calls).toEqual(['restart']);
  });
});
