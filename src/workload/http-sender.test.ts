import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHttpSender, wasNotSent, type HttpSender, type OutgoingRequest } from './http-sender.js';
import { createRawHttpSender } from './raw-http-sender.js';

let server: http.Server;
let base = '';
const sockets = new Set<net.Socket>();
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (url.startsWith('/chunked')) {
        res.write('hel');
        setTimeout(() => res.end('lo'), 5);
      } else if (url.startsWith('/close')) {
        res.writeHead(200, { connection: 'close' });
        res.end('bye');
      } else if (url.startsWith('/empty')) {
        res.writeHead(204);
        res.end();
      } else if (url.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 2000);
      } else if (url.startsWith('/big')) {
        res.end('x'.repeat(200_000));
      } else if (url.startsWith('/utf8')) {
        res.end('héllo ✓');
      } else {
        res.statusCode = url.startsWith('/missing') ? 404 : 200;
        res.end(`${req.method} ${url} ${body}`);
      }
    });
  });
  server.on('connection', (s: net.Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const req = (path: string, over: Partial<OutgoingRequest> = {}): OutgoingRequest => ({ op: 'x', method: 'GET', target: base, path, seq: 1, key: 1, ...over });
const never = new AbortController().signal;

const senders: [string, (maxSockets: number) => HttpSender][] = [
  ['raw sockets', (n) => createRawHttpSender({ maxSockets: n, maxBodyChars: 100_000 })],
  ['node:http', (n) => createNodeHttpSender({ maxSockets: n, maxBodyChars: 100_000 })],
];

describe.each(senders)('%s sender', (_name, make) => {
  it('sends method, path and body; reads status and body', async () => {
    const s = make(4);
    try {
      expect(await s.send(req('/kv/1'), never)).toEqual({ status: 200, body: 'GET /kv/1 ' });
      expect(await s.send(req('/kv/2', { method: 'PUT', body: '{"v":2}' }), never)).toEqual({ status: 200, body: 'PUT /kv/2 {"v":2}' });
      expect(await s.send(req('/d', { method: 'DELETE' }), never)).toEqual({ status: 200, body: 'DELETE /d ' });
      expect((await s.send(req('/missing'), never)).status).toBe(404);
      expect(await s.send(req('/chunked'), never)).toEqual({ status: 200, body: 'hello' });
      expect(await s.send(req('/close'), never)).toEqual({ status: 200, body: 'bye' });
      expect((await s.send(req('/empty'), never)).status).toBe(204);
      expect((await s.send(req('/utf8'), never)).body).toBe('héllo ✓');
      expect((await s.send(req('/big'), never)).body).toHaveLength(100_000);
      expect(await s.send(req('/after-close'), never)).toEqual({ status: 200, body: 'GET /after-close ' });
    } finally {
      await s.close();
    }
  });

  it('keeps connections alive and caps them at maxSockets', async () => {
    const s = make(3);
    const before = connections;
    try {
      for (let round = 0; round < 3; round++) {
        const all = await Promise.all(Array.from({ length: 12 }, (_, i) => s.send(req(`/p${i}`), never)));
        expect(all.every((r) => r.status === 200)).toBe(true);
      }
      expect(connections - before).toBeLessThanOrEqual(3);
    } finally {
      await s.close();
    }
  });

  it('abort rejects promptly and frees the connection', async () => {
    const s = make(1);
    try {
      const c = new AbortController();
      const slow = s.send(req('/slow'), c.signal);
      setTimeout(() => c.abort('timeout'), 50);
      const t = performance.now();
      await expect(slow).rejects.toBeDefined();
      expect(performance.now() - t).toBeLessThan(1000);
      expect(await s.send(req('/next'), never)).toEqual({ status: 200, body: 'GET /next ' });
    } finally {
      await s.close();
    }
  });

  it('connection refused is an error that proves nothing was sent', async () => {
    const s = make(2);
    try {
      const err = await s.send(req('/x', { target: 'http://127.0.0.1:1' }), never).catch((e: unknown) => e);
      expect(wasNotSent(err)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('a reset after sending is not "not sent"', async () => {
    const rude = net.createServer((sock) => sock.once('data', () => sock.resetAndDestroy()));
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    const s = make(2);
    try {
      const err = await s.send(req('/x', { target: `http://127.0.0.1:${(rude.address() as AddressInfo).port}` }), never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(wasNotSent(err)).toBe(false);
    } finally {
      await s.close();
      await new Promise((r) => rude.close(r));
    }
  });
});

describe('raw sockets sender keep-alive hygiene', () => {
  it('does not reuse a connection past the server-announced keep-alive timeout', async () => {
    const short = http.createServer((_req, res) => res.end('ok'));
    short.keepAliveTimeout = 2000; // announced as `Keep-Alive: timeout=2`: reuse for at most 1 s
    let opened = 0;
    short.on('connection', () => opened++);
    await new Promise<void>((r) => short.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(short.address() as AddressInfo).port}`;
    // The sender's clock, moved by hand: a second passes without waiting for it.
    let clock = 0;
    const s = createRawHttpSender({ maxSockets: 2, now: () => clock });
    try {
      await s.send(req('/a', { target }), never);
      await s.send(req('/b', { target }), never);
      expect(opened).toBe(1);
      clock += 999;
      await s.send(req('/b2', { target }), never);
      expect(opened, 'reused within the limit').toBe(1);
      clock += 1000;
      expect(await s.send(req('/c', { target }), never)).toEqual({ status: 200, body: 'ok' });
      expect(opened).toBe(2);
    } finally {
      await s.close();
      short.closeAllConnections();
      await new Promise((r) => short.close(r));
    }
  });
});
