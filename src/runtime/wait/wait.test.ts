import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AllWaitStrategy } from './all-wait.js';
import { HttpWaitStrategy, type HttpGet } from './http-wait.js';
import { LineWaitStrategy } from './line-wait.js';
import { PortWaitStrategy } from './port-wait.js';
import { ScrapeTargetsWaitStrategy } from './scrape-targets-wait.js';
import { WaitFailure, type WaitClock } from './strategy.js';

/** Time that moves only when the strategy sleeps: no real waiting. */
function fakeClock(): WaitClock & { slept: number } {
  let t = 1_000_000;
  const c = {
    slept: 0,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      c.slept += ms;
    },
  };
  return c;
}

const answers = (...seq: Array<{ status: number; body: string } | string>): HttpGet => {
  let i = 0;
  return async () => seq[Math.min(i++, seq.length - 1)]!;
};

describe('HttpWaitStrategy', () => {
  it('polls until the expected status, then resolves', async () => {
    const clock = fakeClock();
    const s = new HttpWaitStrategy('http://127.0.0.1:1/health', { clock, intervalMs: 25, timeoutMs: 1000, get: answers('http://x: ECONNREFUSED', { status: 503, body: '' }, { status: 200, body: '' }) });
    await s.waitUntilReady({ name: 'node a' });
    expect(clock.slept).toBe(50);
  });

  it('times out with the last answer, after its own timeout', async () => {
    const clock = fakeClock();
    const s = new HttpWaitStrategy('http://127.0.0.1:1/health', { clock, get: answers({ status: 503, body: '' }) }).withTimeout(300);
    const e = await s.waitUntilReady({ name: 'node c' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitFailure);
    expect((e as WaitFailure).outcome).toBe('timeout');
    expect((e as WaitFailure).timeoutMs).toBe(300);
    expect((e as WaitFailure).detail).toBe('http://127.0.0.1:1/health: status 503');
  });

  it('stops at once when the target is gone, saying how', async () => {
    const clock = fakeClock();
    let probes = 0;
    const s = new HttpWaitStrategy('http://x/', { clock, timeoutMs: 10_000, get: async () => (probes++, 'ECONNREFUSED') });
    const e = (await s.waitUntilReady({ name: 'node b', gone: () => (probes >= 2 ? 'exited (exit code 3)' : undefined) }).catch((x: unknown) => x)) as WaitFailure;
    expect(e.outcome).toBe('gone');
    expect(e.message).toBe('node b exited (exit code 3) before it was ready');
    expect(probes).toBe(2);
  });

  it('checks the body when asked', async () => {
    const clock = fakeClock();
    const s = new HttpWaitStrategy('http://x/version', { clock, timeoutMs: 100, get: answers({ status: 200, body: 'hello' }) }).forResponse((b) => b.includes('"version"'));
    const e = (await s.waitUntilReady({ name: 'Toxiproxy' }).catch((x: unknown) => x)) as WaitFailure;
    expect(e.detail).toBe('http://x/version: unexpected answer');
    expect(await new HttpWaitStrategy('http://x/version', { get: answers({ status: 200, body: '{"version":"2"}' }), body: (b) => b.includes('"version"') }).isReady()).toBe(true);
  });

  it('a deadline cuts the strategy\'s own timeout short', async () => {
    const clock = fakeClock();
    const s = new HttpWaitStrategy('http://x/', { clock, timeoutMs: 10_000, intervalMs: 10, get: answers('no') });
    const e = (await s.waitUntilReady({ name: 'x' }, clock.now() + 100).catch((x: unknown) => x)) as WaitFailure;
    expect(e.timeoutMs).toBe(100);
    expect(clock.slept).toBe(100);
  });
});

describe('AllWaitStrategy', () => {
  it('waits for each in turn within one shared budget', async () => {
    const clock = fakeClock();
    const port = new PortWaitStrategy('127.0.0.1', 1, { clock, intervalMs: 100, timeoutMs: 10_000, connect: async () => (clock.now() >= 1_000_300 ? true : 'ECONNREFUSED') });
    const http = new HttpWaitStrategy('http://x/', { clock, intervalMs: 100, timeoutMs: 10_000, get: answers('no') });
    const e = (await new AllWaitStrategy([port, http], 1000, clock).waitUntilReady({ name: 'n' }).catch((x: unknown) => x)) as WaitFailure;
    expect(e.outcome).toBe('timeout');
    // 300 ms for the port, the rest of the shared second for HTTP.
    expect(clock.slept).toBe(1000);
  });
});

describe('LineWaitStrategy', () => {
  it('resolves on the line, even split across chunks', async () => {
    const out = new PassThrough();
    const p = new LineWaitStrategy(out, 'ready', 5000).waitUntilReady({ name: 'reaper' });
    out.write('rea');
    out.write('dy\n');
    await expect(p).resolves.toBeUndefined();
  });

  it('fails on another line (its complaint), and on the end of the stream', async () => {
    const out = new PassThrough();
    const p = new LineWaitStrategy(out, 'ready', 5000).waitUntilReady({ name: 'reaper' });
    out.write('cannot reach the engine\n');
    await expect(p).rejects.toMatchObject({ outcome: 'gone', detail: 'cannot reach the engine' });
    const out2 = new PassThrough();
    const p2 = new LineWaitStrategy(out2, 'ready', 5000).waitUntilReady({ name: 'reaper', gone: () => 'it exited with code 1' });
    out2.end();
    await expect(p2).rejects.toMatchObject({ outcome: 'gone', detail: 'it exited with code 1' });
  });
});

describe('ScrapeTargetsWaitStrategy', () => {
  const target = (address: string, health: 'up' | 'down', lastError = '') => ({ discoveredLabels: { __address__: address }, labels: {}, scrapePool: 'chaoslab', scrapeUrl: '', health, lastError, lastScrape: '', lastScrapeDuration: 0 });
  it('names the targets that are not up', async () => {
    const clock = fakeClock();
    const client = { targets: async () => [target('a:1', 'up'), target('b:2', 'down', '404')] };
    const e = (await new ScrapeTargetsWaitStrategy(client, ['a:1', 'b:2', 'c:3'], 'chaoslab', { clock, timeoutMs: 200 }).waitUntilReady({ name: 'Prometheus' }).catch((x: unknown) => x)) as WaitFailure;
    expect(e.detail).toBe('b:2 (down: 404); c:3 (not discovered)');
  });
  it('resolves once all are up', async () => {
    const client = { targets: async () => [target('a:1', 'up')] };
    await new ScrapeTargetsWaitStrategy(client, ['a:1'], 'chaoslab', { clock: fakeClock() }).waitUntilReady({ name: 'Prometheus' });
  });
});
