import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeNode, fakeApplyContext, fakeResolveContext } from '../testing.js';
import { clock } from './clock.js';

describe('clock', () => {
  it('reads a signed offset', () => {
    const ctx = fakeResolveContext({ nodes: ['a'] });
    expect(clock.resolve(clock.schema.parse({ type: 'clock', nodes: 'a', offset: '-1.5s' }), ctx)).toEqual({ type: 'clock', nodes: ['a'], offsetMs: -1500 });
    expect(clock.schema.parse({ type: 'clock', nodes: 'a', offset: '+2s' }).offset).toBe(2000);
    expect(clock.schema.safeParse({ type: 'clock', nodes: 'a', offset: 'soon' }).success).toBe(false);
  });

  it('is described, targeted and claimed as before', () => {
    expect(clock.describe({ type: 'clock', nodes: ['a', 'b'], offsetMs: -500 })).toBe('clock -500ms on a, b');
    expect(clock.describe({ type: 'clock', nodes: ['a'], offsetMs: 2000 })).toBe('clock +2s on a');
    expect(clock.targets({ type: 'clock', nodes: ['a'], offsetMs: 1 })).toEqual(['a']);
    // A clock fault and a kill on one node may overlap: they hold different things.
    expect(clock.claims({ type: "clock", nodes: ["a"], offsetMs: 1 })).toEqual(['clock:a']);
  });

  describe('apply', () => {
    let server: http.Server | undefined;
    afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

    it('sets the offset on each node, and heal sets it back to 0', async () => {
      // An in-process stand-in for a toy's POST /admin/clock (no process, no waiting).
      const seen: unknown[] = [];
      server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', () => {
          seen.push([req.method, req.url, JSON.parse(body)]);
          res.end('{}');
        });
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const ctx = fakeApplyContext({ nodes: new Map([['a', new FakeNode('a')]]), nodeAddress: () => `127.0.0.1:${port}` });
      const heal = await clock.apply({ type: 'clock', nodes: ['a'], offsetMs: -500 }, ctx);
      await heal();
      expect(seen).toEqual([
        ['POST', '/admin/clock', { offsetMs: -500 }],
        ['POST', '/admin/clock', { offsetMs: 0 }],
      ]);
    });

    it('a node that is not running is a node failure', async () => {
      await expect(clock.apply({ type: 'clock', nodes: ['a'], offsetMs: 1 }, fakeApplyContext())).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED' });
    });
  });
});
