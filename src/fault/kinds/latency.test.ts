import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { latency } from './latency.js';

const links = meshLinks(['a', 'b']);

describe('latency', () => {
  it('reads the YAML users write, with its defaults', () => {
    expect(latency.schema.parse({ type: 'latency', links: 'a_to_b', latency: '800ms' })).toEqual({
      type: 'latency', links: ['a_to_b'], latency: 800, jitter: 0, stream: 'downstream', toxicity: 1,
    });
    expect(latency.schema.safeParse({ type: 'latency', links: 'a_to_b' }).success).toBe(false);
  });

  it('resolves link globs against the cluster and reports links that match nothing', () => {
    const ctx = fakeResolveContext({ links });
    const input = latency.schema.parse({ type: 'latency', links: ['*_to_b', 'x_to_y'], latency: '1s', jitter: '50ms', stream: 'both' });
    expect(latency.resolve(input, ctx)).toEqual({ type: 'latency', links: ['a_to_b'], latencyMs: 1000, jitterMs: 50, stream: 'both', toxicity: 1 });
    expect(ctx.problems).toEqual([{ at: ['fault', 'links'], message: 'no proxied link matches "x_to_y"', code: 'CHAOSLAB_UNKNOWN_REFERENCE' }]);
  });

  it('is described as the journal and README show it', () => {
    expect(latency.describe({ type: 'latency', links: ['frontend_to_backend'], latencyMs: 800, jitterMs: 50, stream: 'downstream', toxicity: 1 })).toBe(
      'latency 800ms±50ms downstream on frontend_to_backend',
    );
    expect(latency.describe({ type: 'latency', links: ['a_to_b', 'b_to_a'], latencyMs: 100, jitterMs: 0, stream: 'both', toxicity: 0.5 })).toBe(
      'latency 100ms both on a_to_b, b_to_a (toxicity 50%)',
    );
  });

  it('adds one latency toxic per link and stream, and heal removes them', async () => {
    const tp = new FakeToxiproxy(links.map((l) => l.name));
    const spec = { type: 'latency', links: ['a_to_b', 'b_to_a'], latencyMs: 300, jitterMs: 20, stream: 'both', toxicity: 0.5 } as const;
    expect(latency.targets({ ...spec, links: [...spec.links] })).toEqual(['a_to_b', 'b_to_a']);
    const heal = await latency.apply({ ...spec, links: [...spec.links] }, fakeApplyContext({ toxiproxy: tp, links, faultId: '3-slow' }));
    expect(tp.toxicsOf('a_to_b')).toEqual([
      { name: 'chaoslab-3-slow-upstream', type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 300, jitter: 20 } },
      { name: 'chaoslab-3-slow-downstream', type: 'latency', stream: 'downstream', toxicity: 0.5, attributes: { latency: 300, jitter: 20 } },
    ]);
    expect(tp.toxicsOf('b_to_a')).toHaveLength(2);
    await heal();
    expect(tp.clean).toBe(true);
  });
});
