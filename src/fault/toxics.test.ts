import { describe, expect, it } from 'vitest';
import { onceHeal } from './fault-kind.js';
import { FakeToxiproxy } from './testing.js';
import { addToxics, disableProxies, toxicName } from './toxics.js';

const req = (proxies: string[]) => ({ proxies, type: 'latency' as const, streams: ['upstream', 'downstream'] as const, toxicity: 1, attributes: { latency: 5 } });

describe('toxics shared by the link fault kinds', () => {
  it('names toxics per fault and stream', () => {
    expect(toxicName('f3', 'upstream')).toBe('chaoslab-f3-upstream');
  });

  it('rolls back a partly applied fault when one link fails, and reports the original error', async () => {
    const tp = new FakeToxiproxy(['b_to_c']);
    await expect(addToxics(tp, 'f1', req(['b_to_c', 'no_such_proxy']))).rejects.toMatchObject({ status: 404, serverError: 'proxy not found' });
    expect(tp.calls).toEqual(['add b_to_c chaoslab-f1-upstream', 'add b_to_c chaoslab-f1-downstream', 'remove b_to_c chaoslab-f1-upstream', 'remove b_to_c chaoslab-f1-downstream']);
    expect(tp.clean).toBe(true);
  });

  it('two faults on one proxy do not collide; healing one keeps the other', async () => {
    const tp = new FakeToxiproxy(['a_to_b']);
    const heal1 = await addToxics(tp, 'f1', { ...req(['a_to_b']), streams: ['downstream'] });
    const heal2 = await addToxics(tp, 'f2', req(['a_to_b']));
    expect(tp.toxicsOf('a_to_b')).toHaveLength(3);
    await heal1();
    expect(tp.toxicsOf('a_to_b').map((t) => t.name)).toEqual(['chaoslab-f2-upstream', 'chaoslab-f2-downstream']);
    await heal2();
    expect(tp.clean).toBe(true);
  });

  it('heal is quiet when the proxy is gone, or the whole server', async () => {
    const tp = new FakeToxiproxy(['temp', 'other']);
    const healToxic = await addToxics(tp, 'f1', req(['temp']));
    const healDown = await disableProxies(tp, ['temp']);
    tp.proxies.delete('temp');
    await expect(healToxic()).resolves.toBeUndefined();
    await expect(healDown()).resolves.toBeUndefined();

    const healOther = await addToxics(tp, 'f2', req(['other']));
    tp.gone();
    await expect(healOther()).resolves.toBeUndefined();
  });

  it('a heal that fails for another reason throws, and may be retried', async () => {
    const tp = new FakeToxiproxy(['a_to_b']);
    const heal = onceHeal(await addToxics(tp, 'f1', req(['a_to_b'])));
    const real = tp.removeToxic.bind(tp);
    let failures = 1;
    tp.removeToxic = async (p, n) => {
      if (failures-- > 0) throw new Error('API timed out');
      return real(p, n);
    };
    await expect(heal()).rejects.toThrow('API timed out');
    await heal();
    expect(tp.clean).toBe(true);
  });
});

describe('onceHeal', () => {
  it('is idempotent and safe to call concurrently', async () => {
    let undone = 0;
    const heal = onceHeal(async () => {
      undone++;
    });
    await Promise.all([heal(), heal()]);
    await heal();
    expect(undone).toBe(1);
  });
});
