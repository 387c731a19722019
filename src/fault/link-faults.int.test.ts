import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import {
  applyLinkFault,
  describeFault,
  isLinkFaultType,
  LinkFaults,
  resolvePartitionLinks,
  toxicName,
  type LinkFaultSpec,
  type LinkInfo,
} from './link-faults.js';
import type { ToxiproxyApi } from './toxiproxy-api.js';
import type { StartedToxiproxy } from './toxiproxy-server.js';
import { startEchoServer, startTestToxiproxy, timedGet, type EchoServer } from './testing.js';

const link = (from: string, to: string): LinkInfo => ({ name: `${from}_to_${to}`, from, to });
/** Every directed link between the nodes. */
const mesh = (nodes: string[]): LinkInfo[] => nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => link(a, b)));
const names = (ls: LinkInfo[]) => ls.map((l) => l.name).sort();

describe('resolvePartitionLinks', () => {
  const links = mesh(['a', 'b', 'c']);

  it('cuts every link across groups, both ways', () => {
    expect(names(resolvePartitionLinks([['a'], ['b', 'c']], false, links))).toEqual(['a_to_b', 'a_to_c', 'b_to_a', 'c_to_a']);
  });

  it('with oneWay cuts only links leaving groups[0]', () => {
    expect(names(resolvePartitionLinks([['a'], ['b', 'c']], true, links))).toEqual(['a_to_b', 'a_to_c']);
    expect(names(resolvePartitionLinks([['b', 'c'], ['a']], true, links))).toEqual(['b_to_a', 'c_to_a']);
  });

  it('isolates three groups from each other', () => {
    expect(names(resolvePartitionLinks([['a'], ['b'], ['c']], false, links))).toEqual(names(links));
    // one-way from a to b and c, but b and c still talk
    expect(names(resolvePartitionLinks([['a'], ['b'], ['c']], true, links))).toEqual(['a_to_b', 'a_to_c']);
  });

  it('leaves nodes in no group untouched', () => {
    const four = mesh(['a', 'b', 'c', 'd']);
    expect(names(resolvePartitionLinks([['a'], ['b']], false, four))).toEqual(['a_to_b', 'b_to_a']);
  });

  it('handles real instance names and non-mesh tables', () => {
    const table = [link('frontend', 'backend'), link('backend', 'storage-1'), link('storage-1', 'metadata'), link('storage-2', 'metadata')];
    expect(names(resolvePartitionLinks([['storage-1', 'storage-2'], ['metadata']], false, table))).toEqual([
      'storage-1_to_metadata',
      'storage-2_to_metadata',
    ]);
  });

  it('returns nothing for one group, no groups, or unknown nodes', () => {
    expect(resolvePartitionLinks([['a', 'b', 'c']], false, links)).toEqual([]);
    expect(resolvePartitionLinks([], false, links)).toEqual([]);
    expect(resolvePartitionLinks([['x'], ['y']], false, links)).toEqual([]);
  });

  it('rejects a node in two groups', () => {
    expect(() => resolvePartitionLinks([['a', 'b'], ['b', 'c']], false, links)).toThrow(/node "b" is in groups 0 and 1/);
  });
});

describe('describeFault', () => {
  const cases: [LinkFaultSpec, string][] = [
    [
      { type: 'latency', links: ['frontend_to_backend'], latencyMs: 800, jitterMs: 50, stream: 'downstream', toxicity: 1 },
      'latency 800ms±50ms downstream on frontend_to_backend',
    ],
    [{ type: 'latency', links: ['a_to_b', 'b_to_a'], latencyMs: 100, jitterMs: 0, stream: 'both', toxicity: 0.5 }, 'latency 100ms both on a_to_b, b_to_a (toxicity 50%)'],
    [{ type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 }, 'bandwidth 64KB/s upstream on a_to_b'],
    [{ type: 'timeout', links: ['a_to_b'], timeoutMs: 0, stream: 'both', toxicity: 1 }, 'timeout (black hole, never closes) both on a_to_b'],
    [{ type: 'timeout', links: ['a_to_b'], timeoutMs: 2000, stream: 'upstream', toxicity: 1 }, 'timeout (black hole, closes after 2000ms) upstream on a_to_b'],
    [{ type: 'reset_peer', links: ['a_to_b'], timeoutMs: 0, stream: 'downstream', toxicity: 1 }, 'reset_peer after 0ms downstream on a_to_b'],
    [{ type: 'slow_close', links: ['a_to_b'], delayMs: 500, stream: 'downstream', toxicity: 1 }, 'slow_close 500ms downstream on a_to_b'],
    [
      { type: 'slicer', links: ['a_to_b'], averageSize: 64, sizeVariation: 16, delayUs: 10, stream: 'downstream', toxicity: 1 },
      'slicer 64±16B every 10µs downstream on a_to_b',
    ],
    [{ type: 'limit_data', links: ['a_to_b'], bytes: 1000, stream: 'upstream', toxicity: 1 }, 'limit_data 1000B upstream on a_to_b'],
    [{ type: 'down', links: ['a_to_b', 'a_to_c'] }, 'down on a_to_b, a_to_c'],
    [{ type: 'partition', groups: [['a'], ['b', 'c']], oneWay: false, mode: 'blackhole' }, 'partition [a] | [b, c] (blackhole)'],
    [{ type: 'partition', groups: [['a'], ['b'], ['c']], oneWay: true, mode: 'down' }, 'partition [a] -> [b] [c] one-way (down)'],
  ];
  it.each(cases)('%j', (spec, line) => {
    expect(describeFault(spec)).toBe(line);
  });
});

describe('LinkFaults registry', () => {
  it('has one entry per spec type, each with apply', () => {
    expect(Object.keys(LinkFaults).sort()).toEqual(
      ['bandwidth', 'down', 'latency', 'limit_data', 'partition', 'reset_peer', 'slicer', 'slow_close', 'timeout'].sort(),
    );
    for (const f of Object.values(LinkFaults)) expect(typeof f.apply).toBe('function');
    expect(isLinkFaultType('latency')).toBe(true);
    expect(isLinkFaultType('toString')).toBe(false);
  });

  it('names toxics per fault and stream', () => {
    expect(toxicName('f3', 'upstream')).toBe('chaoslab-f3-upstream');
  });

  it('refuses a partition that cuts nothing, before calling the API', async () => {
    const noApi = {} as ToxiproxyApi; // never touched: the check comes first
    const err = await applyLinkFault(noApi, { type: 'partition', groups: [['x'], ['y']], oneWay: false, mode: 'blackhole' }, {
      faultId: 'p',
      links: mesh(['a', 'b']),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe(Errors.InvalidScenario.code);
  });
});

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
  const table: LinkInfo[] = [link('frontend', 'backend'), ...mesh(nodes)];
  let seq = 0;
  const ctx = () => ({ faultId: `f${++seq}`, links: table });
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
    const applied = await applyLinkFault(
      api,
      { type: 'latency', links: ['frontend_to_backend'], latencyMs: 300, jitterMs: 0, stream: 'downstream', toxicity: 1 },
      ctx(),
    );
    expect(applied.description).toBe('latency 300ms downstream on frontend_to_backend');
    const slow = await timedGet(port('frontend_to_backend'));
    expect(slow.ok).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(295);
    expect(slow.ms).toBeLessThan(300 + base + 200);
    await applied.heal();
    expect((await timedGet(port('frontend_to_backend'))).ms).toBeLessThan(150);
  });

  it('stream both adds one toxic per direction (latency counts twice on a round trip)', async () => {
    const c = ctx();
    const applied = await applyLinkFault(
      api,
      { type: 'latency', links: ['frontend_to_backend'], latencyMs: 150, jitterMs: 0, stream: 'both', toxicity: 1 },
      c,
    );
    const toxics = await api.listToxics('frontend_to_backend');
    expect(toxics.map((t) => [t.name, t.stream]).sort()).toEqual([
      [`chaoslab-${c.faultId}-downstream`, 'downstream'],
      [`chaoslab-${c.faultId}-upstream`, 'upstream'],
    ]);
    expect(applied.toxics).toHaveLength(2);
    const r = await timedGet(port('frontend_to_backend'));
    expect(r.ms).toBeGreaterThanOrEqual(295);
    await applied.heal();
  });

  it('timeout 0 black-holes (connect succeeds, no answer in 500 ms); heal restores new requests and closes the stuck one', async () => {
    const p = port('frontend_to_backend');
    // A connection opened before the fault: it gets stuck, then closed when the toxic goes (PR #168).
    const early = net.connect(p, '127.0.0.1');
    await new Promise<void>((r) => early.once('connect', () => r()));
    const earlyClosed = new Promise<void>((r) => early.once('close', () => r()));
    early.on('error', () => undefined);

    const applied = await applyLinkFault(api, { type: 'timeout', links: ['frontend_to_backend'], timeoutMs: 0, stream: 'both', toxicity: 1 }, ctx());
    early.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await timedGet(p, '/', 500);
    expect(r).toMatchObject({ ok: false, error: 'timeout' });

    await applied.heal();
    expect((await timedGet(p)).ok).toBe(true);
    await expect(Promise.race([earlyClosed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 1_000))])).resolves.toBe('closed');
    early.destroy();
  });

  it('down refuses connections; heal re-enables', async () => {
    await baseline('frontend_to_backend');
    const applied = await applyLinkFault(api, { type: 'down', links: ['frontend_to_backend'] }, ctx());
    expect(applied.disabledProxies).toEqual(['frontend_to_backend']);
    expect(await timedGet(port('frontend_to_backend'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    await applied.heal();
    expect((await timedGet(port('frontend_to_backend'))).ok).toBe(true);
  });

  it('blackhole partition cuts exactly the cross-group proxies, and heals', async () => {
    const c = ctx();
    const applied = await applyLinkFault(api, { type: 'partition', groups: [['a'], ['b', 'c']], oneWay: false, mode: 'blackhole' }, c);
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

    await applied.heal();
    expect((await api.listProxies()).flatMap((p) => p.toxics)).toEqual([]);
    expect((await timedGet(port('a_to_b'))).ok).toBe(true);
  });

  it('one-way down partition disables only links leaving groups[0]', async () => {
    const applied = await applyLinkFault(api, { type: 'partition', groups: [['a'], ['b', 'c']], oneWay: true, mode: 'down' }, ctx());
    expect([...applied.disabledProxies].sort()).toEqual(['a_to_b', 'a_to_c']);
    const disabled = (await api.listProxies()).filter((p) => !p.enabled).map((p) => p.name);
    expect(disabled).toEqual(['a_to_b', 'a_to_c']);
    expect(await timedGet(port('a_to_b'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect((await timedGet(port('b_to_a'))).ok).toBe(true);
    await applied.heal();
    expect((await api.listProxies()).every((p) => p.enabled)).toBe(true);
  });

  it('two faults on one proxy do not collide; healing one keeps the other', async () => {
    const spec = { type: 'latency', links: ['a_to_b'], latencyMs: 5, jitterMs: 0, stream: 'downstream', toxicity: 1 } as const;
    const f1 = await applyLinkFault(api, { ...spec, links: [...spec.links] }, ctx());
    const f2 = await applyLinkFault(api, { ...spec, links: [...spec.links], stream: 'both' }, ctx());
    expect(await api.listToxics('a_to_b')).toHaveLength(3);
    await f1.heal();
    expect((await api.listToxics('a_to_b')).map((t) => t.name).sort()).toEqual(f2.toxics.map((t) => t.name).sort());
    await f2.heal();
    expect(await api.listToxics('a_to_b')).toEqual([]);
  });

  it('heal is idempotent, concurrent-safe, and quiet when the proxy is gone', async () => {
    const f = await applyLinkFault(api, { type: 'slow_close', links: ['b_to_c'], delayMs: 10, stream: 'both', toxicity: 1 }, ctx());
    await Promise.all([f.heal(), f.heal()]);
    await f.heal();
    expect(await api.listToxics('b_to_c')).toEqual([]);

    // Proxy deleted under a live fault: heal must not throw.
    await api.createProxy({ name: 'temp', listen: '127.0.0.1:0', upstream: echo.address });
    const onTemp = await applyLinkFault(api, { type: 'bandwidth', links: ['temp'], rateKBps: 1, stream: 'upstream', toxicity: 1 }, ctx());
    const downTemp = await applyLinkFault(api, { type: 'down', links: ['temp'] }, ctx());
    await api.deleteProxy('temp');
    await expect(onTemp.heal()).resolves.toBeUndefined();
    await expect(downTemp.heal()).resolves.toBeUndefined();
  });

  it('heal is quiet when the whole server is gone', async () => {
    const other = await startTestToxiproxy(path.join(tmp, 'other.log'));
    try {
      await other.client.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: echo.address });
      const f = await applyLinkFault(other.client, { type: 'reset_peer', links: ['p'], timeoutMs: 0, stream: 'downstream', toxicity: 1 }, ctx());
      await other.stop();
      await expect(f.heal()).resolves.toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('rolls back a partly applied fault when one link fails', async () => {
    const err = await applyLinkFault(
      api,
      { type: 'limit_data', links: ['b_to_c', 'no_such_proxy'], bytes: 100, stream: 'both', toxicity: 1 },
      ctx(),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, serverError: 'proxy not found' });
    expect(await api.listToxics('b_to_c')).toEqual([]);

    const downErr = await applyLinkFault(api, { type: 'down', links: ['c_to_b', 'no_such_proxy'] }, ctx()).catch((e: unknown) => e);
    expect(downErr).toMatchObject({ status: 404 });
    expect((await api.getProxy('c_to_b')).enabled).toBe(true);
  });

  it('applies the remaining toxic types with the attributes Toxiproxy expects', async () => {
    const c = ctx();
    const specs: LinkFaultSpec[] = [
      { type: 'bandwidth', links: ['a_to_b'], rateKBps: 64, stream: 'upstream', toxicity: 1 },
      { type: 'slicer', links: ['a_to_c'], averageSize: 64, sizeVariation: 16, delayUs: 10, stream: 'downstream', toxicity: 0.5 },
      { type: 'limit_data', links: ['b_to_a'], bytes: 1000, stream: 'upstream', toxicity: 1 },
      { type: 'reset_peer', links: ['c_to_a'], timeoutMs: 20, stream: 'downstream', toxicity: 1 },
      { type: 'slow_close', links: ['b_to_c'], delayMs: 10, stream: 'downstream', toxicity: 1 },
    ];
    const applied = [];
    for (const [i, s] of specs.entries()) applied.push(await applyLinkFault(api, s, { ...c, faultId: `${c.faultId}-${i}` }));
    const byProxy = Object.fromEntries((await api.listProxies()).map((p) => [p.name, p.toxics]));
    expect(byProxy['a_to_b']?.[0]).toMatchObject({ type: 'bandwidth', stream: 'upstream', attributes: { rate: 64 } });
    expect(byProxy['a_to_c']?.[0]).toMatchObject({ type: 'slicer', toxicity: 0.5, attributes: { average_size: 64, size_variation: 16, delay: 10 } });
    expect(byProxy['b_to_a']?.[0]).toMatchObject({ type: 'limit_data', attributes: { bytes: 1000 } });
    expect(byProxy['c_to_a']?.[0]).toMatchObject({ type: 'reset_peer', attributes: { timeout: 20 } });
    expect(byProxy['b_to_c']?.[0]).toMatchObject({ type: 'slow_close', attributes: { delay: 10 } });
    // reset_peer really resets
    expect(await timedGet(port('c_to_a'), '/', 1_000)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    for (const f of applied) await f.heal();
    expect((await api.listProxies()).flatMap((p) => p.toxics)).toEqual([]);
  });
});
