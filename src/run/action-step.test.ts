import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionSpec } from '../scenario/plan.js';
import { callInstance, describeAction } from './action-step.js';
import { scheduleActions } from './timeline.js';

const spec = (over: Partial<ActionSpec> = {}): ActionSpec => ({ node: 'lb-state', instances: ['lb-state'], port: 'http', method: 'POST', path: '/admin/delete', body: { text: '{"lbs":["lb-tv-east"]}', contentType: 'application/json' }, timeoutMs: 1000, ...over });

// An in-process server on a free loopback port answers like a node's admin API (no process, no waiting).
let server: http.Server;
let address = '';
const seen: { method: string; url: string; type: string | undefined; body: string }[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'], body });
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500);
      res.statusCode = req.url === '/admin/delete' ? 200 : 404;
      res.end(req.url === '/admin/delete' ? '{"deleted":["lb-tv-east"]}' : 'no such route');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('describeAction', () => {
  it('says the method, the node, the path and the body (shortened)', () => {
    expect(describeAction(spec())).toBe('POST lb-state /admin/delete {"lbs":["lb-tv-east"]}');
    const { body: _b, ...noBody } = spec({ method: 'GET', path: '/admin/config' });
    expect(describeAction(noBody)).toBe('GET lb-state /admin/config');
    expect(describeAction(spec({ body: { text: 'x'.repeat(200), contentType: 'text/plain' } })).length).toBeLessThan(120);
  });
});

describe('callInstance', () => {
  it('sends the method, the path and the body with its content type, and keeps the status', async () => {
    expect(await callInstance(spec(), 'lb-state', address)).toEqual({ node: 'lb-state', status: 200 });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/admin/delete', type: 'application/json', body: '{"lbs":["lb-tv-east"]}' });
  });
  it('an answer other than 2xx is a failed call, with what the node said', async () => {
    const c = await callInstance(spec({ path: '/admin/nope' }), 'lb-state', address);
    expect(c).toEqual({ node: 'lb-state', status: 404, error: 'answered 404: no such route' });
  });
  it('no answer in time, or no one listening, is a failed call without a status', async () => {
    expect(await callInstance(spec({ path: '/slow', timeoutMs: 50 }), 'lb-state', address)).toEqual({ node: 'lb-state', status: null, error: 'no answer within 50 ms' });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await callInstance(spec(), 'lb-state', `127.0.0.1:${port}`);
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/ECONNREFUSED/);
  });
});

describe('scheduling', () => {
  it('an action is applied once, never healed, and a control run drops it unless kept', () => {
    const action = { name: 'delete-state', index: 0, atMs: 1000, forMs: undefined, inControl: false, action: spec() };
    expect(scheduleActions([action], { control: false }).map((a) => `${a.kind}@${a.atMs}`)).toEqual(['apply@1000']);
    expect(scheduleActions([action], { control: true })).toEqual([]);
    expect(scheduleActions([{ ...action, inControl: true }], { control: true })).toHaveLength(1);
  });
});
