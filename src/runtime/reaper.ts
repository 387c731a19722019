/**
 * Crash-proof cleanup of the processes a run starts, modelled on testcontainers' Ryuk. A detached reaper process
 * watches a pipe held by the lab: when the lab dies, however it dies, the pipe closes and the reaper kills every
 * registered process group. A state file per run (`<stateDir>/<runId>.json`) lets `cleanStale` finish the job
 * if even the reaper was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitReady } from './helper-ready.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { keptRunIds } from './kept.js';
import { isOurProcess, isSameProcessAlive, killGroups, processEntry, readStartTime, trySignal, type ProcessEntry } from './proc.js';
import { isOwnRegularFile, openStateDir, writePrivateFile } from './state-dir.js';

export interface Reaper {
  readonly runId: string;
  /** Records `pid` (a process-group leader) for killing if the lab dies. Resolves once the reaper has it. */
  register(pid: number, label: string): Promise<void>;
  /** For processes that exited normally. */
  unregister(pid: number): Promise<void>;
  /** Normal teardown: the reaper kills whatever is still registered, removes the state file and exits. */
  close(): Promise<void>;
  /**
   * Hands the registered processes over instead of killing them (a kept run): `handover` gets them and must record
   * them durably (the kept-run record) before the reaper stands down and its state file goes. If the lab dies before
   * the reaper has stood down, the reaper still kills everything, as for any crash.
   */
  release(handover: (processes: ProcessEntry[]) => void): Promise<void>;
}

export interface ReaperOptions {
  stateDir: string;
  runId: string;
  /** Compiled `reaper-main.js`; defaults to the one beside this module (or in dist/ when run from source). */
  mainPath?: string;
}

/** The state file: enough to clean up without the reaper. */
export interface ReaperState {
  version: 1;
  runId: string;
  owner: { pid: number; startTime: string | null };
  /** The reaper process itself, identified as the processes are (`cleanStale` kills an orphaned one). */
  reaper: ProcessEntry | null;
  processes: ProcessEntry[];
}

/** The null object, for `--no-reaper` and tests that clean up by themselves. */
export class DisabledReaper implements Reaper {
  constructor(readonly runId = 'disabled') {}
  async register(): Promise<void> {}
  async unregister(): Promise<void> {}
  async close(): Promise<void> {}
  async release(handover: (processes: ProcessEntry[]) => void): Promise<void> {
    handover([]);
  }
}

const READY_TIMEOUT_MS = 5000;

export async function startReaper(opts: ReaperOptions): Promise<Reaper> {
  const mainPath = opts.mainPath ?? defaultMainPath();
  if (!existsSync(mainPath)) {
    throw new LabError(Errors.NodeFailed, `the process reaper is not built (${mainPath} is missing)`, { hint: 'Run `npm run build`.' });
  }
  openStateDir(opts.stateDir, { create: true });
  const stateFile = join(opts.stateDir, `${opts.runId}.json`);
  const owner = { pid: process.pid, startTime: readStartTime(process.pid) };

  // Detached: its own session, so Ctrl-C and terminal hangups reach the lab, not the reaper.
  const child = spawn(process.execPath, [mainPath, stateFile, String(owner.pid), String(owner.startTime)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'ignore'],
    cwd: opts.stateDir,
  });
  try {
    await waitReady(child, READY_TIMEOUT_MS);
  } catch (e) {
    child.kill('SIGKILL');
    throw new LabError(Errors.NodeFailed, `the process reaper did not start: ${(e as Error).message}`, { cause: e, hint: 'Run `npm run build`, or pass --no-reaper.' });
  }
  const reaper = new ProcessReaper(opts.runId, stateFile, child, {
    version: 1,
    runId: opts.runId,
    owner,
    reaper: processEntry(child.pid!, 'reaper'),
    processes: [],
  });
  reaper.writeState();
  return reaper;
}

class ProcessReaper implements Reaper {
  #closed = false;
  readonly #exited: Promise<void>;

  constructor(
    readonly runId: string,
    private readonly stateFile: string,
    private readonly child: ChildProcess,
    private readonly state: ReaperState,
  ) {
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    // The reaper must never keep the lab alive, and a dead reaper must not crash the lab (EPIPE).
    child.stdout!.destroy();
    child.stdin!.on('error', () => {});
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.unref();
  }

  async register(pid: number, label: string): Promise<void> {
    const entry = processEntry(pid, label);
    this.state.processes = [...this.state.processes.filter((p) => p.pid !== pid), entry];
    this.writeState();
    await this.#send({ op: 'register', ...entry });
  }

  async unregister(pid: number): Promise<void> {
    this.state.processes = this.state.processes.filter((p) => p.pid !== pid);
    this.writeState();
    await this.#send({ op: 'unregister', pid });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.child.stdin!.end();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([this.#exited, timeout])) === 'timeout' || existsSync(this.stateFile)) {
      // The reaper is stuck or gone: do its job here.
      await killGroups(this.state.processes);
      removeFile(this.stateFile);
    }
  }

  async release(handover: (processes: ProcessEntry[]) => void): Promise<void> {
    if (this.#closed) throw new Error('the reaper is already closed');
    handover(this.state.processes.map((p) => ({ ...p })));
    await this.#send({ op: 'release' });
    this.#closed = true;
    this.child.stdin!.end();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([this.#exited, timeout])) === 'timeout') {
      // Stuck: SIGKILL leaves it no chance to reap (SIGTERM would make it kill everything).
      this.child.kill('SIGKILL');
    }
    removeFile(this.stateFile);
  }

  /** Atomic (write then rename), so a crash never leaves a torn file; never through a planted link. */
  writeState(): void {
    if (this.#closed) return;
    writePrivateFile(this.stateFile, JSON.stringify(this.state, null, 2));
  }

  #send(msg: object): Promise<void> {
    if (this.#closed || !this.child.stdin!.writable) return Promise.resolve();
    return new Promise((resolve) => this.child.stdin!.write(`${JSON.stringify(msg)}\n`, () => resolve()));
  }
}

/**
 * For `chaoslab clean` and the start of every run: for every state file whose owner (the lab) is dead,
 * kill what still lives, then remove the file. Files of live labs are left alone, and so are those of kept runs
 * (their record owns the processes now; `chaoslab down` and `clean` stop them through it).
 */
export async function cleanStale(stateDir: string): Promise<{ killed: { pid: number; label: string }[] }> {
  if (openStateDir(stateDir, { create: false }) === undefined) return { killed: [] };
  const kept = keptRunIds(stateDir);
  let names: string[];
  try {
    names = readdirSync(stateDir).filter((n) => n.endsWith('.json'));
  } catch {
    return { killed: [] };
  }
  const results = await Promise.all(
    names.map(async (name) => {
      const file = join(stateDir, name);
      const state = readState(file);
      if (!state || kept.has(state.runId) || isSameProcessAlive(state.owner.pid, state.owner.startTime)) return [];
      const killed = await killGroups(state.processes);
      // An orphaned reaper still running has nothing left to do.
      if (state.reaper && isOurProcess(state.reaper)) trySignal(state.reaper.pid, 'SIGKILL');
      removeFile(file);
      return killed.map(({ pid, label }) => ({ pid, label }));
    }),
  );
  return { killed: results.flat() };
}

function readState(file: string): ReaperState | undefined {
  if (!isOwnRegularFile(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as ReaperState;
    return state.version === 1 && Array.isArray(state.processes) && typeof state.owner?.pid === 'number' ? state : undefined;
  } catch {
    // Unreadable, or removed by its reaper meanwhile.
    return undefined;
  }
}

/** Removes a file that may already be gone (its reaper, or a concurrent clean, removed it); other failures throw. */
function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function defaultMainPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'reaper-main.js');
  // Running from TypeScript source (vitest): the reaper is a separate node process, so it needs the build.
  return resolve(dirname(here), '..', '..', 'dist', 'src', 'runtime', 'reaper-main.js');
}

