import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, PeerClient, TimeoutError, createAgent } from './http-client.js';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

async function listen(server: http.Server | net.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    if (server instanceof http.Server) server.closeAllConnections();
    server.close();
  });
  const a = server.address() as net.AddressInfo;
  return `127.0.0.1:${a.port}`;
}

function client(address: string): PeerClient {
  const agent = createAgent();
  closers.push(() => agent.destroy());
  return new PeerClient(address, agent);
}

describe('PeerClient', () => {
  it('returns any status with the parsed JSON body', async () => {
    const addr = await listen(
      http.createServer((req, res) => {
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url }));
      }),
    );
    const c = client(addr);
    expect(await c.get('/a')).toMatchObject({ status: 200, body: { url: '/a' } });
    expect(await c.get('/missing')).toMatchObject({ status: 404, body: { url: '/missing' } });
  });

  it('throws TimeoutError at the deadline, and waits without one', async () => {
    const addr = await listen(http.createServer((_req, res) => void setTimeout(() => res.end('late'), 300)));
    const c = client(addr);
    const started = performance.now();
    const err = await c.get('/', { timeoutMs: 80 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(250);
    expect((await c.get('/', { timeoutMs: 0 })).text).toBe('late');
  });

  it('throws ConnectionError on refused and reset connections', async () => {
    const refused = await listen(net.createServer());
    closers.pop()!();
    await new Promise((r) => setTimeout(r, 20));
    const e1 = await client(refused).get('/').catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectionError);
    expect((e1 as ConnectionError).code).toBe('ECONNREFUSED');

    // Like Toxiproxy when its upstream dial fails (#265): accept, then close.
    const resetting = await listen(net.createServer((s) => s.destroy()));
    const e2 = await client(resetting).get('/').catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(ConnectionError);
  });

  it('throws ConnectionError when the peer dies mid-reply', async () => {
    const addr = await listen(
      net.createServer((s) => {
        s.once('data', () => {
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
          setTimeout(() => s.destroy(), 20);
        });
      }),
    );
    expect(await client(addr).get('/').catch((e: unknown) => e)).toBeInstanceOf(ConnectionError);
  });
});
