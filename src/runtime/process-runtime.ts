/**
 * Cluster nodes as local child processes. Each node leads its own process group (`detached`), so signals reach
 * everything it spawned, and Ctrl-C on the lab's terminal does not: the lab tears nodes down itself, and the
 * reaper does it if the lab dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import http from 'node:http';
import { dirname } from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { groupMembers, readState, signalGroup } from './proc.js';
import { DisabledReaper, type Reaper } from './reaper.js';
import type { ExitStatus, NodeSpec, Runtime, StartedNode } from './runtime.js';

export interface ProcessRuntimeOptions {
  /** Every started pid is registered here. */
  reaper?: Reaper;
  /** The environment nodes inherit under `spec.env`; the CLI passes `process.env`. */
  baseEnv?: Record<string, string | undefined>;
}

const STOP_GRACE_MS = 2000;
const HEALTH_POLL_MS = 25;
const LOG_TAIL_LINES = 20;
/** Lines the runtime adds to a node's log, so restarts are visible and the tail shows one incarnation. */
const START_MARK = '--- chaoslab: start';
const EXIT_MARK = '--- chaoslab: exit';

export class ProcessRuntime implements Runtime {
  readonly #reaper: Reaper;
  readonly #baseEnv: Record<string, string | undefined>;

  constructor(opts: ProcessRuntimeOptions = {}) {
    this.#reaper = opts.reaper ?? new DisabledReaper();
    this.#baseEnv = opts.baseEnv ?? {};
  }

  async start(spec: NodeSpec): Promise<StartedNode> {
    const node = new ProcessNode(spec, this.#reaper, { ...this.#baseEnv, ...spec.env });
    await node.spawn();
    return node;
  }
}

class ProcessNode implements StartedNode {
  #child: ChildProcess | undefined;
  #exit: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  #exitStatus: ExitStatus | undefined;
  #paused = false;

  constructor(
    readonly spec: NodeSpec,
    private readonly reaper: Reaper,
    private readonly env: Record<string, string | undefined>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exited(): boolean {
    return this.#exitStatus !== undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  async spawn(): Promise<void> {
    const { spec } = this;
    const [file, ...args] = spec.command;
    if (file === undefined) throw new LabError(Errors.NodeFailed, `node ${spec.name} has an empty command`);
    mkdirSync(dirname(spec.logFile), { recursive: true });
    appendFileSync(spec.logFile, `${START_MARK} ${spec.name} at ${new Date().toISOString()}: ${spec.command.join(' ')}\n`);
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
        appendFileSync(spec.logFile, `${EXIT_MARK} ${spec.name} at ${new Date().toISOString()} (${describeExit(status)})\n`);
        if (child.pid !== undefined) void this.reaper.unregister(child.pid).catch(() => {});
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

  async waitHealthy(): Promise<void> {
    const { spec } = this;
    const deadline = Date.now() + spec.healthTimeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited) {
        throw this.#failure(`node ${spec.name} exited (${describeExit(this.#exitStatus!)}) before it was healthy`);
      }
      const result = await probe(spec.healthUrl, Math.min(1000, Math.max(1, deadline - Date.now())));
      if (result === 200) return;
      last = typeof result === 'number' ? `status ${result}` : result;
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
    if (this.exited) throw this.#failure(`node ${spec.name} exited (${describeExit(this.#exitStatus!)}) before it was healthy`);
    throw this.#failure(`node ${spec.name} was not healthy within ${spec.healthTimeoutMs} ms (${spec.healthUrl}: ${last})`);
  }

  async stop(): Promise<void> {
    if (this.exited || !this.#child?.pid) return;
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

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited || !this.#child?.pid) return;
    signalGroup(this.#child.pid, signal);
    if (signal === 'SIGKILL') await this.#exit;
  }

  async pause(): Promise<void> {
    if (this.exited || !this.#child?.pid) return;
    signalGroup(this.#child.pid, 'SIGSTOP');
    this.#paused = true;
    // Signals land asynchronously: return once every process of the node is really frozen, so fault timelines are exact.
    await waitGroupState(this.#child.pid, (s) => s === 'T' || s === 't');
  }

  async resume(): Promise<void> {
    if (this.exited || !this.#child?.pid) return;
    signalGroup(this.#child.pid, 'SIGCONT');
    this.#paused = false;
    await waitGroupState(this.#child.pid, (s) => s !== 'T' && s !== 't');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
    await this.waitHealthy();
  }

  #failure(message: string): LabError {
    const tail = logTail(this.spec.logFile);
    return new LabError(Errors.NodeFailed, tail ? `${message}; last lines of its log:\n${tail}` : message, {
      hint: `See the full log: ${this.spec.logFile}`,
    });
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

function describeExit(s: ExitStatus): string {
  return s.signal ? `signal ${s.signal}` : `exit code ${s.code}`;
}

/** 200, another status, or why there was no answer. Fresh connection each time: no agent state to leak. */
function probe(url: string, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function logTail(file: string): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 8192);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      let lines = buf.toString('utf8').split('\n');
      const lastStart = lines.findLastIndex((l) => l.startsWith(START_MARK));
      lines = lines.slice(lastStart + 1).filter((l) => l !== '' && !l.startsWith(EXIT_MARK));
      return lines
        .slice(-LOG_TAIL_LINES)
        .map((l) => `  | ${l}`)
        .join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
