/**
 * The toy's nodes in this process (ports 0, no proxies): the path from the operator's delete to a load balancer
 * without backends, and static stability refusing that push. lb-control's poll loop is driven by its params
 * (pollMs) and is judged by the e2e replay; here the pushes are made by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type NodeConfig, type RunningToy, type ToySetup } from '../lib/toy-node.js';
import { api } from './api.js';
import { edge } from './edge.js';
import { lb } from './lb.js';
import { lbState } from './lb-state.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

async function start(name: string, group: string, setup: ToySetup, params: NodeConfig['params'], peers: Record<string, string[]> = {}): Promise<RunningToy> {
  const r = await startToy({ name, group, index: 0, host: '127.0.0.1', ports: { http: 0 }, peers, params, seed: 1, runId: 't' }, setup);
  running.push(r);
  return r;
}
const addr = (r: RunningToy) => r.url.replace('http://', '');
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('netflix toy nodes', () => {
  it('lb-state: an entry answers until the operator deletes it, and comes back from the snapshot', async () => {
    const s = await start('lb-state', 'lb-state', lbState, { lbs: 'lb-tv-east=api-east-1,api-east-2;lb-web-east=api-east-1,api-east-2' });
    expect(await (await fetch(`${s.url}/state/lb-tv-east`)).json()).toEqual({ lb: 'lb-tv-east', backends: ['api-east-1', 'api-east-2'] });
    const del = await post(`${s.url}/admin/delete`, { lbs: ['lb-tv-east', 'lb-nope'] });
    expect(await del.json()).toEqual({ deleted: ['lb-tv-east'], remaining: ['lb-web-east'] });
    expect((await fetch(`${s.url}/state/lb-tv-east`)).status).toBe(404);
    expect((await post(`${s.url}/admin/delete`, { lb: 'x' })).status).toBe(400);
    await post(`${s.url}/admin/restore`, {});
    expect((await fetch(`${s.url}/state/lb-tv-east`)).status).toBe(200);
  });

  for (const staticStability of [false, true]) {
    it(`lb (staticStability ${staticStability}): an empty push ${staticStability ? 'is refused and the backends keep serving' : 'is applied and every request fails'}`, async () => {
      const a1 = await start('api-east-1', 'api-east', api, { workMs: 1 });
      const a2 = await start('api-east-2', 'api-east', api, { workMs: 1 });
      const l = await start('lb-tv-east', 'lb-tv-east', lb, { backendGroup: 'api-east', staticStability, unitRps: 1000 }, { 'api-east': [addr(a1), addr(a2)] });
      const before = (await (await fetch(`${l.url}/lb/stats`)).json()) as { backends: string[]; units: number };
      expect(before).toMatchObject({ backends: ['api-east-1', 'api-east-2'], units: 1, version: 0 });
      expect((await fetch(`${l.url}/api/k1`)).status).toBe(200);
      const push = await post(`${l.url}/lb/config`, { backends: [], units: 2, version: 1 });
      expect(push.status).toBe(staticStability ? 409 : 200);
      expect((await fetch(`${l.url}/api/k2`)).status).toBe(staticStability ? 200 : 503);
      const metrics = await (await fetch(`${l.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`netflix_lb_backends\\{[^}]*\\} ${staticStability ? 2 : 0}\\b`));
      expect(metrics).toMatch(new RegExp(`netflix_lb_config_rejected_total\\{[^}]*\\} ${staticStability ? 1 : 0}\\b`));
    });
  }

  it('edge: with failover, TV moves to the second region once its home load balancer fails, web stays home', async () => {
    const east = await start('api-east', 'api-east', api, { workMs: 1 });
    const west = await start('api-west', 'api-west', api, { workMs: 1 });
    const tvEast = await start('lb-tv-east', 'lb-tv-east', lb, { backendGroup: 'api-east' }, { 'api-east': [addr(east)] });
    const webEast = await start('lb-web-east', 'lb-web-east', lb, { backendGroup: 'api-east' }, { 'api-east': [addr(east)] });
    const tvWest = await start('lb-tv-west', 'lb-tv-west', lb, { backendGroup: 'api-west' }, { 'api-west': [addr(west)] });
    const e = await start('edge', 'edge', edge, { failover: true, failoverMinRequests: 5, failoverWindowMs: 60_000 }, { 'lb-tv-east': [addr(tvEast)], 'lb-web-east': [addr(webEast)], 'lb-tv-west': [addr(tvWest)] });
    expect((await fetch(`${e.url}/tv/a`)).status).toBe(200);
    await post(`${tvEast.url}/lb/config`, { backends: [], units: 1, version: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${e.url}/tv/k${i}`)).status);
    expect(statuses.slice(0, 4)).toEqual([503, 503, 503, 503]);
    expect(statuses.at(-1)).toBe(200);
    const served = (await (await fetch(`${e.url}/tv/z`)).json()) as { node: string };
    expect(served.node).toBe('api-west');
    expect((await fetch(`${e.url}/web/w`)).status).toBe(200);
    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toMatch(/netflix_edge_failed_over\{device="tv"[^}]*\} 1/);
    await post(`${e.url}/admin/failback`, { device: 'tv' });
    expect(((await (await fetch(`${e.url}/tv/y`)).json()) as { error: string }).error).toMatch(/no backends/);
  });
  // Game days push a mitigation to running nodes (POST /admin/params): each flag is read per push / per request.
  it('lb: staticStability pushed live refuses the next empty configuration', async () => {
    const a1 = await start('api-east-1', 'api-east', api, { workMs: 1 });
    const l = await start('lb-tv-east', 'lb-tv-east', lb, { backendGroup: 'api-east', staticStability: false, unitRps: 1000 }, { 'api-east': [addr(a1)] });
    expect((await post(`${l.url}/admin/params`, { staticStability: true })).status).toBe(200);
    expect((await post(`${l.url}/lb/config`, { backends: [], units: 2, version: 1 })).status).toBe(409);
    expect((await fetch(`${l.url}/api/k`)).status).toBe(200);
    expect((await post(`${l.url}/admin/params`, { staticStability: false })).status).toBe(200);
    expect((await post(`${l.url}/lb/config`, { backends: [], units: 2, version: 2 })).status).toBe(200);
  });

  it('edge: failover pushed live moves TV to the second region; off, it stays home', async () => {
    const east = await start('api-east', 'api-east', api, { workMs: 1 });
    const west = await start('api-west', 'api-west', api, { workMs: 1 });
    const tvEast = await start('lb-tv-east', 'lb-tv-east', lb, { backendGroup: 'api-east' }, { 'api-east': [addr(east)] });
    const webEast = await start('lb-web-east', 'lb-web-east', lb, { backendGroup: 'api-east' }, { 'api-east': [addr(east)] });
    const tvWest = await start('lb-tv-west', 'lb-tv-west', lb, { backendGroup: 'api-west' }, { 'api-west': [addr(west)] });
    const e = await start('edge', 'edge', edge, { failover: false, failoverMinRequests: 5, failoverWindowMs: 60_000 }, { 'lb-tv-east': [addr(tvEast)], 'lb-web-east': [addr(webEast)], 'lb-tv-west': [addr(tvWest)] });
    await post(`${tvEast.url}/lb/config`, { backends: [], units: 1, version: 1 });
    for (let i = 0; i < 8; i++) expect((await fetch(`${e.url}/tv/k${i}`)).status).toBe(503);
    expect((await post(`${e.url}/admin/params`, { failover: true })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${e.url}/tv/k${i}`)).status);
    expect(statuses.slice(0, 4)).toEqual([503, 503, 503, 503]);
    expect(statuses.at(-1)).toBe(200);
    expect(((await (await fetch(`${e.url}/tv/z`)).json()) as { node: string }).node).toBe('api-west');
  });
});
