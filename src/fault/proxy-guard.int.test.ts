import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from './registry.js';
import { guardProxies } from './proxy-guard.js';
import { startTestToxiproxy } from './testing.js';
import { ToxiproxyApi } from './toxiproxy-api.js';
import type { StartedToxiproxy } from './toxiproxy-server.js';

describe('the proxy guard against the real Toxiproxy', () => {
  let tmp: string;
  let tp: StartedToxiproxy;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-guard-'));
    tp = await startTestToxiproxy(path.join(tmp, 'toxiproxy.log'));
  });
  afterAll(async () => {
    await tp?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("removes another user's proxy on all interfaces and a toxic added to the lab's proxy; keeps the lab's own", async () => {
    const guard = guardProxies(tp.client);
    await guard.client.populate([{ name: 'frontend_to_backend', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }]);
    await applyFault({ type: 'latency', links: ['frontend_to_backend'], latencyMs: 800, jitterMs: 0, stream: 'downstream', toxicity: 1 }, { toxiproxy: guard.client, faultId: '0-slow', links: [{ name: 'frontend_to_backend', from: 'frontend', to: 'backend' }], nodes: new Map(), nodeAddress: () => '', clock: () => undefined, observe: () => undefined });
    // Another local user, with a client of their own: the API has no authentication.
    const other = new ToxiproxyApi(tp.url);
    await other.createProxy({ name: 'to-prometheus', listen: '0.0.0.0:0', upstream: '127.0.0.1:9090' });
    await other.addToxic('frontend_to_backend', { name: 'sneaky', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 5000 } });

    const found = await guard.check();
    expect(found.map((f) => `${f.what}:${f.what === 'proxy' ? f.proxy : f.toxic}`).sort()).toEqual(['proxy:to-prometheus', 'toxic:sneaky']);
    expect(found.find((f) => f.what === 'proxy')).toMatchObject({ listen: expect.stringMatching(/^(0\.0\.0\.0|\[::\]):\d+$/) });
    const left = await tp.client.listProxies();
    expect(left.map((p) => p.name)).toEqual(['frontend_to_backend']);
    expect(left[0]!.toxics.map((t) => t.name)).toEqual(['chaoslab-0-slow-downstream']);
    expect(await guard.check()).toEqual([]);
  });
});
