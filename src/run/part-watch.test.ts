import { describe, expect, it } from 'vitest';
import type { ExitStatus } from '../runtime/runtime.js';
import { exitingPart, loadPart, scheduledExits, startPartWatch, withScheduledExits, type PartEnd, type WatchClock, type WatchEvent } from './part-watch.js';

/** A clock whose ticks the test fires by hand. */
function fakeClock(): WatchClock & { t: number; tick(): void; ticking: number } {
  const ticks = new Set<() => void>();
  const c = {
    t: 0,
    ticking: 0,
    now: () => c.t,
    every(_ms: number, f: () => void) {
      ticks.add(f);
      c.ticking = ticks.size;
      return () => {
        ticks.delete(f);
        c.ticking = ticks.size;
      };
    },
    tick() {
      for (const f of ticks) f();
    },
  };
  return c;
}

function fakeNode(name: string, pid = 100) {
  return { name, pid, exitStatus: undefined as ExitStatus | undefined };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('startPartWatch', () => {
  it('an exit the timeline did not schedule is an event and fails the variant as a node failure', () => {
    const clock = fakeClock();
    const backend = fakeNode('backend', 4242);
    const events: WatchEvent[] = [];
    const watch = startPartWatch({ variant: 'mitigated', nodes: [backend, fakeNode('frontend')], parts: [], clock, onEvent: (e) => events.push(e), logOf: (n) => `mitigated/logs/${n}.log` });
    clock.tick();
    expect(watch.signal.aborted).toBe(false);
    clock.t = 8012;
    backend.exitStatus = { code: null, signal: 'SIGKILL' };
    clock.tick();
    expect(events).toEqual([{ kind: 'node-exited', node: 'backend', pid: 4242, code: null, signal: 'SIGKILL', atMs: 8012, mayDie: false }]);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toBe(watch.failure);
    expect(watch.failure!.code).toBe('CHAOSLAB_NODE_FAILED');
    expect(watch.failure!.exitCode).toBe(3);
    expect(watch.failure!.message).toBe('node backend exited (signal SIGKILL) 8.0 s into variant mitigated, and the timeline did not schedule it');
    expect(watch.failure!.hint).toContain('mitigated/logs/backend.log');
    // Reported once per death.
    clock.tick();
    expect(events).toHaveLength(1);
    expect(watch.stop()).toBe(watch.failure);
    expect(clock.ticking).toBe(0);
  });

  it('an exit while a kill or restart step holds the node is scheduled: no event, no failure', () => {
    const clock = fakeClock();
    const backend = fakeNode('backend');
    const events: WatchEvent[] = [];
    const watch = startPartWatch({ variant: 'baseline', nodes: [backend], parts: [], clock, onEvent: (e) => events.push(e) });
    const release = watch.expectExit(scheduledExits({ type: 'kill', nodes: ['backend'], signal: 'SIGKILL' }));
    backend.exitStatus = { code: null, signal: 'SIGKILL' };
    clock.tick();
    // The heal restarts it: a new incarnation runs.
    backend.exitStatus = undefined;
    release();
    release(); // idempotent
    clock.tick();
    expect(events).toEqual([]);
    expect(watch.stop()).toBeUndefined();
  });

  it('a node still dead when its step releases it (a failed heal) is reported', () => {
    const clock = fakeClock();
    const backend = fakeNode('backend');
    const watch = startPartWatch({ variant: 'v', nodes: [backend], parts: [], clock });
    const release = watch.expectExit(['backend']);
    backend.exitStatus = { code: 1, signal: null };
    clock.tick();
    expect(watch.failure).toBeUndefined();
    release();
    clock.tick();
    expect(watch.failure?.message).toMatch(/node backend exited \(code 1\)/);
  });

  it('link faults and pauses schedule no exit', () => {
    expect(scheduledExits({ type: 'pause', nodes: ['a'] })).toEqual([]);
    expect(scheduledExits({ type: 'restart', nodes: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(scheduledExits({ type: 'latency', links: ['a_to_b'], latencyMs: 1, jitterMs: 0, stream: 'downstream', toxicity: 1 })).toEqual([]);
  });

  it('a node the scenario lets die (mayDie) is an event, not a failure', () => {
    const clock = fakeClock();
    const broker = fakeNode('broker-2');
    const events: WatchEvent[] = [];
    const watch = startPartWatch({ variant: 'v', nodes: [broker], parts: [], clock, mayDie: new Set(['broker-2']), onEvent: (e) => events.push(e) });
    broker.exitStatus = { code: 137, signal: null };
    clock.tick();
    expect(events).toEqual([expect.objectContaining({ kind: 'node-exited', node: 'broker-2', code: 137, mayDie: true })]);
    expect(watch.signal.aborted).toBe(false);
    expect(watch.stop()).toBeUndefined();
  });

  it('a death in the last interval before stop() still counts; after stop() nothing does', async () => {
    const clock = fakeClock();
    const node = fakeNode('n');
    const prom = deferred<PartEnd>();
    const events: WatchEvent[] = [];
    const watch = startPartWatch({ variant: 'v', nodes: [node], parts: [exitingPart('Prometheus', prom.promise)], clock, onEvent: (e) => events.push(e) });
    node.exitStatus = { code: 0, signal: null };
    expect(watch.stop()?.code).toBe('CHAOSLAB_NODE_FAILED');
    prom.resolve({ code: 0, signal: null });
    await flush();
    expect(events.map((e) => e.kind)).toEqual(['node-exited']);
  });

  it('a part that exits fails the variant at once, naming the part, with its own error code', async () => {
    const clock = fakeClock();
    const prom = deferred<PartEnd>();
    const toxi = deferred<PartEnd>();
    const events: WatchEvent[] = [];
    const watch = startPartWatch({
      variant: 'baseline',
      nodes: [],
      parts: [exitingPart('Toxiproxy', toxi.promise), exitingPart('Prometheus', prom.promise, 'logs/prometheus.log')],
      clock,
      onEvent: (e) => events.push(e),
    });
    clock.t = 20_400;
    prom.resolve({ code: null, signal: 'SIGKILL' });
    await flush();
    expect(events).toEqual([{ kind: 'part-failed', part: 'Prometheus', code: null, signal: 'SIGKILL', atMs: 20_400 }]);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.failure!.code).toBe('CHAOSLAB_PROMETHEUS_FAILED');
    expect(watch.failure!.exitCode).toBe(3);
    expect(watch.failure!.message).toBe('Prometheus exited (signal SIGKILL) 20.4 s into variant baseline; the run stops');
    expect(watch.failure!.hint).toContain('logs/prometheus.log');
    // A second death is still an event; the first failure stays the variant's.
    toxi.resolve({ code: 2, signal: null });
    await flush();
    expect(events.map((e) => e.kind)).toEqual(['part-failed', 'part-failed']);
    expect(watch.stop()!.code).toBe('CHAOSLAB_PROMETHEUS_FAILED');
  });

  it('Toxiproxy exiting is a Toxiproxy failure', async () => {
    const toxi = deferred<PartEnd>();
    const watch = startPartWatch({ variant: 'v', nodes: [], parts: [exitingPart('Toxiproxy', toxi.promise)], clock: fakeClock() });
    toxi.resolve({ code: null, signal: 'SIGKILL' });
    await flush();
    expect(watch.failure!.code).toBe('CHAOSLAB_TOXIPROXY_FAILED');
    expect(watch.failure!.message).toMatch(/^Toxiproxy exited \(signal SIGKILL\)/);
  });

  it('the load generator fails when its run rejects, not when it simply ends', async () => {
    const ended = deferred<unknown>();
    const ok = startPartWatch({ variant: 'v', nodes: [], parts: [loadPart(ended.promise)], clock: fakeClock() });
    ended.resolve({ sent: 10 });
    await flush();
    expect(ok.stop()).toBeUndefined();

    const broken = deferred<unknown>();
    const bad = startPartWatch({ variant: 'v', nodes: [], parts: [loadPart(broken.promise)], clock: fakeClock() });
    broken.reject(new Error('the onResult hook threw: boom'));
    await flush();
    expect(bad.failure!.code).toBe('CHAOSLAB_WORKLOAD_FAILED');
    expect(bad.failure!.message).toMatch(/^load generator failed: the onResult hook threw: boom/);
  });

  it('withScheduledExits: a kill holds the node until its heal, a restart until it returns, a failed apply releases', async () => {
    const clock = fakeClock();
    const node = fakeNode('backend');
    const watch = startPartWatch({ variant: 'v', nodes: [node], parts: [], clock });
    const heal = await withScheduledExits(watch, { type: 'kill', nodes: ['backend'], signal: 'SIGKILL' }, async () => {
      node.exitStatus = { code: null, signal: 'SIGKILL' };
      return async () => {
        node.exitStatus = undefined;
      };
    });
    clock.tick();
    expect(watch.failure).toBeUndefined();
    await heal();
    clock.tick();
    expect(watch.failure).toBeUndefined();

    await withScheduledExits(watch, { type: 'restart', nodes: ['backend'] }, async () => async () => {});
    await expect(withScheduledExits(watch, { type: 'restart', nodes: ['backend'] }, async () => {
      node.exitStatus = { code: 1, signal: null };
      throw new Error('not healthy');
    })).rejects.toThrow('not healthy');
    clock.tick();
    expect(watch.failure?.message).toMatch(/node backend exited \(code 1\)/);
  });
});
