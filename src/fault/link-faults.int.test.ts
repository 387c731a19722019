import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LinkInfo } from './fault-kind.js';
import { applyFault, describeFault, type FaultSpec } from './registry.js';
import type { ToxiproxyApi } from './toxiproxy-api.js';
import type { StartedToxiproxy } from './toxiproxy-server.js';
import { meshLinks, startEchoServer, startTestToxiproxy, timedGet, type EchoServer } from './testing.js';

/**
 * The link fault kinds against the real toxiproxy-server: what each does to traffic, that heal undoes
 * it, and that heal is quiet when the proxy or the server is gone. The kinds' unit tests use a fake.
 */
const link = (from: string, to: string): LinkInfo => ({ name: `${from}_to_${to}`, from, to });
const noNodes = { nodes: new Map(), nodeAddress: () => 'unused:0', clock: () => undefined, observe: () => undefined };

// --------------------------------------------------------------------------------------------
// Real toxiproxy-server + a node HTTP echo server on 127.0.0.1.

describe('link faults through the real Toxiproxy', () => {
  let tmp: string;
  let tp: StartedToxiproxy;
  let echo: EchoServer;
  let api: ToxiproxyApi;
  /** proxy name → listen port */
  const ports = new Map<string, number>();
  const nodes = ['a', 'b', 'c'];
  const table: LinkInfo[] = [link('frontend', 'backend'), ...meshLinks(nodes)];
  let seq = 0;
  const ctx = () => ({ toxiproxy: api, faultId: `f${++seq}`, links: table, ...noNodes });
  const apply = (spec: FaultSpec, c = ctx()) => applyFault(spec, c);
  const toxicNames = async (proxy: string) => (await api.listToxics(proxy)).map((t) => t.name).sort();
  const port = (proxy: string) => ports.get(proxy) ?? Number.NaN;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-faults-'));
    echo = await startEchoServer();
    tp = await startTestToxiproxy(path.join(tmp, 'toxiproxy.log'));
    api = tp.client;
    // Every link's upstream is the echo server: what matters is which proxies get cut.
    const created = await api.populate(table.map((l) => ({ name: l.name, listen: '127.0.0.1:0', upstream: echo.address })));
    for (const p of created) ports.set(p.name, Number(p.listen.split(':').at(-1)));
  });
  afterAll(async () => {
    await tp?.stop();
    await echo?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await api.reset();
  });

  async function baseline(proxy: string): Promise<number> {
    const r = await timedGet(port(proxy));
    expect(r).toMatchObject({ ok: true, body: 'echo GET /' });
    return r.ms;
  }

  it('latency delays a request by about the latency, and heal removes it', async () => {
    const base = await baseline('frontend_to_backend');
    const spec: FaultSpec = { type: 'latency', links: ['frontend_to_backend'], latencyMs: 300, jitterMs: 0, stream: 'downstream', toxicity: 1 };
    const heal = await apply(spec);
    expect(describeFault(spec)).toBe('latency 300ms downstream on frontend_to_backend');
    const slow = await timedGet(port('frontend_to_backend'));
    expect(slow.ok).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(295);
    expect(slow.ms).toBeLessThan(300 + base + 200);
    await heal();
    expect((await timedGet(port('frontend_to_backend'))).ms).toBeLessThan(150);
  });

  it('stream both adds one toxic per direction (latency counts twice on a round trip)', async () => {
    const c = ctx();
    const heal = await apply({ type: 'latency', links: ['frontend_to_backend'], latencyMs: 150, jitterMs: 0, stream: 'both', toxicity: 1 }, c);
    const toxics = await api.listToxics('frontend_to_backend');
    expect(toxics.map((t) => [t.name, t.stream]).sort()).toEqual([
      [`chaoslab-${c.faultId}-downstream`, 'downstream'],
      [`chaoslab-${c.faultId}-upstream`, 'upstream'],
    ]);
    const r = await timedGet(port('frontend_to_backend'));
    expect(r.ms).toBeGreaterThanOrEqual(295);
    await heal();
    expect(await api.listToxics('frontend_to_backend')).toEqual([]);
  });

  it('timeout 0 black-holes (connect succeeds, no answer in 500 ms); heal restores new requests and closes the stuck one', async () => {
    const p = port('frontend_to_backend');
    // A connection opened before the fault: it gets stuck, then closed when the toxic goes (PR #168).
    const early = net.connect(p, '127.0.0.1');
    await new Promise<void>((r) => early.once('connect', () => r()));
    const earlyClosed = new Promise<void>((r) => early.once('close', () => r()));
    early.on('error', () => undefined);

    const heal = await apply({ type: 'timeout', links: ['frontend_to_backend'], timeoutMs: 0, stream: 'both', toxicity: 1 });
    early.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await timedGet(p, '/', 500);
    expect(r).toMatchObject({ ok: false, error: 'timeout' });

    await heal();
    expect((await timedGet(p)).ok).toBe(true);
    await expect(Promise.race([earlyClosed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 1_000))])).resolves.toBe('closed');
    early.destroy();
  });

  it('down refuses connections; heal re-enables', async () => {
    await baseline('frontend_to_backend');
    const heal = await apply({ type: 'down', links: ['frontend_to_backend'] });
    expect((await api.listProxies()).filter((p) => !p.enabled).map((p) => p.name)).toEqual(['frontend_to_backend']);
    expect(await timedGet(port('frontend_to_backend'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    await heal();
    expect((await timedGet(port('frontend_to_backend'))).ok).toBe(true);
  });

  it('blackhole partition cuts exactly the cross-group proxies, and heals', async () => {
    const c = ctx();
    const heal = await apply({ type: 'partition', groups: [['a'], ['b', 'c']], oneWay: false, mode: 'blackhole' }, c);
    const cut = ['a_to_b', 'a_to_c', 'b_to_a', 'c_to_a'];
    const state = await api.listProxies();
    for (const p of state) {
      const expected = cut.includes(p.name)
        ? [`chaoslab-${c.faultId}-downstream`, `chaoslab-${c.faultId}-upstream`]
        : [];
      expect([p.name, p.toxics.map((t) => t.name).sort()]).toEqual([p.name, expected]);
      for (const t of p.toxics) expect(t).toMatchObject({ type: 'timeout', attributes: { timeout: 0 } });
      expect(p.enabled).toBe(true);
    }
    // Traffic agrees: inside a group flows, across groups hangs.
    expect((await timedGet(port('b_to_c'))).ok).toBe(true);
    expect(await timedGet(port('a_to_b'), '/', 300)).toMatchObject({ ok: false, error: 'timeout' });

    await heal();
    expect((await api.listProxies()).flatMap((p) => p.toxics)).toEqual([]);
    expect((await timedGet(port('a_to_b'))).ok).toBe(true);
  });

  it('one-way down partition disables only links leaving groups[0]', async () => {
    const heal = await apply({ type: 'partition', groups: [['a'], ['b', 'c']], oneWay: true, mode: 'down' });
    const disabled = (await api.listProxies()).filter((p) => !p.enabled).map((p) => p.name);
    expect(disabled).toEqual(['a_to_b', 'a_to_c']);
    expect(await timedGet(port('a_to_b'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect((await timedGet(port('b_to_a'))).ok).toBe(true);
    await heal();
    expect((await api.listProxies()).every((p) => p.enabled)).toBe(true);
  });

  it('two faults on one proxy do not collide; healing one keeps the other', async () => {
    const spec = { type: 'latency', links: ['a_to_b'], latencyMs: 5, jitterMs: 0, stream: 'downstream', toxicity: 1 } as const;
    const c1 = ctx();
    const c2 = ctx();
    const heal1 = await apply({ ...spec, links: [...spec.links] }, c1);
    const heal2 = await apply({ ...spec, links: [...spec.links], stream: 'both' }, c2);
    expect(await api.listToxics('a_to_b')).toHaveLength(3);
    await heal1();
    expect(await toxicNames('a_to_b')).toEqual([`chaoslab-${c2.faultId}-downstream`, `chaoslab-${c2.faultId}-upstream`]);
    await heal2();
    expect(await api.listToxics('a_to_b')).toEqual([]);
  });

  it('heal is idempotent, concurrent-safe, and quiet when the proxy is gone', async () => {
    const heal = await apply({ type: 'slow_close', links: ['b_to_c'], delayMs: 10, stream: 'both', toxicity: 1 });
    await Promise.all([heal(), heal()]);
    await heal();
    expect(await api.listToxics('b_to_c')).toEqual([]);

    // Proxy deleted under a live fault: heal must not throw.
    await api.createProxy({ name: 'temp', listen: '127.0.0.1:0', upstream: echo.address });
    const healToxic = await apply({ type: 'bandwidth', links: ['temp'], rateKBps: 1, stream: 'upstream', toxicity: 1 });
    const healDown = await apply({ type: 'down', links: ['temp'] });
    await api.deleteProxy('temp');
    await expect(healToxic()).resolves.toBeUndefined();
    await expect(healDown()).resolves.toBeUndefined();
  });

  it('heal is quiet when the whole server is gone', async () => {
    const other = await startTestToxiproxy(path.join(tmp, 'other.log'));
    try {
      await other.client.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: echo.address });
      const heal = await apply({ type: 'reset_peer', links: ['p'], timeoutMs: 0, stream: 'downstream', toxicity: 1 }, { ...ctx(), toxiproxy: other.client });
      await other.stop();
      await expect(heal()).resolves.toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('rolls back a partly applied fault when one link fails', async () => {
    const err = await apply(
      { type: 'limit_data', links: ['b_to_c', 'no_such_proxy'], bytes: 100, stream: 'both', toxicity: 1 },
      ctx(),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, serverError: 'proxy not found' });
    expect(await api.listToxics('b_to_c')).toEqual([]);

    const downErr = await apply({ type: 'down', links: ['c_to_b', 'no_such_proxy'] }).catch((e: unknown) => e);
    expect(downErr).toMatchObject({ status: 404 });
    expect((await api.getProxy('c_to_b')).enabled).toBe(true);
  });

  it('applies the remaining toxic types with the attributes Toxiproxy expects', async () => {
    const c = ctx();
    const specs: FaultSpec[] = [
      { type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 },
      { type: 'slicer', links: ['a_to_c'], averageSize: 64, sizeVariation: 16, delayUs: 10, stream: 'downstream', toxicity: 0.5 },
      { type: 'limit_data', links: ['b_to_a'], bytes: 1000, stream: 'upstream', toxicity: 1 },
      { type: 'reset_peer', links: ['c_to_a'], timeoutMs: 20, stream: 'downstream', toxicity: 1 },
      { type: 'slow_close', links: ['b_to_c'], delayMs: 10, stream: 'downstream', toxicity: 1 },
    ];
    const applied = [];
    for (const [i, s] of specs.entries()) applied.push(await apply(s, { ...c, faultId: `${c.faultId}-${i}` }));
    const byProxy = Object.fromEntries((await api.listProxies()).map((p) => [p.name, p.toxics]));
    expect(byProxy['a_to_b']?.[0]).toMatchObject({ type: 'bandwidth', stream: 'upstream', attributes: { rate: 64 } });
    expect(byProxy['a_to_c']?.[0]).toMatchObject({ type: 'slicer', toxicity: 0.5, attributes: { average_size: 64, size_variation: 16, delay: 10 } });
    expect(byProxy['b_to_a']?.[0]).toMatchObject({ type: 'limit_data', attributes: { bytes: 1000 } });
    expect(byProxy['c_to_a']?.[0]).toMatchObject({ type: 'reset_peer', attributes: { timeout: 20 } });
    expect(byProxy['b_to_c']?.[0]).toMatchObject({ type: 'slow_close', attributes: { delay: 10 } });
    // reset_peer really resets
    expect(await timedGet(port('c_to_a'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    for (const heal of applied) await heal();
    expect((await api.listProxies()).flatMap((p) => p.toxics)).toEqual([]);
  });
});
