/**
 * The uber nodes over real HTTP, wired directly to each other. Checks the path end to end (a driver's update is
 * found by a ride) and the membership: a shard started later joins, ingest and dispatch route to it, and it is
 * forgotten when it stops.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type NodeConfig, type ParamValue, type RunningToy, type ToySetup } from '../lib/toy-node.js';
import { dispatch } from './dispatch.js';
import { gateway } from './gateway.js';
import { geoIndex } from './geo-index.js';
import { ingest } from './ingest.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

async function start(name: string, setup: ToySetup, params: Record<string, ParamValue>, peers: Record<string, string[]> = {}, port = 0): Promise<RunningToy> {
  const [group, index] = [name.replace(/-\d+$/, ''), Number(name.split('-').pop())];
  const config: NodeConfig = { name, group, index, host: '127.0.0.1', ports: { http: port }, peers, params, seed: 3, runId: 'test' };
  const t = await startToy(config, setup);
  running.push(t);
  return t;
}
const address = (t: RunningToy): string => t.url.replace('http://', '');

async function metric(t: RunningToy, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fast = { updateCostMs: 1, nearbyCostMs: 1, heartbeatMs: 100 };

describe('uber nodes', () => {
  it('a driver update reaches the index, a ride matches it; a shard started later joins and leaves', async () => {
    const s1 = await start('geo-index-1', geoIndex, fast);
    const s2 = await start('geo-index-2', geoIndex, fast, { 'geo-index': [address(s1)] });
    const seeds = { 'geo-index': [address(s1), address(s2)] };
    const ing = await start('ingest', ingest, { membershipPollMs: 100 }, seeds);
    const dis = await start('dispatch', dispatch, { membershipPollMs: 100 }, seeds);
    const gw = await start('gateway', gateway, {}, { ingest: [address(ing)], dispatch: [address(dis)] });

    for (let d = 0; d < 200; d++) expect((await fetch(`${gw.url}/location/${d}`, { method: 'POST' })).status).toBe(200);
    expect((await metric(s1, 'uber_index_updates_total')) + (await metric(s2, 'uber_index_updates_total'))).toBe(200);
    let matched = 0;
    for (let r = 0; r < 20; r++) {
      const reply = (await (await fetch(`${gw.url}/ride/${r}`, { method: 'POST' })).json()) as { matched: boolean };
      if (reply.matched) matched++;
    }
    expect(matched).toBeGreaterThan(10);

    // A third shard joins through the first shard's registry; ingest and dispatch learn of it and route to it.
    // It joins with its configured port (the lab always gives one; 0 would be unknown before it listens).
    const s3 = await start('geo-index-3', geoIndex, fast, seeds, await freePort());
    await until(async () => (await metric(ing, 'uber_index_shards_known')) === 3 && (await metric(dis, 'uber_index_shards_known')) === 3);
    for (let d = 0; d < 200; d++) await fetch(`${gw.url}/location/${d}`, { method: 'POST' });
    expect(await metric(s3, 'uber_index_updates_total')).toBeGreaterThan(20);

    // It leaves when it stops.
    await s3.close(50);
    await until(async () => (await metric(ing, 'uber_index_shards_known')) === 2 && (await metric(dis, 'uber_index_shards_known')) === 2);
  });

  it('refuses unknown params (a typo fails at start)', async () => {
    await expect(start('geo-index-1', geoIndex, { updateCost: 1 })).rejects.toThrow(/unknown param "updateCost"/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}
