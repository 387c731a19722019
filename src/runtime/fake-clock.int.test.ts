/**
 * The clock fault end to end on one real toy process: Debian's libfaketime preloaded by the process runtime, the
 * clock kind writing the control file, the toy's own GET /admin/clock showing it, its timers unaffected.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../common/ports.js';
import { clock } from '../fault/kinds/clock.js';
import { fakeApplyContext, fileClock, projectRoot } from '../fault/testing.js';
import { findLibfaketime, nodeClock, writeClockOffset } from './fake-clock.js';
import { ProcessRuntime } from './process-runtime.js';
import type { StartedNode } from './runtime.js';

const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-fake-clock-'));
const started: StartedNode[] = [];
afterAll(async () => {
  await Promise.all(started.map((n) => n.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

async function startBackend(name: string, opts: { fakeClock: boolean; workMs: number }): Promise<{ node: StartedNode; address: string; controlFile: string }> {
  const port = await freePort();
  const controlFile = path.join(dir, `${name}.faketime`);
  writeClockOffset(controlFile, 0);
  const config = { name, group: 'backend', index: 0, host: '127.0.0.1', ports: { http: port }, peers: {}, params: { workMs: opts.workMs }, seed: 1, runId: 'fake-clock-test' };
  const node = await new ProcessRuntime({ baseEnv: { PATH: process.env['PATH'] } }).start({
    name,
    group: 'backend',
    command: [process.execPath, path.join(projectRoot, 'dist', 'toys', 'hello', 'backend.js')],
    cwd: projectRoot,
    env: { CHAOSLAB_NODE: JSON.stringify(config) },
    // Throws CHAOSLAB_LIBFAKETIME_MISSING where the package is missing: the test fails, with the package's name.
    ...(opts.fakeClock ? { fakeClock: { library: findLibfaketime(), controlFile } } : {}),
    logFile: path.join(dir, 'logs', `${name}.log`),
    healthUrl: `http://127.0.0.1:${port}/health`,
    healthTimeoutMs: 10_000,
  });
  started.push(node);
  await node.waitHealthy();
  return { node, address: `127.0.0.1:${port}`, controlFile };
}

/** The node's wall clock minus the lab's, at the middle of the request. */
async function skewOf(address: string): Promise<number> {
  const before = Date.now();
  const { now } = (await (await fetch(`http://${address}/admin/clock`)).json()) as { now: number };
  return now - (before + Date.now()) / 2;
}

/** How long the toy's 300 ms of work (a setTimeout) takes, in real time. */
async function workTime(address: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`http://${address}/item/k`);
  expect(res.status).toBe(200);
  return performance.now() - t0;
}

describe('clock fault through libfaketime (real toy process)', () => {
  it('steps the wall clock of the node by -3 s while its timers keep real time, and heals', async () => {
    const { node, address, controlFile } = await startBackend('backend-0', { fakeClock: true, workMs: 300 });
    expect(Math.abs(await skewOf(address))).toBeLessThan(50);

    const observed: Record<string, number>[] = [];
    const ctx = fakeApplyContext({ nodes: new Map([['backend-0', node]]), nodeAddress: () => address, clock: () => nodeClock(node), observe: (f) => observed.push(f) });
    const heal = await clock.apply({ type: 'clock', nodes: ['backend-0'], offsetMs: -3000 }, ctx);
    expect(readFileSync(controlFile, 'utf8')).toBe('-3s\n');
    const skew = await skewOf(address);
    expect(skew).toBeGreaterThan(-3100);
    expect(skew).toBeLessThan(-2900);
    expect(observed).toHaveLength(1);
    expect(observed[0]!['offsetSeenMs']).toBeGreaterThan(-3100);
    expect(observed[0]!['offsetSeenMs']).toBeLessThan(-2900);
    // Seen on the first read after the write (no cache): well under the poll bound.
    expect(observed[0]!['seenAfterMs']).toBeLessThan(500);
    // A 300 ms setTimeout in the toy still takes ~300 ms of real time: only the wall clock moved.
    const work = await workTime(address);
    expect(work).toBeGreaterThanOrEqual(295);
    expect(work).toBeLessThan(800);
    console.log(`clock fault: node reported ${observed[0]!['offsetSeenMs']} ms, ${observed[0]!['seenAfterMs']} ms after the write; 300 ms of work took ${work.toFixed(1)} ms`);

    await heal();
    expect(readFileSync(controlFile, 'utf8')).toBe('+0\n');
    expect(Math.abs(await skewOf(address))).toBeLessThan(50);
  });

  it('drifts the wall clock at the rate, without the step libfaketime\'s rate alone would make, and heals to true time', async () => {
    const { node, address, controlFile } = await startBackend('backend-2', { fakeClock: true, workMs: 1 });
    // The node must be old enough that the uncompensated step ((rate − 1) × age = 10% × ≥ 1.5 s) would show.
    await new Promise((r) => setTimeout(r, 1500));
    const ctx = fakeApplyContext({ nodes: new Map([['backend-2', node]]), nodeAddress: () => address, clock: () => nodeClock(node) });
    // 10% so that two seconds show it plainly (500 ppm would take minutes to beat the measuring noise).
    const heal = await clock.apply({ type: 'clock', nodes: ['backend-2'], offsetMs: 0, driftPpm: 100_000 }, ctx);
    const t0 = performance.now();
    const atStart = await skewOf(address);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await skewOf(address);
    const elapsed = performance.now() - t0;
    console.log(`clock drift 100000 ppm: ${readFileSync(controlFile, 'utf8').trim()}; skew ${atStart.toFixed(1)} ms at the apply, ${after.toFixed(1)} ms ${elapsed.toFixed(0)} ms later`);
    expect(Math.abs(atStart)).toBeLessThan(40); // no step: without the compensation it would be ≥ 150 ms
    expect(after - atStart).toBeGreaterThan(0.1 * elapsed - 40);
    expect(after - atStart).toBeLessThan(0.1 * elapsed + 40);
    await heal();
    expect(readFileSync(controlFile, 'utf8')).toBe('+0 x1\n');
    const healed = await skewOf(address);
    await new Promise((r) => setTimeout(r, 500));
    expect(Math.abs(healed)).toBeLessThan(40);
    expect(Math.abs((await skewOf(address)) - healed)).toBeLessThan(20); // the rate is gone too
  });

  it('a node started without the preload does not move: the fault fails as a node failure', async () => {
    const { node, address, controlFile } = await startBackend('backend-1', { fakeClock: false, workMs: 1 });
    // The file is written as for a preloaded node (a node whose preload did not take, e.g. a static binary).
    const ctx = fakeApplyContext({ nodes: new Map([['backend-1', node]]), nodeAddress: () => address, clock: () => fileClock(controlFile) });
    const t0 = performance.now();
    await expect(clock.apply({ type: 'clock', nodes: ['backend-1'], offsetMs: 5000 }, ctx)).rejects.toMatchObject({ code: 'CHAOSLAB_NODE_FAILED', message: expect.stringContaining('did not take the clock offset 5000 ms') });
    expect(performance.now() - t0).toBeLessThan(5000);
    // Undone: the file says +0 again.
    expect(readFileSync(controlFile, 'utf8')).toBe('+0\n');
  });
});
