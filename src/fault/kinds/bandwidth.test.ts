import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { bandwidth } from './bandwidth.js';

const links = meshLinks(['a', 'b']);

describe('bandwidth', () => {
  it('reads `rate` in KB/s and refuses zero', () => {
    const input = bandwidth.schema.parse({ type: 'bandwidth', links: 'a_to_b', rate: 64, stream: 'upstream' });
    expect(bandwidth.resolve(input, fakeResolveContext({ links }))).toEqual({ type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 });
    expect(bandwidth.schema.safeParse({ type: 'bandwidth', links: 'a_to_b', rate: 0 }).success).toBe(false);
  });

  it('is described as before', () => {
    expect(bandwidth.describe({ type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 })).toBe('bandwidth 64KB/s upstream on a_to_b');
  });

  it('applies Toxiproxy\'s `rate` attribute and heals', async () => {
    const tp = new FakeToxiproxy(['a_to_b']);
    const heal = await bandwidth.apply({ type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('a_to_b')).toMatchObject([{ type: 'bandwidth', stream: 'upstream', attributes: { rate: 64 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
