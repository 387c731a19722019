/** The index shard's workshop extension point (exercise 6): shouldShed(queueDelayMs, criticality) before queueing. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type RunningToy } from '../lib/toy-node.js';
import { geoIndex } from './geo-index.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});
const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-geo-ext-'));
const post = (url: string, body: unknown, criticality: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-criticality': criticality }, body: JSON.stringify(body) });

async function shard(code: string): Promise<RunningToy> {
  const file = path.join(dir, `m${running.length}.cjs`);
  writeFileSync(file, code);
  const r = await startToy({ name: 'geo-index-1', group: 'geo-index', index: 1, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { updateCostMs: 1, nearbyCostMs: 1, extension: file }, seed: 1, runId: 't' }, geoIndex);
  running.push(r);
  return r;
}

describe('geo-index with a workshop module', () => {
  it('asks it with the queueing delay and the criticality; true is a 429 counted as shed, false is served', async () => {
    const s = await shard('exports.shouldShed = (delay, criticality) => typeof delay === "number" && delay >= 0 && criticality === "background";');
    const update = { driver: 1, x: 0, y: 0, at: Date.now() };
    expect((await post(`${s.url}/update`, update, 'background')).status).toBe(429);
    expect((await post(`${s.url}/nearby`, { cells: [0] }, 'critical')).status).toBe(200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/uber_shed_total\{criticality="background"[^}]*\} 1/);
    expect(metrics).toMatch(/toy_extension_calls_total\{function="shouldShed",outcome="ok"[^}]*\} 2/);
  });

  it('a module that throws is counted and the request is queued (the pool decides)', async () => {
    const s = await shard('exports.shouldShed = () => { throw new Error("no"); };');
    expect((await post(`${s.url}/update`, { driver: 1, x: 0, y: 0, at: Date.now() }, 'background')).status).toBe(200);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/toy_extension_calls_total\{function="shouldShed",outcome="threw"[^}]*\} 1/);
  });
});
