import { describe, expect, it } from 'vitest';
import { FakeNode, fakeApplyContext, fakeResolveContext } from '../testing.js';
import { pause } from './pause.js';

describe('pause', () => {
  it('needs a `for`', () => {
    const ok = fakeResolveContext({ nodes: ['broker-1', 'broker-2'], forMs: 10_000 });
    expect(pause.resolve(pause.schema.parse({ type: 'pause', nodes: 'broker' + '-1' }), ok)).toEqual({ type: 'pause', nodes: ['broker-1'] });
    expect(ok.problems).toEqual([]);
    const noFor = fakeResolveContext({ nodes: ['broker-1'] });
    pause.resolve(pause.schema.parse({ type: 'pause', nodes: 'broker-1' }), noFor);
    expect(noFor.problems).toEqual([{ at: [], message: 'a pause needs `for` (how long the node stays paused)', code: 'CHAOSLAB_INVALID_FIELD' }]);
  });

  it('is described as before', () => {
    expect(pause.describe({ type: 'pause', nodes: ['broker-1'] })).toBe('pause broker-1');
    expect(pause.targets({ type: 'pause', nodes: ['broker-1'] })).toEqual(['broker-1']);
  });

  it('pauses; heal resumes', async () => {
    const n = new FakeNode('broker-1');
    const heal = await pause.apply({ type: 'pause', nodes: ['broker-1'] }, fakeApplyContext({ nodes: new Map([['broker-1', n]]) }));
    expect(n.calls).toEqual(['pause']);
    await heal();
    expect(n.calls).toEqual(['pause', 'resume']);
  });
});
