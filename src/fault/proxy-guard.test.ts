import { describe, expect, it } from 'vitest';
import { applyFault } from './registry.js';
import { describeForeign, guardProxies, keptToxiproxyWarning } from './proxy-guard.js';
import { ToxiproxyApiError, type ProxyConfig, type ProxyInfo, type ToxicSpec, type ToxiproxyApi } from './toxiproxy-api.js';

/** Toxiproxy's proxy table in memory, with the calls the lab makes; `others` is a second, foreign user. */
function fakeToxiproxy() {
  const proxies = new Map<string, ProxyInfo>();
  const gone = (path: string) => new ToxiproxyApiError({ method: 'DELETE', path, status: 404, serverError: 'not found' }, `${path}: not found`);
  const api = {
    async populate(list: readonly ProxyConfig[]) {
      for (const p of list) proxies.set(p.name, { name: p.name, listen: p.listen, upstream: p.upstream, enabled: true, toxics: [] });
      return list.map((p) => ({ name: p.name, listen: p.listen, upstream: p.upstream, enabled: true }));
    },
    async createProxy(p: ProxyConfig) {
      proxies.set(p.name, { name: p.name, listen: p.listen, upstream: p.upstream, enabled: true, toxics: [] });
      return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: true };
    },
    async listProxies() {
      return [...proxies.values()].map((p) => ({ ...p, toxics: [...p.toxics] }));
    },
    async deleteProxy(name: string) {
      if (!proxies.delete(name)) throw gone(`/proxies/${name}`);
    },
    async addToxic(proxy: string, t: ToxicSpec) {
      proxies.get(proxy)!.toxics.push(t);
      return t;
    },
    async removeToxic(proxy: string, name: string) {
      const p = proxies.get(proxy);
      const i = p?.toxics.findIndex((t) => t.name === name) ?? -1;
      if (i < 0) throw gone(`/proxies/${proxy}/toxics/${name}`);
      p!.toxics.splice(i, 1);
    },
    async setEnabled(proxy: string, enabled: boolean) {
      const p = proxies.get(proxy)!;
      p.enabled = enabled;
      return { name: p.name, listen: p.listen, upstream: p.upstream, enabled };
    },
    async reset() {
      for (const p of proxies.values()) p.toxics = [];
    },
  };
  return { api: api as unknown as ToxiproxyApi, proxies, others: api };
}

const latency = (name: string): ToxicSpec => ({ name, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5000 } });
const lab = [{ name: 'frontend_to_backend', listen: '127.0.0.1:4001', upstream: '127.0.0.1:5001' }];

describe('guardProxies', () => {
  it('removes a proxy the lab did not create (a proxy to Prometheus on all interfaces) and keeps its own', async () => {
    const tp = fakeToxiproxy();
    const guard = guardProxies(tp.api);
    await guard.client.populate(lab);
    await tp.others.createProxy({ name: 'steal', listen: '0.0.0.0:9999', upstream: '127.0.0.1:9090' });
    const found = await guard.check();
    expect(found).toEqual([{ what: 'proxy', proxy: 'steal', listen: '0.0.0.0:9999', upstream: '127.0.0.1:9090' }]);
    expect([...tp.proxies.keys()]).toEqual(['frontend_to_backend']);
    expect(await guard.check()).toEqual([]);
    expect(describeForeign(found[0]!)).toBe('warning: removed a Toxiproxy proxy "steal" (0.0.0.0:9999 → 127.0.0.1:9090) that the lab did not create: another local user can reach Toxiproxy\'s unauthenticated API');
  });

  it('removes a toxic the lab did not add to its own proxy, and keeps the toxics of its faults until they heal', async () => {
    const tp = fakeToxiproxy();
    const guard = guardProxies(tp.api);
    await guard.client.populate(lab);
    const heal = await applyFault({ type: 'latency', links: ['frontend_to_backend'], latencyMs: 800, jitterMs: 0, stream: 'downstream', toxicity: 1 }, { toxiproxy: guard.client, faultId: '0-slow', links: [{ name: 'frontend_to_backend', from: 'frontend', to: 'backend' }], nodes: new Map(), nodeAddress: () => '', clock: () => undefined, observe: () => undefined });
    await tp.others.addToxic('frontend_to_backend', latency('sneaky'));
    expect(await guard.check()).toEqual([{ what: 'toxic', proxy: 'frontend_to_backend', toxic: 'sneaky', type: 'latency', stream: 'downstream' }]);
    expect(tp.proxies.get('frontend_to_backend')!.toxics.map((t) => t.name)).toEqual(['chaoslab-0-slow-downstream']);
    await heal();
    // A foreign toxic named like one of the lab's, after the lab's was healed, is foreign all the same.
    await tp.others.addToxic('frontend_to_backend', latency('chaoslab-0-slow-downstream'));
    expect((await guard.check()).map((f) => f.what)).toEqual(['toxic']);
  });

  it("a toxic the lab is adding while a check runs is the lab's own", async () => {
    const tp = fakeToxiproxy();
    const guard = guardProxies(tp.api);
    await guard.client.populate(lab);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const addToxic = tp.others.addToxic;
    tp.others.addToxic = async (proxy, t) => {
      const r = await addToxic(proxy, t); // on the server already, the answer not yet back
      await held;
      return r;
    };
    const adding = guard.client.addToxic('frontend_to_backend', latency('chaoslab-1-x-downstream'));
    await new Promise((r) => setImmediate(r));
    expect(await guard.check()).toEqual([]);
    release();
    await adding;
  });

  it("reset and deleteProxy through the guard forget what they removed; a failed add is not the lab's", async () => {
    const tp = fakeToxiproxy();
    const guard = guardProxies(tp.api);
    await guard.client.populate(lab);
    await guard.client.addToxic('frontend_to_backend', latency('a'));
    await guard.client.reset();
    await tp.others.addToxic('frontend_to_backend', latency('a'));
    expect((await guard.check()).map((f) => f.what)).toEqual(['toxic']);
    await guard.client.deleteProxy('frontend_to_backend');
    await tp.others.createProxy(lab[0]!);
    expect((await guard.check()).map((f) => f.what)).toEqual(['proxy']);
    await expect(guard.client.addToxic('nope', latency('b'))).rejects.toThrow();
  });

  it('the kept-run warning says how long Toxiproxy stays open', () => {
    expect(keptToxiproxyWarning('http://127.0.0.1:8474')).toMatch(/http:\/\/127\.0\.0\.1:8474 has no authentication and stays open until `npx chaoslab down`/);
  });
});
