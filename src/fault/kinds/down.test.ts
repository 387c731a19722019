import { describe, expect, it } from 'vitest';
import { FakeToxiproxy, fakeApplyContext, fakeResolveContext, meshLinks } from '../testing.js';
import { down } from './down.js';

const links = meshLinks(['a', 'b', 'c']);

describe('down', () => {
  it('resolves links and is described as before', () => {
    const spec = down.resolve(down.schema.parse({ type: 'down', links: 'a_to_*' }), fakeResolveContext({ links }));
    expect(spec).toEqual({ type: 'down', links: ['a_to_b', 'a_to_c'] });
    expect(down.describe(spec)).toBe('down on a_to_b, a_to_c');
    expect(down.targets(spec)).toEqual(['a_to_b', 'a_to_c']);
    expect(down.claims(spec)).toEqual(['link:a_to_b', 'link:a_to_c']);
  });

  it('disables the proxies; heal enables them again', async () => {
    const tp = new FakeToxiproxy(links.map((l) => l.name));
    const heal = await down.apply({ type: 'down', links: ['a_to_b', 'a_to_c'] }, fakeApplyContext({ toxiproxy: tp, links }));
    expect(tp.calls).toEqual(['disable a_to_b', 'disable a_to_c']);
    expect(tp.clean).toBe(false);
    await heal();
    expect(tp.clean).toBe(true);
  });

  it('rolls back when one proxy is missing', async () => {
    const tp = new FakeToxiproxy(['c_to_b']);
    await expect(down.apply({ type: 'down', links: ['c_to_b', 'no_such_proxy'] }, fakeApplyContext({ toxiproxy: tp }))).rejects.toMatchObject({ status: 404 });
    expect(tp.calls).toEqual(['disable c_to_b', 'enable c_to_b']);
    expect(tp.clean).toBe(true);
  });
});
