/** The TV load balancer's workshop extension point (exercise 8): acceptConfig judges each pushed configuration. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type RunningToy } from '../lib/toy-node.js';
import { api } from './api.js';
import { lb } from './lb.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});
const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-lb-ext-'));
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function lbWith(code: string): Promise<RunningToy> {
  const file = path.join(dir, `m${running.length}.cjs`);
  writeFileSync(file, code);
  const a = await startToy({ name: 'api-east-1', group: 'api-east', index: 1, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { workMs: 1 }, seed: 1, runId: 't' }, api);
  running.push(a);
  const l = await startToy({ name: 'lb-tv-east', group: 'lb-tv-east', index: 1, host: '127.0.0.1', ports: { http: 0 }, peers: { 'api-east': [a.url.replace('http://', '')] }, params: { backendGroup: 'api-east', unitRps: 1000, extension: file }, seed: 1, runId: 't' }, lb);
  running.push(l);
  return l;
}
const stats = async (l: RunningToy) => (await (await fetch(`${l.url}/lb/stats`)).json()) as { backends: string[]; units: number; version: number };

describe('lb with a workshop module', () => {
  it('false refuses the push (409) and the load balancer keeps serving', async () => {
    const l = await lbWith('exports.acceptConfig = (current, next) => next.backends.length > 0;');
    expect((await post(`${l.url}/lb/config`, { backends: [], units: 2, version: 1 })).status).toBe(409);
    expect(await stats(l)).toMatchObject({ backends: ['api-east'], units: 1, version: 0 });
    expect((await fetch(`${l.url}/api/k`)).status).toBe(200);
  });

  it('a configuration it returns is applied instead of the push (with the push\'s version)', async () => {
    const l = await lbWith('exports.acceptConfig = (current, next) => ({ backends: current.backends, units: next.units });');
    expect((await post(`${l.url}/lb/config`, { backends: [], units: 3, version: 7 })).status).toBe(200);
    expect(await stats(l)).toMatchObject({ backends: ['api-east'], units: 3, version: 7 });
  });

  it('a wrong answer is counted and the staticStability param decides (off: applied)', async () => {
    const l = await lbWith('exports.acceptConfig = () => ({ units: "many" });');
    expect((await post(`${l.url}/lb/config`, { backends: [], units: 2, version: 1 })).status).toBe(200);
    expect(await (await fetch(`${l.url}/metrics`)).text()).toMatch(/toy_extension_calls_total\{function="acceptConfig",outcome="invalid"[^}]*\} 1/);
  });
});
