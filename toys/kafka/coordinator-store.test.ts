import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoordinatorStore } from './coordinator-store.js';

function store(): { s: CoordinatorStore; advance: (ms: number) => void; expired: string[][] } {
  let now = 1_000_000;
  const expired: string[][] = [];
  const s = new CoordinatorStore({ now: () => now, onExpire: (_sess, paths) => expired.push(paths) });
  return { s, advance: (ms) => void (now += ms), expired };
}

describe('sessions and ephemeral nodes', () => {
  it('keeps a session alive while heartbeats arrive within the timeout', () => {
    const { s, advance } = store();
    const sess = s.createSession(3000);
    for (let i = 0; i < 10; i++) {
      advance(2500);
      expect(s.heartbeat(sess.id)).toBe(true);
    }
    expect(s.session(sess.id)?.expired).toBe(false);
  });

  it('expires a silent session after its timeout and deletes its ephemeral nodes only', () => {
    const { s, advance, expired } = store();
    const a = s.createSession(3000);
    const b = s.createSession(3000);
    expect(s.create('/controller', { brokerId: 1 }, a.id).ok).toBe(true);
    expect(s.create('/brokers/ids/1', {}, a.id).ok).toBe(true);
    expect(s.create('/brokers/ids/2', {}, b.id).ok).toBe(true);
    expect(s.create('/controller_epoch', { epoch: 1 }).ok).toBe(true);
    advance(2000);
    s.heartbeat(b.id);
    advance(1001); // a: 3001 ms silent; b: 1001 ms
    expect(s.get('/controller')).toBeUndefined();
    expect(s.children('/brokers/ids')).toEqual(['2']);
    expect(s.get('/controller_epoch')?.data).toEqual({ epoch: 1 });
    expect(expired).toEqual([['/controller', '/brokers/ids/1']]);
    // The client only learns of it when it gets through again.
    expect(s.heartbeat(a.id)).toBe(false);
    expect(s.heartbeat(b.id)).toBe(true);
  });

  it('is not expired exactly at the timeout, only past it', () => {
    const { s, advance } = store();
    const a = s.createSession(3000);
    advance(3000);
    expect(s.heartbeat(a.id)).toBe(true);
  });

  it('refuses an ephemeral create by an expired session', () => {
    const { s, advance } = store();
    const a = s.createSession(1000);
    advance(1500);
    const r = s.create('/controller', { brokerId: 1 }, a.id);
    expect(r).toMatchObject({ ok: false, code: 'SessionExpired' });
    expect(s.get('/controller')).toBeUndefined();
  });

  it('bounds requested timeouts', () => {
    const { s } = store();
    expect(s.createSession(5).timeoutMs).toBe(200);
    expect(s.createSession(1e9).timeoutMs).toBe(60_000);
  });

  it('closeSession drops ephemerals at once', () => {
    const { s } = store();
    const a = s.createSession(3000);
    s.create('/controller', {}, a.id);
    s.closeSession(a.id);
    expect(s.get('/controller')).toBeUndefined();
  });
});

describe('versions and conditional writes', () => {
  it('create is exclusive: the second creator gets NodeExists (controller election)', () => {
    const { s } = store();
    const a = s.createSession(3000);
    const b = s.createSession(3000);
    expect(s.create('/controller', { brokerId: 1 }, a.id).ok).toBe(true);
    expect(s.create('/controller', { brokerId: 2 }, b.id)).toMatchObject({ ok: false, code: 'NodeExists' });
    expect(s.get('/controller')?.data).toEqual({ brokerId: 1 });
  });

  it('bumps the version on every set and rejects a set at a stale version', () => {
    const { s } = store();
    s.create('/p/0/state', { leader: 1 });
    expect(s.get('/p/0/state')?.version).toBe(0);
    expect(s.set('/p/0/state', { leader: 2 }, 0)).toMatchObject({ ok: true, node: { version: 1 } });
    expect(s.set('/p/0/state', { leader: 3 }, 0)).toMatchObject({ ok: false, code: 'BadVersion' });
    expect(s.get('/p/0/state')?.data).toEqual({ leader: 2 });
    // Without a version the write always wins: what the baseline's unconditional writes do.
    expect(s.set('/p/0/state', { leader: 3 })).toMatchObject({ ok: true, node: { version: 2 } });
  });

  it('set and delete of a missing node fail with NoNode', () => {
    const { s } = store();
    expect(s.set('/nope', 1)).toMatchObject({ ok: false, code: 'NoNode' });
    expect(s.delete('/nope')).toMatchObject({ ok: false, code: 'NoNode' });
  });

  it('multi applies all ops or none (check on /controller_epoch guards a controller write)', () => {
    const { s } = store();
    s.create('/controller_epoch', { epoch: 1 });
    s.create('/p/0/state', { leader: 1 });
    const z0 = s.zxid;
    // A new controller bumps the epoch: version 0 → 1.
    expect(s.set('/controller_epoch', { epoch: 2 }, 0).ok).toBe(true);
    // The zombie still believes the epoch node is at version 0: its write must not land.
    const zombie = s.multi([
      { op: 'check', path: '/controller_epoch', version: 0 },
      { op: 'set', path: '/p/0/state', data: { leader: 9 } },
    ]);
    expect(zombie).toMatchObject({ ok: false, code: 'BadVersion', path: '/controller_epoch' });
    expect(s.get('/p/0/state')?.data).toEqual({ leader: 1 });
    const current = s.multi([
      { op: 'check', path: '/controller_epoch', version: 1 },
      { op: 'set', path: '/p/0/state', data: { leader: 2 }, version: 0 },
    ]);
    expect(current.ok).toBe(true);
    expect(current.results).toHaveLength(2);
    expect(s.get('/p/0/state')).toMatchObject({ data: { leader: 2 }, version: 1 });
    expect(s.zxid).toBe(z0 + 2);
  });

  it('multi sees its own earlier ops (create then set in one call)', () => {
    const { s } = store();
    const r = s.multi([
      { op: 'create', path: '/a', data: 1 },
      { op: 'set', path: '/a', data: 2, version: 0 },
    ]);
    expect(r.ok).toBe(true);
    expect(s.get('/a')).toMatchObject({ data: 2, version: 1, czxid: s.zxid, mzxid: s.zxid });
  });

  it('rejects malformed paths', () => {
    const { s } = store();
    expect(s.create('no-slash', 1)).toMatchObject({ ok: false, code: 'BadArguments' });
    expect(s.create('/a//b', 1)).toMatchObject({ ok: false, code: 'BadArguments' });
  });
});

describe('watches', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves at once when something already changed since the given zxid', async () => {
    const { s } = store();
    s.create('/a', 1);
    expect(await s.waitForChange(0, 1000)).toBe(s.zxid);
  });

  it('fires on a later change under the prefix, and not for other paths', async () => {
    vi.useFakeTimers();
    const { s } = store();
    const since = s.zxid;
    let fired: number | undefined;
    void s.waitForChange(since, 5000, '/brokers').then((z) => (fired = z));
    s.create('/other', 1);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toBeUndefined();
    s.create('/brokers/ids/1', {});
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toBe(s.zxid);
    expect(s.watcherCount).toBe(0);
  });

  it('fires when a session expiry removes an ephemeral node', async () => {
    vi.useFakeTimers();
    let now = 0;
    const s = new CoordinatorStore({ now: () => now });
    const a = s.createSession(1000);
    s.create('/controller', { brokerId: 1 }, a.id);
    const since = s.zxid;
    let fired = false;
    void s.waitForChange(since, 10_000, '/controller').then(() => (fired = true));
    now += 1001;
    s.expireSessions();
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toBe(true);
    expect(s.get('/controller')).toBeUndefined();
  });

  it('times out with the unchanged zxid', async () => {
    vi.useFakeTimers();
    const { s } = store();
    s.create('/a', 1);
    const z = s.zxid;
    const p = s.waitForChange(z, 500);
    await vi.advanceTimersByTimeAsync(500);
    expect(await p).toBe(z);
  });

  it('close wakes every watcher', async () => {
    const { s } = store();
    const p = s.waitForChange(s.zxid, 60_000);
    s.close();
    await expect(p).resolves.toBe(s.zxid);
  });
});
