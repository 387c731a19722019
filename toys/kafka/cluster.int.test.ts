/**
 * The whole toy in one process, peers wired directly (no Toxiproxy): a smoke test of the HTTP nodes.
 * Fault behaviour is the e2e test's job (test/e2e/kafka-2013-zookeeper-split-brain.test.ts).
 */
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startToy, type NodeConfig, type RunningToy, type ToySetup } from '../lib/toy-node.js';
import { app } from './app.js';
import { broker } from './broker.js';
import { coordinator } from './coordinator.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const running: RunningToy[] = [];
beforeEach(() => {
  // The nodes log every command; keep the test output readable.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close(100)));
  vi.restoreAllMocks();
});

async function start(name: string, group: string, index: number, port: number, peers: Record<string, string[]>, params: NodeConfig['params'], setup: ToySetup): Promise<RunningToy> {
  const t = await startToy({ name, group, index, host: '127.0.0.1', ports: { http: port }, peers, params, seed: 1, runId: 'test' }, setup);
  running.push(t);
  return t;
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kafka toy cluster (in process, no faults)', () => {
  it('elects broker-1 as controller even when it starts last, places preferred leaders, acknowledges produces and reads them all back', async () => {
    const cPort = await freePort();
    const bPorts = [await freePort(), await freePort(), await freePort()];
    const aPort = await freePort();
    const addr = (p: number) => `127.0.0.1:${p}`;
    const brokerParams = { sessionTimeoutMs: 1500, heartbeatMs: 400, controllerStaggerMs: 150, minInsyncReplicas: 2 };
    await start('coordinator', 'coordinator', 1, cPort, {}, {}, coordinator);
    const startBroker = (id: number) =>
      start(`broker-${id}`, 'broker', id, bPorts[id - 1]!, { coordinator: [addr(cPort)], broker: bPorts.filter((_, i) => i !== id - 1).map(addr) }, brokerParams, broker);
    // broker-1 comes up last (a loaded machine): roles must not depend on start order.
    const later = await Promise.all([startBroker(2), startBroker(3)]);
    await new Promise((r) => setTimeout(r, 800));
    const brokers = [await startBroker(1), ...later];
    const a = await start('app', 'app', 1, aPort, { broker: bPorts.map(addr) }, { auditIntervalMs: 500 }, app);
    await waitUntil('app ready', async () => (await fetch(`${a.url}/health`)).status === 200);

    const states = await Promise.all(brokers.map(async (b) => (await json(`${b.url}/admin/state`)).body));
    expect(states.map((s) => Boolean(s.controller))).toEqual([true, false, false]);
    const meta = (await json(`${brokers[0]!.url}/metadata`)).body;
    expect(meta.partitions.map((p: { leader: number }) => p.leader)).toEqual([1, 2]);

    const acked: number[] = [];
    for (let seq = 0; seq < 60; seq++) {
      const r = await fetch(`${a.url}/produce/${seq}`, { method: 'POST' });
      if (r.status === 200) acked.push(seq);
    }
    expect(acked.length).toBe(60);
    const read = (await json(`${a.url}/consume-all`)).body;
    expect(read.complete).toBe(true);
    expect([...read.values].sort((x: number, y: number) => x - y)).toEqual(acked);

    // Followers hold the same logs.
    await waitUntil('followers caught up', async () => {
      const m = await Promise.all(brokers.map(async (b) => (await json(`${b.url}/metadata`)).body.partitions.map((p: { leo: number }) => p.leo).join(',')));
      return m.every((x) => x === m[0]);
    });
    // No broker saw a stale command, and the audit agrees nothing acknowledged is missing.
    await new Promise((r) => setTimeout(r, 700));
    const metrics = await Promise.all([...brokers, a].map(async (t) => (await fetch(`${t.url}/metrics`)).text()));
    for (const m of metrics.slice(0, 3)) expect(m).toMatch(/^kafka_controller_stale_commands_accepted_total\{[^}]*\} 0$/m);
    expect(metrics[3]).toMatch(/^kafka_app_acked_writes_lost\{[^}]*\} 0$/m);
    expect(metrics[3]).toMatch(/^kafka_app_audits_total\{result="ok"[^}]*\} [1-9]/m);
  }, 20_000);
  it('takes every mitigation by config push (POST /admin/params) and fences a stale controller from the next command on', async () => {
    const cPort = await freePort();
    const addr = (p: number) => `127.0.0.1:${p}`;
    await start('coordinator', 'coordinator', 1, cPort, {}, {}, coordinator);
    const b = await start('broker-2', 'broker', 2, await freePort(), { coordinator: [addr(cPort)], broker: [] }, { sessionTimeoutMs: 1500, heartbeatMs: 400 }, broker);
    const command = (controllerEpoch: number) => json(`${b.url}/controller/leader-and-isr`, { method: 'POST', body: JSON.stringify({ controllerId: 9, controllerEpoch, partitions: [] }) });
    expect((await command(100)).status).toBe(200);
    expect((await command(50)).status).toBe(200); // the baseline obeys a zombie controller
    const all = { epochFencing: true, conditionalWrites: true, uncleanLeaderElection: false, minInsyncReplicas: 2, eligibleLeaderReplicas: true, leaderEpochTruncation: true, preferredLeaderRebalance: true };
    const push = await json(`${b.url}/admin/params`, { method: 'POST', body: JSON.stringify(all) });
    expect(push).toEqual({ status: 200, body: { live: all } });
    expect((await command(40)).status).toBe(409);
  });
});
