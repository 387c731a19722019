import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeNode, fakeApplyContext, fakeResolveContext, fileClock } from '../testing.js';
import { fakeClockNodes } from '../registry.js';
import { clock, waitForOffset } from './clock.js';

describe('clock', () => {
  it('reads a signed offset', () => {
    const ctx = fakeResolveContext({ nodes: ['a'] });
    expect(clock.resolve(clock.schema.parse({ type: 'clock', nodes: 'a', offset: '-1.5s' }), ctx)).toEqual({ type: 'clock', nodes: ['a'], offsetMs: -1500 });
    expect(clock.schema.parse({ type: 'clock', nodes: 'a', offset: '+2s' }).offset).toBe(2000);
    expect(clock.schema.safeParse({ type: 'clock', nodes: 'a', offset: 'soon' }).success).toBe(false);
  });

  it('reads a drift (a rate), alone or with an offset, and refuses a fault with neither', () => {
    const ctx = fakeResolveContext({ nodes: ['a'] });
    expect(clock.resolve(clock.schema.parse({ type: 'clock', nodes: 'a', drift: '500ppm' }), ctx)).toEqual({ type: 'clock', nodes: ['a'], offsetMs: 0, driftPpm: 500 });
    expect(clock.resolve(clock.schema.parse({ type: 'clock', nodes: 'a', offset: '-1s', drift: '-200ppm' }), ctx)).toEqual({ type: 'clock', nodes: ['a'], offsetMs: -1000, driftPpm: -200 });
    for (const drift of ['500', '0ppm', '200000ppm', 'fast']) expect(clock.schema.safeParse({ type: 'clock', nodes: 'a', drift }).success, drift).toBe(false);
    const neither = clock.schema.safeParse({ type: 'clock', nodes: 'a' });
    expect(neither.success).toBe(false);
    expect(neither.error?.issues[0]?.message).toMatch(/needs offset .* drift .* or both/);
    expect(clock.describe({ type: 'clock', nodes: ['a'], offsetMs: 0, driftPpm: 500 })).toBe('clock drift +500ppm on a');
    expect(clock.describe({ type: 'clock', nodes: ['a'], offsetMs: -1000, driftPpm: -200 })).toBe('clock -1s, drift -200ppm on a');
  });

  it('is described, targeted and claimed as before', () => {
    expect(clock.describe({ type: 'clock', nodes: ['a', 'b'], offsetMs: -500 })).toBe('clock -500ms on a, b');
    expect(clock.describe({ type: 'clock', nodes: ['a'], offsetMs: 2000 })).toBe('clock +2s on a');
    expect(clock.targets({ type: 'clock', nodes: ['a'], offsetMs: 1 })).toEqual(['a']);
    // A clock fault and a kill on one node may overlap: they hold different things.
    expect(clock.claims({ type: 'clock', nodes: ['a'], offsetMs: 1 })).toEqual(['clock:a']);
  });

  it('asks for libfaketime on exactly the nodes it can skew', () => {
    expect([...fakeClockNodes([{ type: 'clock', nodes: ['a', 'b'], offsetMs: -1 }, { type: 'clock', nodes: ['b'], offsetMs: 2 }, { type: 'kill', nodes: ['c'], signal: 'SIGKILL' }])]).toEqual(['a', 'b']);
    expect(fakeClockNodes([{ type: 'kill', nodes: ['c'], signal: 'SIGKILL' }]).size).toBe(0);
  });

  describe('apply', () => {
    let server: http.Server | undefined;
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'clock-test-'));
    });
    afterEach(async () => {
      rmSync(dir, { recursive: true, force: true });
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = undefined;
    });

    /**
     * A stand-in node: GET /admin/clock answers `Date.now()` plus the offset in its control file, read as
     * libfaketime reads it (signed seconds). `lagReads`: how many reads still show the old time.
     */
    async function fakeNode(file: string, opts: { lagReads?: number; route?: boolean } = {}): Promise<{ address: string; reads: string[] }> {
      const reads: string[] = [];
      let lag = opts.lagReads ?? 0;
      let shown = 0;
      server = http.createServer((req, res) => {
        if (opts.route === false || req.method !== 'GET' || req.url !== '/admin/clock') {
          res.statusCode = 404;
          return res.end('{}');
        }
        const text = readFileSync(file, 'utf8').trim();
        reads.push(text);
        const m = /^([+-]\d+(?:\.\d+)?)s?(?: x[\d.]+)?$/.exec(text);
        if (lag-- <= 0) shown = m ? Number(m[1]) * 1000 : 0;
        res.end(JSON.stringify({ now: Date.now() + shown }));
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, reads };
    }

    it('writes the offset to the node control file, waits until the node shows it, and heal writes +0', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '+0\n');
      const node = await fakeNode(file, { lagReads: 2 });
      const observed: Record<string, number>[] = [];
      const ctx = fakeApplyContext({ nodes: new Map([['a', new FakeNode('a')]]), nodeAddress: () => node.address, clock: (n) => (n === 'a' ? fileClock(file) : undefined), observe: (f) => observed.push(f) });
      const heal = await clock.apply({ type: 'clock', nodes: ['a'], offsetMs: -3000 }, ctx);
      expect(readFileSync(file, 'utf8')).toBe('-3s\n');
      // Two reads still showed the old time; the third showed the new one.
      expect(node.reads).toEqual(['-3s', '-3s', '-3s']);
      expect(observed).toHaveLength(1);
      expect(Math.abs(observed[0]!['offsetSeenMs']! + 3000)).toBeLessThan(100);
      expect(observed[0]!['seenAfterMs']).toBeGreaterThanOrEqual(0);
      await heal();
      expect(readFileSync(file, 'utf8')).toBe('+0\n');
    });

    it('writes fractional offsets as libfaketime reads them (seconds, never ms: it reads -500m as minutes)', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '+0\n');
      const node = await fakeNode(file, { route: false });
      const observed: unknown[] = [];
      const ctx = fakeApplyContext({ nodes: new Map([['a', new FakeNode('a')]]), nodeAddress: () => node.address, clock: () => fileClock(file), observe: (f) => observed.push(f) });
      await clock.apply({ type: 'clock', nodes: ['a'], offsetMs: -500 }, ctx);
      expect(readFileSync(file, 'utf8')).toBe('-0.5s\n');
      // A node without GET /admin/clock (a user's own service): the write is all the lab can do; nothing observed.
      expect(observed).toEqual([]);
    });

    it('a node that never shows the offset is a node failure', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '-3s\n');
      const node = await fakeNode(file, { lagReads: Number.POSITIVE_INFINITY });
      await expect(waitForOffset('a', node.address, -3000, { boundMs: 60 })).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED', message: expect.stringMatching(/node a did not take the clock offset -3000 ms within 60 ms \(it reports -?\d+ ms\)/) });
    });

    it('a node without a control file stops the apply before any file is written', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '+0\n');
      const node = await fakeNode(file);
      const nodes = new Map([['a', new FakeNode('a')], ['b', new FakeNode('b')]]);
      // b has no control file: the runner's bug; a must not be left with a wait polling for an offset never written.
      const ctx = fakeApplyContext({ nodes, nodeAddress: () => node.address, clock: (n) => (n === 'a' ? fileClock(file) : undefined) });
      await expect(clock.apply({ type: 'clock', nodes: ['a', 'b'], offsetMs: 2000 }, ctx)).rejects.toThrow(/node b was started without a libfaketime control file/);
      expect(readFileSync(file, 'utf8')).toBe('+0\n');
      expect(node.reads).toEqual([]);
    });

    it('a failed apply waits for every node, then sets the files it wrote back to +0', async () => {
      const fileA = path.join(dir, 'a.faketime');
      const fileB = path.join(dir, 'b.faketime');
      writeFileSync(fileA, '+0\n');
      writeFileSync(fileB, '+0\n');
      const a = await fakeNode(fileA);
      const aServer = server; // afterEach closes the last one only
      // b never shows the offset (as a statically linked node would not): the apply fails after SEEN_BOUND_MS.
      const b = await fakeNode(fileB, { lagReads: Number.POSITIVE_INFINITY });
      const ctx = fakeApplyContext({
        nodes: new Map([['a', new FakeNode('a')], ['b', new FakeNode('b')]]),
        nodeAddress: (n) => (n === 'a' ? a.address : b.address),
        clock: (n) => fileClock(n === 'a' ? fileA : fileB),
      });
      await expect(clock.apply({ type: 'clock', nodes: ['a', 'b'], offsetMs: 2000 }, ctx)).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED', message: expect.stringContaining('node b did not take the clock offset 2000 ms') });
      expect(readFileSync(fileA, 'utf8')).toBe('+0\n');
      expect(readFileSync(fileB, 'utf8')).toBe('+0\n');
      // No wait outlives the apply: neither node is read again.
      const readsAfter = a.reads.length + b.reads.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(a.reads.length + b.reads.length).toBe(readsAfter);
      aServer?.close();
    });

    it('writes through the runtime\'s writer (an exec into a pod takes time), and the heal tries every node though one fails', async () => {
      const fileA = path.join(dir, 'a.faketime');
      writeFileSync(fileA, '+0\n');
      const a = await fakeNode(fileA);
      const texts: string[] = [];
      // As the Kubernetes runtime's copy into a pod: the text reaches the node only when the write resolves.
      const slow = (file: string) => async (text: string) => {
        await new Promise((r) => setTimeout(r, 150));
        texts.push(`${path.basename(file)} ${text}`);
        await fileClock(file)(text);
      };
      let bDown = false;
      const observed: Record<string, number>[] = [];
      const ctx = fakeApplyContext({
        nodes: new Map([['a', new FakeNode('a')], ['b', new FakeNode('b')]]),
        nodeAddress: () => a.address,
        clock: (n) => (n === 'a' ? slow(fileA) : async (text) => (bDown ? Promise.reject(new Error('exec into b refused')) : void texts.push(`b ${text}`))),
        observe: (f) => observed.push(f),
      });
      const heal = await clock.apply({ type: 'clock', nodes: ['a', 'b'], offsetMs: -3000 }, ctx);
      expect(texts.sort()).toEqual(['a.faketime -3s', 'b -3s']);
      // The node showed it only after the write: the time it took counts from before the write.
      expect(observed[0]!['seenAfterMs']).toBeGreaterThanOrEqual(150);
      bDown = true;
      await expect(heal()).rejects.toThrow('exec into b refused');
      expect(readFileSync(fileA, 'utf8')).toBe('+0\n');
    });

    it('a control file that cannot be written fails the apply without leaving the other nodes\' waits behind', async () => {
      const fileA = path.join(dir, 'a.faketime');
      writeFileSync(fileA, '+0\n');
      const a = await fakeNode(fileA);
      // b's folder is gone (as after ENOSPC or EACCES, the write throws): a's wait has already started by then.
      const fileB = path.join(dir, 'gone', 'b.faketime');
      const ctx = fakeApplyContext({
        nodes: new Map([['a', new FakeNode('a')], ['b', new FakeNode('b')]]),
        nodeAddress: () => a.address,
        clock: (n) => fileClock(n === 'a' ? fileA : fileB),
      });
      await expect(clock.apply({ type: 'clock', nodes: ['a', 'b'], offsetMs: 2000 }, ctx)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(readFileSync(fileA, 'utf8')).toBe('+0\n');
      // a's wait settled inside the apply: it does not go on polling (and reject, unheard, SEEN_BOUND_MS later).
      const readsAfter = a.reads.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(a.reads.length).toBe(readsAfter);
    });

    it('a drift writes the rate with the offset that takes back libfaketime\'s step (rate − 1) × the node\'s age, and heals to +0 x1', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '+0\n');
      const node = await fakeNode(file);
      // The node is this test process: /proc knows when it started.
      const a = Object.assign(new FakeNode('a'), { pid: process.pid });
      const ctx = fakeApplyContext({ nodes: new Map([['a', a]]), nodeAddress: () => node.address, clock: () => fileClock(file) });
      const heal = await clock.apply({ type: 'clock', nodes: ['a'], offsetMs: -1000, driftPpm: 500 }, ctx);
      const m = /^-(\d+\.\d{6})s x1\.0005\n$/.exec(readFileSync(file, 'utf8'));
      expect(m, readFileSync(file, 'utf8')).not.toBeNull();
      const ageMs = process.uptime() * 1000;
      // -1 s minus 0.5 ms per second of the process's age (/proc counts in 10 ms ticks; the process is older than Node's uptime by its startup).
      expect(Number(m![1]) * 1000 - 1000).toBeGreaterThan(0.0005 * ageMs - 0.1);
      expect(Number(m![1]) * 1000 - 1000).toBeLessThan(0.0005 * (ageMs + 2000));
      await heal();
      expect(readFileSync(file, 'utf8')).toBe('+0 x1\n');
    });

    it('a drift on a node whose start /proc does not know is a node failure naming why, and writes nothing', async () => {
      const file = path.join(dir, 'a.faketime');
      writeFileSync(file, '+0\n');
      const ctx = fakeApplyContext({ nodes: new Map([['a', new FakeNode('a')]]), nodeAddress: () => '127.0.0.1:9', clock: () => fileClock(file) });
      await expect(clock.apply({ type: 'clock', nodes: ['a'], offsetMs: 0, driftPpm: 500 }, ctx)).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED', message: expect.stringMatching(/drift needs the node's start time .*no local pid/) });
      expect(readFileSync(file, 'utf8')).toBe('+0 x1\n');
    });

    it('a node that is not running is a node failure', async () => {
      await expect(clock.apply({ type: 'clock', nodes: ['a'], offsetMs: 1 }, fakeApplyContext())).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED' });
    });
  });
});
