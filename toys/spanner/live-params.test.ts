/**
 * A game day pushes the Spanner mitigations to running replicas (`POST /admin/params`): `clockCheck` and `failFast`
 * are live; `leaseDesign` and `epsilonMs` are start-only (a lease granted under one design is honoured under it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Params, startToy, type RunningToy } from '../lib/toy-node.js';
import { ReplicaCore } from './replica-core.js';
import { replica } from './replica.js';

const running: RunningToy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

describe('spanner mitigations pushed live', () => {
  it('clock-eviction: `clockCheck` pushed on starts the clock checks at the next tick', () => {
    const params = new Params({ clockCheck: false });
    const clockCheck = params.liveBool('clockCheck', false);
    let asked = 0;
    const core = new ReplicaCore({
      id: 2,
      size: 3,
      design: 'monotonic',
      leaseMs: 1000,
      epsilonMs: 7,
      heartbeatMs: 100,
      electionJitterMs: 200,
      get clockCheck() {
        return clockCheck();
      },
      clocks: { wall: () => Date.now(), mono: () => performance.now() },
      random: () => 0.5,
      transport: {
        append: () => Promise.reject(new Error('no network in this test')),
        vote: () => Promise.reject(new Error('no network in this test')),
        clock: async () => (asked++, Date.now()),
      },
    });
    core.tick();
    expect(asked).toBe(0);
    params.setLive({ clockCheck: true });
    core.tick();
    expect(asked).toBe(2);
  });

  it('a replica takes clockCheck and failFast by config push, and refuses the start-only lease design naming it', async () => {
    const r = await startToy({ name: 'us-1', group: 'us', index: 1, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { regions: 'us', leaseDesign: 'wall' }, seed: 1, runId: 't' }, replica);
    running.push(r);
    const post = (body: unknown) => fetch(`${r.url}/admin/params`, { method: 'POST', body: JSON.stringify(body) });
    const ok = await post({ clockCheck: true, failFast: true });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ live: { clockCheck: true, failFast: true } });
    const refused = await post({ leaseDesign: 'monotonic', epsilonMs: 7 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/"leaseDesign" is not a live param.*"epsilonMs" is not a live param/);
  });
});
