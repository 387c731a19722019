import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { slicer } from './slicer.js';

describe('slicer', () => {
  it('takes its delay as a duration and gives Toxiproxy microseconds', () => {
    const input = slicer.schema.parse({ type: 'slicer', links: 'a_to_b', averageSize: 64, sizeVariation: 16, delay: '2ms' });
    expect(slicer.resolve(input, fakeResolveContext({ links: meshLinks(['a', 'b']) }))).toEqual({
      type: 'slicer', links: ['a_to_b'], averageSize: 64, sizeVariation: 16, delayUs: 2000, stream: 'downstream', toxicity: 1,
    });
    expect(slicer.schema.safeParse({ type: 'slicer', links: 'a_to_b', averageSize: 1.5 }).success).toBe(false);
  });

  it('is described as before', () => {
    expect(slicer.describe({ type: 'slicer', links: ['a_to_b'], averageSize: 64, sizeVariation: 16, delayUs: 10, stream: 'downstream', toxicity: 1 })).toBe(
      'slicer 64±16B every 10µs downstream on a_to_b',
    );
  });

  it('applies Toxiproxy\'s attribute names and heals', async () => {
    const tp = new FakeToxiproxy(['a_to_c']);
    const spec = { type: 'slicer', links: ['a_to_c'], averageSize: 64, sizeVariation: 16, delayUs: 10, stream: 'downstream', toxicity: 0.5 } as const;
    const heal = await slicer.apply({ ...spec, links: [...spec.links] }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('a_to_c')).toMatchObject([{ type: 'slicer', toxicity: 0.5, attributes: { average_size: 64, size_variation: 16, delay: 10 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
