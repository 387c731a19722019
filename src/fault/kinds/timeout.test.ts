import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { timeout } from './timeout.js';

describe('timeout', () => {
  it('is a black hole both ways by default, never closing', () => {
    const input = timeout.schema.parse({ type: 'timeout', links: 'a_to_b' });
    expect(timeout.resolve(input, fakeResolveContext({ links: meshLinks(['a', 'b']) }))).toEqual({ type: 'timeout', links: ['a_to_b'], timeoutMs: 0, stream: 'both', toxicity: 1 });
  });

  it('is described as before', () => {
    expect(timeout.describe({ type: 'timeout', links: ['a_to_b'], timeoutMs: 0, stream: 'both', toxicity: 1 })).toBe('timeout (black hole, never closes) both on a_to_b');
    expect(timeout.describe({ type: 'timeout', links: ['a_to_b'], timeoutMs: 2000, stream: 'upstream', toxicity: 1 })).toBe(
      'timeout (black hole, closes after 2000ms) upstream on a_to_b',
    );
  });

  it('applies Toxiproxy\'s `timeout` attribute and heals', async () => {
    const tp = new FakeToxiproxy(['a_to_b']);
    const heal = await timeout.apply({ type: 'timeout', links: ['a_to_b'], timeoutMs: 2000, stream: 'downstream', toxicity: 1 }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('a_to_b')).toMatchObject([{ type: 'timeout', stream: 'downstream', attributes: { timeout: 2000 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
