import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../common/ports.js';
import { LabError } from '../errors/lab-error.js';
import { readStartTime } from './proc.js';
import { ProcessRuntime } from './process-runtime.js';
import type { Reaper } from './reaper.js';
import type { NodeSpec, StartedNode } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'chaoslab-runtime-'));
const fixture = join(dir, 'node.mjs');
// A minimal node: health on PORT; MODE=exit dies at once, never stays 503, ignore-term shrugs SIGTERM,
// child also spawns a sleeping grandchild (to see group signals).
writeFileSync(
  fixture,
  `import http from 'node:http';
import { spawn } from 'node:child_process';
const mode = process.env.MODE ?? '';
if (mode === 'exit') { console.error('boom: bad config'); process.exit(3); }
if (mode === 'child') { const c = spawn('sleep', ['30'], { stdio: 'ignore' }); console.log('grandchild ' + c.pid); }
http.createServer((req, res) => { res.writeHead(mode === 'never' ? 503 : 200); res.end(); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => { if (mode === 'ignore-term') console.log('ignoring SIGTERM'); else process.exit(0); });
`,
);

class RecordingReaper implements Reaper {
  readonly runId = 'test';
  readonly live = new Set<number>();
  readonly calls: string[] = [];
  async register(pid: number, label: string): Promise<void> {
    this.live.add(pid);
    this.calls.push(`register ${label}`);
  }
  async unregister(pid: number): Promise<void> {
    this.live.delete(pid);
    this.calls.push('unregister');
  }
  async close(): Promise<void> {}
  async release(): Promise<void> {}
}

const nodes: StartedNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.kill('SIGKILL')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function spec(name: string, env: Record<string, string> = {}, healthTimeoutMs = 3000): Promise<NodeSpec> {
  const port = await freePort();
  return {
    name,
    group: 'g',
    command: [process.execPath, fixture],
    cwd: dir,
    env: { PORT: String(port), ...env },
    logFile: join(dir, 'logs', `${name}.log`),
    healthUrl: `http://127.0.0.1:${port}/health`,
    healthTimeoutMs,
  };
}

async function start(runtime: ProcessRuntime, s: NodeSpec): Promise<StartedNode> {
  const node = await runtime.start(s);
  nodes.push(node);
  return node;
}

const stateOf = (pid: number): string | undefined =>
  readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[0];

describe('ProcessRuntime', () => {
  it('starts a node, waits healthy, registers and unregisters it, stops it with SIGTERM', async () => {
    const reaper = new RecordingReaper();
    const node = await start(new ProcessRuntime({ reaper }), await spec('a'));
    const started = performance.now();
    await node.waitHealthy();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(reaper.live.has(node.pid!)).toBe(true);
    await node.stop();
    expect(node.exited).toBe(true);
    expect(node.exitStatus).toEqual({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 10));
    expect(reaper.calls).toEqual(['register a', 'unregister']);
    const log = readFileSync(node.spec.logFile, 'utf8');
    expect(log).toContain('listening');
    expect(log).toMatch(/--- chaoslab: exit a .*exit code 0/);
  });

  it('reports an early exit with its code and the tail of its log', async () => {
    const node = await start(new ProcessRuntime(), await spec('b', { MODE: 'exit' }));
    const err = await node.waitHealthy().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('CHAOSLAB_NODE_FAILED');
    expect((err as LabError).message).toContain('node b exited (exit code 3) before it was healthy');
    expect((err as LabError).message).toContain('| boom: bad config');
    expect((err as LabError).hint).toContain('b.log');
  });

  it('times out a node that never becomes healthy', async () => {
    // Long enough for a loaded machine to start the process and answer 503 at least once.
    const node = await start(new ProcessRuntime(), await spec('c', { MODE: 'never' }, 3000));
    const err = await node.waitHealthy().catch((e: unknown) => e);
    expect((err as LabError).message).toMatch(/node c was not healthy within 3000 ms \(.*: status 503\); last lines of its log:\n {2}\| listening/);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const node = await start(new ProcessRuntime(), await spec('d', { MODE: 'ignore-term' }));
    await node.waitHealthy();
    const started = performance.now();
    await node.stop();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000); // 2 s grace + a loaded machine
    expect(node.exitStatus?.signal).toBe('SIGKILL');
  });

  it('pauses and resumes the whole process group, and stop reaches the group', async () => {
    const node = await start(new ProcessRuntime(), await spec('e', { MODE: 'child' }));
    await node.waitHealthy();
    const grandchild = Number(/grandchild (\d+)/.exec(readFileSync(node.spec.logFile, 'utf8'))![1]);
    const grandchildStart = readStartTime(grandchild);
    await node.pause();
    expect(stateOf(node.pid!)).toBe('T');
    expect(stateOf(grandchild)).toBe('T');
    await node.resume();
    expect(stateOf(node.pid!)).not.toBe('T');
    await node.waitHealthy();
    await node.pause();
    // A paused node still stops promptly: SIGCONT follows SIGTERM.
    const started = performance.now();
    await node.stop();
    expect(performance.now() - started).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 50));
    expect(readStartTime(grandchild) === grandchildStart && stateOf(grandchild) !== 'Z').toBe(false);
  });

  it('restarts with a new pid and waits healthy; kill() defaults to SIGKILL', async () => {
    const reaper = new RecordingReaper();
    const node = await start(new ProcessRuntime({ reaper }), await spec('f'));
    await node.waitHealthy();
    const first = node.pid;
    await node.restart();
    expect(node.pid).not.toBe(first);
    expect(node.exited).toBe(false);
    expect(reaper.live.has(node.pid!)).toBe(true);
    expect(readFileSync(node.spec.logFile, 'utf8').match(/--- chaoslab: start f/g)).toHaveLength(2);
    await node.kill();
    expect(node.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    // restart works from an exited node too
    await node.restart();
    expect(node.exited).toBe(false);
  });

  it('fails clearly when the command does not exist', async () => {
    const s = { ...(await spec('g')), command: [join(dir, 'no-such-binary')] };
    const err = await new ProcessRuntime().start(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/node g could not start: .*ENOENT/);
  });
});
