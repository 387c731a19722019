import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isSameProcessAlive, readStartTime } from './proc.js';
import { DisabledReaper, cleanStale, startReaper, type ReaperState } from './reaper.js';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'chaoslab-reaper-'));
const build = join(dir, 'build');
const stateDir = join(dir, 'state');
const mainPath = join(build, 'runtime', 'reaper-main.js');

// The reaper is a separate node process, so it needs JavaScript. Transpile just the reaper's module graph into a
// private dir (not dist/, which builds may be writing); type checking is tsc's job elsewhere.
beforeAll(() => {
  const src = join(root, 'src');
  const todo = [join(src, 'runtime', 'reaper.ts'), join(src, 'runtime', 'reaper-main.ts')];
  const done = new Set<string>();
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) todo.push(resolve(dirname(file), `${m[1]}.ts`));
    const out = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const target = join(build, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(join(build, 'package.json'), '{"type":"module"}');
}, 30_000);

const spawned: ChildProcess[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const c of spawned.splice(0)) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Like a node the runtime starts: its own process group. */
function sleeper(ignoreTerm = false): { pid: number; startTime: string | null } {
  const script = ignoreTerm ? 'trap "" TERM; sleep 60 & wait' : 'exec sleep 60';
  const c = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  c.unref();
  pids.push(c.pid!);
  return { pid: c.pid!, startTime: readStartTime(c.pid!) };
}

async function waitGone(pid: number, startTime: string | null, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (isSameProcessAlive(pid, startTime)) {
    if (performance.now() - started > timeoutMs) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - started;
}

/** A "lab" in its own process that starts a reaper, spawns a sleeping node, registers it, then idles. */
function startFakeLab(runId: string, ignoreTerm: boolean): Promise<{ lab: ChildProcess; sleeper: number; sleeperStart: string; reaper: number }> {
  const script = `
    import { spawn } from 'node:child_process';
    import { readStartTime } from ${JSON.stringify(join(build, 'runtime', 'proc.js'))};
    const { startReaper } = await import(${JSON.stringify(join(build, 'runtime', 'reaper.js'))});
    const reaper = await startReaper({ stateDir: ${JSON.stringify(stateDir)}, runId: ${JSON.stringify(runId)} });
    const s = spawn('sh', ['-c', ${JSON.stringify(ignoreTerm ? 'trap "" TERM; sleep 60 & wait' : 'exec sleep 60')}], { detached: true, stdio: 'ignore' });
    await reaper.register(s.pid, 'sleeper');
    const state = JSON.parse((await import('node:fs')).readFileSync(${JSON.stringify(join(stateDir, runId + '.json'))}, 'utf8'));
    console.log(JSON.stringify({ sleeper: s.pid, sleeperStart: readStartTime(s.pid), reaper: state.reaper.pid }));
    setInterval(() => {}, 1000);
  `;
  const lab = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  spawned.push(lab);
  return new Promise((resolve, reject) => {
    let out = '';
    lab.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) {
        const info = JSON.parse(out) as { sleeper: number; sleeperStart: string; reaper: number };
        pids.push(info.sleeper);
        resolve({ lab, ...info });
      }
    });
    lab.once('exit', (code) => reject(new Error(`fake lab exited with ${code}`)));
  });
}

describe('reaper', () => {
  it('kills registered nodes when the lab is SIGKILLed, and removes its state file', async () => {
    const { lab, sleeper: pid, sleeperStart, reaper } = await startFakeLab('crash-1', false);
    const reaperStart = readStartTime(reaper);
    const stateFile = join(stateDir, 'crash-1.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ReaperState;
    expect(state.processes).toEqual([{ pid, startTime: sleeperStart, label: 'sleeper' }]);
    expect(state.owner.pid).toBe(lab.pid);
    expect(isSameProcessAlive(pid, sleeperStart)).toBe(true);

    lab.kill('SIGKILL');
    const latency = await waitGone(pid, sleeperStart, 4000);
    expect(latency).toBeLessThan(1000);
    await waitGone(reaper, reaperStart, 2000);
    expect(existsSync(stateFile)).toBe(false);
  });

  it('escalates to SIGKILL for nodes that ignore SIGTERM', async () => {
    const { lab, sleeper: pid, sleeperStart } = await startFakeLab('crash-2', true);
    lab.kill('SIGKILL');
    const latency = await waitGone(pid, sleeperStart, 5000);
    expect(latency).toBeGreaterThanOrEqual(1800);
  });

  it('on close() kills what is still registered, but not unregistered pids', async () => {
    const reaper = await startReaper({ stateDir, runId: 'normal', mainPath });
    const kept = sleeper();
    const left = sleeper();
    await reaper.register(kept.pid, 'kept');
    await reaper.register(left.pid, 'left');
    await reaper.unregister(kept.pid);
    const state = JSON.parse(readFileSync(join(stateDir, 'normal.json'), 'utf8')) as ReaperState;
    expect(state.processes.map((p) => p.label)).toEqual(['left']);
    await reaper.close();
    expect(isSameProcessAlive(left.pid, left.startTime)).toBe(false);
    expect(isSameProcessAlive(kept.pid, kept.startTime)).toBe(true);
    expect(existsSync(join(stateDir, 'normal.json'))).toBe(false);
  });

  it('release() hands the registered processes over: the lab exits and nothing is killed', async () => {
    const handoverFile = join(dir, 'handover.json');
    const script = `
      import { spawn } from 'node:child_process';
      import { writeFileSync } from 'node:fs';
      const { startReaper } = await import(${JSON.stringify(join(build, 'runtime', 'reaper.js'))});
      const reaper = await startReaper({ stateDir: ${JSON.stringify(stateDir)}, runId: 'kept-1' });
      const s = spawn('sh', ['-c', 'exec sleep 60'], { detached: true, stdio: 'ignore' });
      await reaper.register(s.pid, 'sleeper');
      await reaper.release((processes) => writeFileSync(${JSON.stringify(handoverFile)}, JSON.stringify(processes)));
      process.exit(0);
    `;
    const lab = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    spawned.push(lab);
    const code = await new Promise<number | null>((r) => lab.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    const handed = JSON.parse(readFileSync(handoverFile, 'utf8')) as { pid: number; startTime: string; label: string }[];
    expect(handed.map((p) => p.label)).toEqual(['sleeper']);
    const [entry] = handed;
    pids.push(entry!.pid);
    // The reaper stood down and took its state file with it; a second later the sleeper still runs.
    expect(existsSync(join(stateDir, 'kept-1.json'))).toBe(false);
    await new Promise((r) => setTimeout(r, 1200));
    expect(isSameProcessAlive(entry!.pid, entry!.startTime)).toBe(true);
  });

  it('refuses to start without the compiled reaper', async () => {
    await expect(startReaper({ stateDir, runId: 'x', mainPath: join(dir, 'missing.js') })).rejects.toThrow(/npm run build|missing/);
    const disabled = new DisabledReaper();
    await disabled.register();
    await disabled.close();
  });
});

describe('cleanStale', () => {
  it('kills what lives for dead owners only, never a recycled pid, and removes their files', async () => {
    const dead = spawnSync('true');
    const live = sleeper();
    const bystander = sleeper();
    const staleState: ReaperState = {
      version: 1,
      runId: 'stale',
      owner: { pid: dead.pid!, startTime: '1' },
      reaper: null,
      processes: [
        { pid: live.pid, startTime: live.startTime, label: 'storage-0' },
        // Same pid, different start time: a recycled pid that must survive.
        { pid: bystander.pid, startTime: '1', label: 'recycled' },
      ],
    };
    const ownedState: ReaperState = { ...staleState, runId: 'owned', owner: { pid: process.pid, startTime: readStartTime(process.pid) } };
    const cleanDir = join(dir, 'clean');
    mkdirSync(cleanDir, { recursive: true });
    writeFileSync(join(cleanDir, 'stale.json'), JSON.stringify(staleState));
    writeFileSync(join(cleanDir, 'owned.json'), JSON.stringify(ownedState));

    const result = await cleanStale(cleanDir);
    expect(result.killed).toEqual([{ pid: live.pid, label: 'storage-0' }]);
    expect(isSameProcessAlive(live.pid, live.startTime)).toBe(false);
    expect(isSameProcessAlive(bystander.pid, bystander.startTime)).toBe(true);
    expect(existsSync(join(cleanDir, 'stale.json'))).toBe(false);
    expect(existsSync(join(cleanDir, 'owned.json'))).toBe(true);
    expect(await cleanStale(join(dir, 'no-such-dir'))).toEqual({ killed: [] });
  });

  it('leaves a kept run alone: its record owns the processes now', async () => {
    const dead = spawnSync('true');
    const node = sleeper();
    const keptDir = join(dir, 'clean-kept');
    mkdirSync(join(keptDir, 'kept'), { recursive: true });
    const state: ReaperState = { version: 1, runId: 'game-day', owner: { pid: dead.pid!, startTime: '1' }, reaper: null, processes: [{ pid: node.pid, startTime: node.startTime, label: 'frontend' }] };
    writeFileSync(join(keptDir, 'game-day.json'), JSON.stringify(state));
    writeFileSync(join(keptDir, 'kept', 'game-day.json'), JSON.stringify({ version: 1, runId: 'game-day', runDir: join(dir, 'run'), keptAt: '' }));
    expect(await cleanStale(keptDir)).toEqual({ killed: [] });
    expect(isSameProcessAlive(node.pid, node.startTime)).toBe(true);
    // Without the record, the same file is a crashed run's leftover.
    rmSync(join(keptDir, 'kept', 'game-day.json'));
    expect((await cleanStale(keptDir)).killed).toEqual([{ pid: node.pid, label: 'frontend' }]);
  });
});
