/**
 * The whole toy in one process, peers wired directly (no Toxiproxy): the HTTP nodes elect a leader, commit
 * writes, serve strong and snapshot reads, forward, and record a history the checker reads. Clock and
 * partition faults are the e2e test's job (libfaketime and Toxiproxy); the core's unit tests cover them.
 */
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startToy, type NodeConfig, type RunningToy } from '../lib/toy-node.js';
import { client } from './client.js';
import { replica } from './replica.js';

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
beforeEach(() => void vi.spyOn(process.stdout, 'write').mockImplementation(() => true));
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close(100)));
  vi.restoreAllMocks();
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('spanner toy (in process, no faults)', () => {
  it('elects a leader, commits writes with commit wait, serves strong reads through any replica and records a history', async () => {
    const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
    const addr = (p: number) => `127.0.0.1:${p}`;
    const params: NodeConfig['params'] = { leaseDesign: 'monotonic', leaseMs: 600, heartbeatMs: 100, epsilonMs: 5, electionJitterMs: 100, clockCheck: true, failFast: true };
    // Regions a (replicas 0, 1) and b (2, 3, 4), as the cluster file makes them.
    const region = (i: number) => (i < 2 ? 'a' : 'b');
    for (let i = 0; i < 5; i++) {
      const peers = { a: [0, 1].filter((j) => j !== i).map((j) => addr(ports[j]!)), b: [2, 3, 4].filter((j) => j !== i).map((j) => addr(ports[j]!)) };
      const index = region(i) === 'a' ? i + 1 : i - 1;
      running.push(await startToy({ name: `${region(i)}-${index}`, group: region(i), index, host: '127.0.0.1', ports: { http: ports[i]! }, peers, params: { ...params, regions: 'a,b' }, seed: 1, runId: 't' }, replica));
    }
    running.push(await startToy({ name: 'app-1', group: 'app', index: 1, host: '127.0.0.1', ports: { http: ports[5]! }, peers: { a: [addr(ports[1]!)] }, params: { opTimeoutMs: 1000, regions: 'a,b' }, seed: 1, runId: 't' }, client));
    const c = `http://${addr(ports[5]!)}`;
    // The first writes may meet an election in progress (503) until the group settles.
    let w = { value: '', commitWaitMs: -1 };
    await waitUntil('a committed write', async () => {
      const res = await fetch(`${c}/write/k`, { method: 'POST' });
      if (res.status === 200) w = (await res.json()) as typeof w;
      return res.status === 200;
    });
    expect(w.commitWaitMs).toBeGreaterThanOrEqual(10); // ≥ 2ε
    const r = (await (await fetch(`${c}/read/k`)).json()) as { value: string };
    expect(r.value).toBe(w.value);
    await waitUntil('the snapshot to catch up', async () => ((await (await fetch(`${c}/snapshot/k`)).json()) as { value: string }).value === w.value);
    const history = (await (await fetch(`${c}/history`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; f: string; key: string });
    expect(history.filter((o) => o.type === 'invoke').length).toBeGreaterThanOrEqual(2);
    expect(history.at(-1)).toMatchObject({ type: 'ok', f: 'read', key: 'k' });
    const metrics = await (await fetch(`http://${addr(ports[0]!)}/metrics`)).text();
    expect(metrics).toMatch(/spanner_commit_wait_seconds_count\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/spanner_clock_evictions_total\{[^}]*\} 0/);
  });
});
