import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { slowClose } from './slow-close.js';

describe('slow_close', () => {
  it('needs a delay', () => {
    expect(slowClose.schema.safeParse({ type: 'slow_close', links: 'a_to_b' }).success).toBe(false);
    const input = slowClose.schema.parse({ type: 'slow_close', links: 'a_to_b', delay: '500ms' });
    expect(slowClose.resolve(input, fakeResolveContext({ links: meshLinks(['a', 'b']) }))).toEqual({
      type: 'slow_close', links: ['a_to_b'], delayMs: 500, stream: 'downstream', toxicity: 1,
    });
  });

  it('is described as before', () => {
    expect(slowClose.describe({ type: 'slow_close', links: ['a_to_b'], delayMs: 500, stream: 'downstream', toxicity: 1 })).toBe('slow_close 500ms downstream on a_to_b');
  });

  it('applies Toxiproxy\'s `delay` attribute and heals', async () => {
    const tp = new FakeToxiproxy(['b_to_c']);
    const heal = await slowClose.apply({ type: 'slow_close', links: ['b_to_c'], delayMs: 10, stream: 'downstream', toxicity: 1 }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('b_to_c')).toMatchObject([{ type: 'slow_close', attributes: { delay: 10 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
