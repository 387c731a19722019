/**
 * Cluster nodes as local child processes. Each node leads its own process group (`detached`), so signals reach
 * everything it spawned, and Ctrl-C on the lab's terminal does not: the lab tears nodes down itself, and the
 * reaper does it if the lab dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { fakeClockEnv } from './fake-clock.js';
import { startManagedNode } from './managed-node.js';
import { markExit, markStart } from './node-log.js';
import { groupMembers, readState, signalGroup } from './proc.js';
import { DisabledReaper, type Reaper } from './reaper.js';
import type { ExitStatus, NodeDriver, NodeSpec, Runtime, StartedNode } from './runtime.js';

export interface ProcessRuntimeOptions {
  /** Every started pid is registered here. */
  reaper?: Reaper;
  /** The environment nodes inherit under `spec.env`; the CLI passes `process.env`. */
  baseEnv?: Record<string, string | undefined>;
  /** A failure the lab cannot act on but must not lose (the reaper not taking an unregistration). */
  onError?: (error: unknown) => void;
}

const STOP_GRACE_MS = 2000;

export class ProcessRuntime implements Runtime {
  readonly #reaper: Reaper;
  readonly #baseEnv: Record<string, string | undefined>;
  readonly #onError: (error: unknown) => void;

  constructor(opts: ProcessRuntimeOptions = {}) {
    this.#reaper = opts.reaper ?? new DisabledReaper();
    this.#baseEnv = opts.baseEnv ?? {};
    this.#onError = opts.onError ?? (() => {});
  }

  start(spec: NodeSpec): Promise<StartedNode> {
    return startManagedNode(spec, new ProcessDriver(spec, this.#reaper, { ...this.#baseEnv, ...spec.env, ...(spec.fakeClock ? fakeClockEnv(spec.fakeClock.library, spec.fakeClock.controlFile) : {}) }, this.#onError));
  }
}

/** A node as a process group led by the spawned command. */
class ProcessDriver implements NodeDriver {
  #child: ChildProcess | undefined;
  #exit: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  #exitStatus: ExitStatus | undefined;
  #paused = false;

  constructor(
    readonly spec: NodeSpec,
    private readonly reaper: Reaper,
    private readonly env: Record<string, string | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  publishAddress(port: number): string {
    return `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const { spec } = this;
    const [file, ...args] = spec.command;
    if (file === undefined) throw new LabError(Errors.NodeFailed, `node ${spec.name} has an empty command`);
    markStart(spec, spec.command.join(' '));
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: spec.cwd, env: this.env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.#child = child;
    this.#exitStatus = undefined;
    this.#paused = false;
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const status = { code, signal };
        if (this.#child === child) this.#exitStatus = status;
        markExit(spec, status);
        if (child.pid !== undefined) void this.reaper.unregister(child.pid).catch(this.onError);
        resolve(status);
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      // Persistent: an unhandled 'error' event would crash the lab.
      child.on('error', (e) => {
        if (this.#child === child) this.#exitStatus ??= { code: null, signal: null };
        reject(new LabError(Errors.NodeFailed, `node ${spec.name} could not start: ${e.message}`, { cause: e, hint: `Check the command: ${spec.command.join(' ')}` }));
      });
    });
    await this.reaper.register(child.pid!, spec.name);
  }

  async stop(): Promise<void> {
    if (this.#exitStatus !== undefined || !this.#child?.pid) return;
    const pid = this.#child.pid;
    signalGroup(pid, 'SIGTERM');
    // A paused node would hold SIGTERM pending forever.
    if (this.#paused) signalGroup(pid, 'SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), STOP_GRACE_MS)));
    const outcome = await Promise.race([this.#exit, grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      signalGroup(pid, 'SIGKILL');
      await this.#exit;
    }
    this.#paused = false;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.#child?.pid) return;
    signalGroup(this.#child.pid, signal);
    if (signal === 'SIGKILL') await this.#exit;
  }

  async pause(): Promise<void> {
    if (!this.#child?.pid) return;
    signalGroup(this.#child.pid, 'SIGSTOP');
    this.#paused = true;
    // Signals land asynchronously: return once every process of the node is really frozen, so fault timelines are exact.
    await waitGroupState(this.#child.pid, (s) => s === 'T' || s === 't');
  }

  async resume(): Promise<void> {
    if (!this.#child?.pid) return;
    signalGroup(this.#child.pid, 'SIGCONT');
    this.#paused = false;
    await waitGroupState(this.#child.pid, (s) => s !== 'T' && s !== 't');
  }
}

/** Polls /proc briefly; gives up quietly where /proc is missing or the process is gone. */
async function waitGroupState(pgid: number, ok: (state: string) => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const settled = (): boolean =>
    [pgid, ...groupMembers(pgid)].every((pid) => {
      const state = readState(pid);
      return state === null || ok(state);
    });
  while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}
