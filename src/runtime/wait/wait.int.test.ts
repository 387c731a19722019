import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/ports.js';
import { Wait, WaitFailure } from './index.js';

let server: http.Server;
let url: string;
let port: number;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(req.url === '/version' ? 200 : 503);
    res.end(req.url === '/version' ? '{"version":"2.12.0"}' : '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('wait strategies against a real server', () => {
  it('forHttp (with a body check), forPort and forAll resolve on a live server', async () => {
    await Wait.forAll([Wait.forPort('127.0.0.1', port), Wait.forHttp(`${url}/version`).forResponse((b) => b.includes('"version"'))])
      .withTimeout(2000)
      .waitUntilReady({ name: 'server' });
  });

  it('say what they last saw when it never gets ready', async () => {
    const notHealthy = (await Wait.forHttp(`${url}/health`).withTimeout(200).waitUntilReady({ name: 'node a' }).catch((e: unknown) => e)) as WaitFailure;
    expect(notHealthy.detail).toBe(`${url}/health: status 503`);
    const closed = await freePort();
    const refused = (await Wait.forPort('127.0.0.1', closed).withTimeout(200).waitUntilReady({ name: 'node b' }).catch((e: unknown) => e)) as WaitFailure;
    expect(refused).toBeInstanceOf(WaitFailure);
    expect(refused.detail).toBe(`127.0.0.1:${closed}: ECONNREFUSED`);
  });
});
