import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { limitData } from './limit-data.js';

describe('limit_data', () => {
  it('needs a whole, positive number of bytes', () => {
    expect(limitData.schema.safeParse({ type: 'limit_data', links: 'a_to_b', bytes: 0 }).success).toBe(false);
    const input = limitData.schema.parse({ type: 'limit_data', links: 'a_to_b', bytes: 1000, stream: 'upstream' });
    expect(limitData.resolve(input, fakeResolveContext({ links: meshLinks(['a', 'b']) }))).toEqual({
      type: 'limit_data', links: ['a_to_b'], bytes: 1000, stream: 'upstream', toxicity: 1,
    });
  });

  it('is described as before', () => {
    expect(limitData.describe({ type: 'limit_data', links: ['a_to_b'], bytes: 1000, stream: 'upstream', toxicity: 1 })).toBe('limit_data 1000B upstream on a_to_b');
  });

  it('applies Toxiproxy\'s `bytes` attribute and heals', async () => {
    const tp = new FakeToxiproxy(['b_to_a']);
    const heal = await limitData.apply({ type: 'limit_data', links: ['b_to_a'], bytes: 1000, stream: 'upstream', toxicity: 1 }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('b_to_a')).toMatchObject([{ type: 'limit_data', stream: 'upstream', attributes: { bytes: 1000 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
