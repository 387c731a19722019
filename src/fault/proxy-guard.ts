/**
 * Toxiproxy's API has no authentication: any local user can add a toxic to a live run (and change its verdict) or
 * open a proxy on 0.0.0.0 (shown: one to the run's Prometheus, on all interfaces). The lab cannot add auth to
 * Toxiproxy, so it keeps the list of what it made itself and, at each fault step and at the end of a variant,
 * removes every proxy and toxic that is not on it.
 *
 * The list is kept by the client the lab uses: `guard.client` records a proxy or toxic before asking for it (so a
 * check running meanwhile never takes the lab's own for a foreign one) and forgets it once it is gone.
 */
import { isGoneError, type ProxyConfig, type ToxicSpec, type ToxiproxyApi } from './toxiproxy-api.js';

export type ForeignItem =
  | { what: 'proxy'; proxy: string; listen: string; upstream: string }
  | { what: 'toxic'; proxy: string; toxic: string; type: string; stream: string };

export interface ProxyGuard {
  /** Use this client for everything the lab does: what it creates is the lab's own. */
  readonly client: ToxiproxyApi;
  /** Lists proxies and toxics, removes the foreign ones, returns what it removed. */
  check(): Promise<ForeignItem[]>;
}

const toxicKey = (proxy: string, toxic: string) => `${proxy}\u0000${toxic}`;

export function guardProxies(api: ToxiproxyApi): ProxyGuard {
  const proxies = new Set<string>();
  const toxics = new Set<string>();
  // Delegates to `api`; only the calls that create or remove something are wrapped.
  const client: ToxiproxyApi = Object.create(api) as ToxiproxyApi;

  const recording = async <T>(add: () => void, undo: () => void, call: () => Promise<T>): Promise<T> => {
    add();
    try {
      return await call();
    } catch (e) {
      undo();
      throw e;
    }
  };
  client.populate = (list: readonly ProxyConfig[]) =>
    recording(
      () => list.forEach((p) => proxies.add(p.name)),
      () => undefined, // populate keeps the proxies that did come up: the next check sees them as the lab's
      () => api.populate(list),
    );
  client.createProxy = (p: ProxyConfig) =>
    recording(
      () => proxies.add(p.name),
      () => proxies.delete(p.name),
      () => api.createProxy(p),
    );
  client.deleteProxy = async (name: string) => {
    await api.deleteProxy(name);
    proxies.delete(name);
    for (const k of [...toxics]) if (k.startsWith(`${name}\u0000`)) toxics.delete(k);
  };
  client.addToxic = (proxy: string, t: ToxicSpec) =>
    recording(
      () => toxics.add(toxicKey(proxy, t.name)),
      () => toxics.delete(toxicKey(proxy, t.name)),
      () => api.addToxic(proxy, t),
    );
  client.removeToxic = async (proxy: string, name: string) => {
    await api.removeToxic(proxy, name);
    toxics.delete(toxicKey(proxy, name));
  };
  client.reset = async () => {
    await api.reset();
    toxics.clear();
  };

  const removing = async (p: Promise<void>): Promise<boolean> => {
    try {
      await p;
      return true;
    } catch (e) {
      if (isGoneError(e)) return false; // another check removed it first
      throw e;
    }
  };

  return {
    client,
    async check() {
      const found: ForeignItem[] = [];
      for (const p of await api.listProxies()) {
        if (!proxies.has(p.name)) {
          if (await removing(api.deleteProxy(p.name))) found.push({ what: 'proxy', proxy: p.name, listen: p.listen, upstream: p.upstream });
          continue;
        }
        for (const t of p.toxics) {
          if (toxics.has(toxicKey(p.name, t.name))) continue;
          if (await removing(api.removeToxic(p.name, t.name))) found.push({ what: 'toxic', proxy: p.name, toxic: t.name, type: t.type, stream: t.stream });
        }
      }
      return found;
    },
  };
}

/** The terminal's warning for one removed item. */
export function describeForeign(f: ForeignItem): string {
  const what = f.what === 'proxy' ? `proxy "${f.proxy}" (${f.listen} → ${f.upstream})` : `toxic "${f.toxic}" (${f.type}, ${f.stream}) on proxy ${f.proxy}`;
  return `warning: removed a Toxiproxy ${what} that the lab did not create: another local user can reach Toxiproxy's unauthenticated API`;
}

/** Said when a run leaves Toxiproxy up (`--keep`, `up`): from then on nobody removes what others add. */
export function keptToxiproxyWarning(url: string, downCommand = 'npx chaoslab down'): string {
  return `warning: Toxiproxy's API at ${url} has no authentication and stays open until \`${downCommand}\` (or \`npx chaoslab clean\`): meanwhile any local user can add proxies or toxics, and the lab no longer removes them`;
}
