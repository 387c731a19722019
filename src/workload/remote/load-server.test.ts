/**
 * The load server's API without sockets: `LoadService.handle` with a sender that answers at once, and loads of a
 * few hundred ms. The socket, the idle deadline and the process are the integration test's (load-server.int.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Sender } from '../load-generator.js';
import { HISTORY_ELAPSED_HEADER, LOAD_API, LoadStatus, Stopped, type ApiError } from './load-api.js';
import { LoadService, ResultRing, type ServiceReply } from './load-server.js';
import { testLoadSpec } from './testing.js';

const spec = testLoadSpec;

/** `get` answers 503, everything else 200, at once. */
const sender: Sender = async (req) => ({ status: req.op === 'get' ? 503 : 200 });

const services: LoadService[] = [];
function service(): LoadService {
  const s = new LoadService({ send: sender });
  services.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const call = (s: LoadService, method: string, path: string, body: unknown = undefined, query = ''): Promise<ServiceReply> =>
  s.handle({ method, path, query: new URLSearchParams(query), body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) });
const parsed = (r: ServiceReply): unknown => JSON.parse(r.body);
const errorOf = (r: ServiceReply): ApiError['error'] => (parsed(r) as ApiError).error;

async function finished(s: LoadService): Promise<LoadStatus> {
  for (let i = 0; i < 100; i++) {
    const st = LoadStatus.parse(parsed(await call(s, 'GET', LOAD_API.status)));
    if (st.state !== 'running') return st;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the load did not finish');
}

describe('LoadService', () => {
  it('runs a load: start, status with the live results, summary, history and metrics', async () => {
    const s = service();
    const idle = LoadStatus.parse(parsed(await call(s, 'GET', LOAD_API.status)));
    expect(idle).toMatchObject({ load: 0, state: 'idle' });

    const started = await call(s, 'POST', LOAD_API.start, spec());
    expect(started.status).toBe(201);
    expect(parsed(started)).toEqual({ load: 1 });
    expect((await call(s, 'POST', LOAD_API.start, spec())).status).toBe(409);

    const st = await finished(s);
    expect(st.state).toBe('finished');
    const sum = st.summary!;
    expect(sum.sent).toBe(20);
    expect(sum.byOp.add!.ok + sum.byOp.get!.error).toBe(20);
    expect(st.counts).toMatchObject({ sent: 20, ok: sum.ok, error: sum.error, timeout: 0, dropped: 0 });
    expect(st.byOp.get!.error).toBe(sum.byOp.get!.error);

    // The live feed: every result once, from the cursor on.
    const all = LoadStatus.parse(parsed(await call(s, 'GET', LOAD_API.status, undefined, 'after=0'))).results!;
    expect(all).toMatchObject({ next: 20, lost: 0 });
    expect(all.results).toHaveLength(20);
    for (const [op, outcome] of all.results) expect(st.operations[op] === 'get' ? outcome : 1 - outcome).toBe(1); // get → error (1), add → ok (0)
    const tail = LoadStatus.parse(parsed(await call(s, 'GET', LOAD_API.status, undefined, 'after=15'))).results!;
    expect(tail.results).toEqual(all.results.slice(15));
    expect((await call(s, 'GET', LOAD_API.status, undefined, 'after=-1')).status).toBe(400);

    const history = await call(s, 'GET', LOAD_API.history);
    expect(history.contentType).toBe('application/x-ndjson');
    const ops = history.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; f: string });
    expect(ops).toHaveLength(40);
    expect(ops.filter((o) => o.type === 'invoke')).toHaveLength(20);
    expect(Number(history.headers![HISTORY_ELAPSED_HEADER])).toBeGreaterThan(0);

    const metrics = await call(s, 'GET', LOAD_API.metrics);
    expect(metrics.contentType).toMatch(/^text\/plain/);
    expect(metrics.body).toContain(`chaoslab_client_requests_total{op="add",outcome="ok"} ${sum.byOp.add!.ok}`);
    expect(metrics.body).toContain(`chaoslab_client_requests_total{op="get",outcome="error"} ${sum.byOp.get!.error}`);
    expect(metrics.body).toContain('chaoslab_client_requests_total{op="get",outcome="timeout"} 0');
    expect(metrics.body).toContain(`chaoslab_client_request_duration_seconds_count{op="add"} ${sum.byOp.add!.ok}`);

    // The next variant's load on the same server: counted on, numbered on.
    expect(parsed(await call(s, 'POST', LOAD_API.start, spec({ recordHistory: false })))).toEqual({ load: 2 });
    const stopped = Stopped.parse(parsed(await call(s, 'POST', LOAD_API.stop)));
    expect(stopped.load).toBe(2);
    expect(errorOf(await call(s, 'GET', LOAD_API.history)).message).toMatch(/load 2 records no history/);
  });

  it('changes the rate and the mix of a running load', async () => {
    const s = service();
    await call(s, 'POST', LOAD_API.start, spec({ rate: 0, durationMs: 300, recordHistory: false }));
    expect((await call(s, 'POST', LOAD_API.weights, { weights: { get: 0 } })).status).toBe(200);
    expect((await call(s, 'POST', LOAD_API.rate, { rate: 100, rampMs: 0 })).status).toBe(200);
    const sum = (await finished(s)).summary!;
    expect(sum.sent).toBeGreaterThan(10);
    expect(sum.byOp.get!.sent).toBe(0);
    expect((await call(s, 'POST', LOAD_API.rate, { rate: 5, rampMs: 0 })).status, 'a change after the end').toBe(409);
  });

  it('answers bad input with 400 naming the field, and unknown paths with 404', async () => {
    const s = service();
    const notJson = await call(s, 'POST', LOAD_API.start, '{"targets":');
    expect(notJson.status).toBe(400);
    expect(errorOf(notJson).code).toBe('invalid-json');

    const bad = await call(s, 'POST', LOAD_API.start, { ...spec(), durationMs: 0, operations: [{ name: 'x', method: 'PATCH', path: '/', weight: 1 }] });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).issues!.map((i) => i.field)).toEqual(['operations[0].method', 'durationMs']);
    expect(errorOf(bad).message).toMatch(/^operations\[0\]\.method: .*; durationMs: /);

    expect((await call(s, 'POST', LOAD_API.rate, { rate: 1, rampMs: 0 })).status, 'no load yet').toBe(409);
    await call(s, 'POST', LOAD_API.start, spec({ recordHistory: false }));
    const unknownOp = await call(s, 'POST', LOAD_API.weights, { weights: { put: 1 } });
    expect(unknownOp.status).toBe(400);
    expect(errorOf(unknownOp)).toMatchObject({ code: 'CHAOSLAB_INVALID_FIELD', issues: [{ field: 'weights.put' }] });
    expect(errorOf(unknownOp).message).toMatch(/unknown operation "put"/);
    expect((await call(s, 'POST', LOAD_API.rate, { rate: 1 })).status).toBe(400);

    expect((await call(s, 'GET', '/v2/status')).status).toBe(404);
    expect((await call(s, 'GET', LOAD_API.start)).status).toBe(405);
    expect((await call(s, 'GET', LOAD_API.health)).status).toBe(200);
  });
});

describe('ResultRing', () => {
  it('pages from a cursor, and counts what it no longer holds as lost', () => {
    const ring = new ResultRing(4);
    for (let i = 0; i < 6; i++) ring.push(i % 2, 0, i, i * 10);
    expect(ring.count).toBe(6);
    expect(ring.page(0)).toEqual({ next: 6, lost: 2, results: [[0, 0, 2, 20], [1, 0, 3, 30], [0, 0, 4, 40], [1, 0, 5, 50]] });
    expect(ring.page(5)).toEqual({ next: 6, lost: 0, results: [[1, 0, 5, 50]] });
    expect(ring.page(6)).toEqual({ next: 6, lost: 0, results: [] });
    expect(ring.page(9), 'a cursor past the end reads nothing').toEqual({ next: 6, lost: 0, results: [] });
    expect(ring.page(2, 1)).toEqual({ next: 3, lost: 0, results: [[0, 0, 2, 20]] });
  });
});
