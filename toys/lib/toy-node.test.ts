import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ToyConfigError, startToy, type NodeConfig, type RunningToy, type ToySetup } from './toy-node.js';

function config(over: Partial<NodeConfig> = {}): NodeConfig {
  return { name: 'n-0', group: 'g', index: 0, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: {}, seed: 1, runId: 'r', ...over };
}

const running: RunningToy[] = [];
async function start(setup: ToySetup, over: Partial<NodeConfig> = {}): Promise<RunningToy> {
  const r = await startToy(config(over), setup);
  running.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(100)));
});

describe('startToy', () => {
  it('serves health, routes with params and prefixes, 404 and 405', async () => {
    const t = await start((toy) => {
      toy.route('GET', '/item/:key', (req) => ({ body: { key: req.params.key, q: req.query.get('q') } }));
      toy.route('GET', '/files/*', (req) => ({ body: { rest: req.params['*'] } }));
      toy.route('POST', '/echo', async (req) => ({ status: 201, body: await req.json() }));
    });
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${t.url}/item/a%20b?q=1`)).json()).toEqual({ key: 'a b', q: '1' });
    expect(await (await fetch(`${t.url}/files/x/y/z`)).json()).toEqual({ rest: 'x/y/z' });
    const echo = await fetch(`${t.url}/echo`, { method: 'POST', body: '{"a":1}' });
    expect(echo.status).toBe(201);
    expect(await echo.json()).toEqual({ a: 1 });
    expect((await fetch(`${t.url}/echo`, { method: 'POST', body: '{bad' })).status).toBe(400);
    expect((await fetch(`${t.url}/nope`)).status).toBe(404);
    expect((await fetch(`${t.url}/echo`)).status).toBe(405);
  });

  it('answers 503 on /health while the toy is not ready', async () => {
    const t = await start((toy) => {
      toy.ready = false;
    });
    expect((await fetch(`${t.url}/health`)).status).toBe(503);
    t.toy.ready = true;
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });

  it('exposes request metrics with node and group labels, not counting built-ins', async () => {
    const t = await start(
      (toy) => {
        toy.route('GET', '/item/:key', () => ({ body: {} }));
        toy.route('GET', '/boom', () => {
          throw new Error('boom');
        });
      },
      { name: 'storage-2', group: 'storage' },
    );
    await fetch(`${t.url}/item/a`);
    await fetch(`${t.url}/item/b`);
    expect((await fetch(`${t.url}/boom`)).status).toBe(500);
    await fetch(`${t.url}/health`);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toContain('toy_requests_total{route="/item/:key",code="200",node="storage-2",group="storage"} 2');
    expect(text).toContain('toy_requests_total{route="/boom",code="500",node="storage-2",group="storage"} 1');
    expect(text).toContain('toy_request_duration_seconds_count{node="storage-2",group="storage",route="/item/:key"} 2');
    expect(text).not.toContain('route="/health"');
    expect(text).not.toContain('process_cpu');
  });

  it('reports its wall clock on GET /admin/clock, and the lab cannot set it over HTTP', async () => {
    const t = await start(() => {});
    const read = async () => ((await (await fetch(`${t.url}/admin/clock`)).json()) as { now: number }).now - Date.now();
    expect(Math.abs(await read())).toBeLessThan(50);
    // Only an in-process test moves the toy's clock; a clock fault moves the process's wall clock (libfaketime).
    t.toy.clock.setOffset(-500);
    expect(await read()).toBeGreaterThan(-550);
    expect(await read()).toBeLessThan(-450);
    expect((await fetch(`${t.url}/admin/clock`, { method: 'POST', body: '{"offsetMs":0}' })).status).toBe(405);
    expect(t.toy.clock.offsetMs).toBe(-500);
    expect(await (await fetch(`${t.url}/metrics`)).text()).not.toContain('toy_clock_offset_seconds');
    expect((await (await fetch(`${t.url}/admin/config`)).json()) as object).toEqual(expect.objectContaining({ name: 'n-0' }));
  });

  it('refuses params the toy never reads, and missing peers', async () => {
    await expect(start((toy) => void toy.params.num('workMs', 1), { params: { workMs: 2, wrokMs: 3 } })).rejects.toThrow(
      /unknown param "wrokMs" for g; it reads: workMs/,
    );
    await expect(start((toy) => void toy.peer('backend'))).rejects.toBeInstanceOf(ToyConfigError);
  });

  it('changes live params through POST /admin/params (a config push), all or nothing', async () => {
    let read: { timeout: () => number; on: () => boolean } | undefined;
    const t = await start(
      (toy) => {
        read = { timeout: toy.params.liveNum('timeoutMs', 0), on: toy.params.liveBool('fallback', false) };
        void toy.params.num('workMs', 1);
      },
      { params: { timeoutMs: 5, workMs: 2 } },
    );
    const push = (body: unknown) => fetch(`${t.url}/admin/params`, { method: 'POST', body: JSON.stringify(body) });
    expect(await (await fetch(`${t.url}/admin/params`)).json()).toEqual({ live: { timeoutMs: 5, fallback: false } });
    const ok = await push({ timeoutMs: 200, fallback: true });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ live: { timeoutMs: 200, fallback: true } });
    expect(read!.timeout()).toBe(200);
    expect(read!.on()).toBe(true);
    // A param read once at start is not live; a wrong type is refused; nothing of a refused push is applied.
    const notLive = await push({ timeoutMs: 300, workMs: 9 });
    expect(notLive.status).toBe(400);
    expect(((await notLive.json()) as { error: string }).error).toMatch(/"workMs" is not a live param \(live: timeoutMs, fallback\)/);
    expect(read!.timeout()).toBe(200);
    expect((await push({ fallback: 'yes' })).status).toBe(400);
    expect((await push([1])).status).toBe(400);
    expect(read!.on()).toBe(true);
  });

  it('answers a request target the URL parser refuses, and a reply it cannot serialize, instead of crashing', async () => {
    const t = await start((toy) => {
      toy.route('GET', '/big', () => ({ body: { n: 1n } }));
    });
    // fetch() never sends such a target; another program on the network may. Raw HTTP, one request per connection.
    const raw = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const c = net.connect(t.port, '127.0.0.1', () => c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        c.on('data', (d: Buffer) => (text += d.toString('utf8')));
        c.on('close', () => resolve(text));
        c.on('error', reject);
        c.setTimeout(2000, () => c.destroy(new Error(`no answer to GET ${target}`)));
      });
    expect(await raw('//a:99999/x')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('/big')).toMatch(/^HTTP\/1\.1 500 /);
    // Still serving.
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });

  it('closes with a request in flight within the grace period', async () => {
    const t = await startToy(config(), (toy) => {
      toy.route('GET', '/hang', () => new Promise(() => {}));
    });
    const hung = fetch(`${t.url}/hang`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await t.close(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hung).toBeInstanceOf(Error);
  });
});
