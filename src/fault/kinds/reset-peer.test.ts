import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { resetPeer } from './reset-peer.js';

describe('reset_peer', () => {
  it('resets at once, downstream, by default', () => {
    const input = resetPeer.schema.parse({ type: 'reset_peer', links: 'a_to_b' });
    expect(resetPeer.resolve(input, fakeResolveContext({ links: meshLinks(['a', 'b']) }))).toEqual({
      type: 'reset_peer', links: ['a_to_b'], timeoutMs: 0, stream: 'downstream', toxicity: 1,
    });
  });

  it('is described as before', () => {
    expect(resetPeer.describe({ type: 'reset_peer', links: ['a_to_b'], timeoutMs: 0, stream: 'downstream', toxicity: 1 })).toBe('reset_peer after 0ms downstream on a_to_b');
  });

  it('applies Toxiproxy\'s `timeout` attribute and heals', async () => {
    const tp = new FakeToxiproxy(['c_to_a']);
    const heal = await resetPeer.apply({ type: 'reset_peer', links: ['c_to_a'], timeoutMs: 20, stream: 'downstream', toxicity: 1 }, fakeApplyContext({ toxiproxy: tp }));
    expect(tp.toxicsOf('c_to_a')).toMatchObject([{ type: 'reset_peer', attributes: { timeout: 20 } }]);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
