/**
 * What the runner needs from whatever runs cluster nodes (cf. jepsen's `Remote`). A runtime implements only a
 * `NodeDriver` per node (start, stop, kill, pause, resume, where a port is published); health waiting, restart and
 * failure descriptions are shared (`managed-node.ts`, `wait/`, `node-log.ts`). Implemented by local processes
 * (process-runtime.ts) and Docker containers (docker/); a Kubernetes runtime is one more folder with a driver.
 */
import type { FakeClock } from './fake-clock.js';

export interface NodeSpec {
  /** Unique in the cluster, e.g. `storage-2`. */
  name: string;
  group: string;
  /** argv; `command[0]` is the executable (prefer `process.execPath` for toys). */
  command: string[];
  cwd: string;
  /** Added to the runtime's base environment (the process runtime inherits the lab's). */
  env: Record<string, string>;
  /** stdout and stderr are appended here, across restarts. */
  logFile: string;
  /** Polled until it answers 200. */
  healthUrl: string;
  healthTimeoutMs: number;
  /**
   * The node's wall clock is libfaketime's (fake-clock.ts): the runtime preloads the library and points it at the
   * control file, which the clock fault rewrites. Only on nodes a clock fault can target, in every variant alike.
   */
  fakeClock?: FakeClock;
  /** The ports the node listens on, when the runner knows them (a container publishes them, a pod exposes them). */
  ports?: number[];
}

export interface Runtime {
  /** Spawns the node and returns once it runs; call `waitHealthy()` to wait for readiness. */
  start(spec: NodeSpec): Promise<StartedNode>;
}

/**
 * One node as a runtime drives it: everything else a `StartedNode` does is shared. Each `start()` is a new
 * incarnation (after `stop()`, or after the previous one exited).
 */
export interface NodeDriver {
  /** Of the current incarnation, where there is a host pid. */
  readonly pid: number | undefined;
  /** How the current incarnation ended; undefined while it runs. */
  readonly exitStatus: ExitStatus | undefined;
  /** Starts an incarnation and resolves once it runs (not yet healthy). Writes the log's start mark. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM, SIGKILL after a grace), also of a paused node; resolves once it is gone. */
  stop(): Promise<void>;
  /** Sends `signal`; for SIGKILL resolves once the node is gone. Only called while it runs. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Freezes the node with its sockets open; resolves once it is frozen. Only called while it runs. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** `host:port` where the lab reaches the node's `port` (127.0.0.1 for processes and Docker). */
  publishAddress(port: number): string;
  /**
   * For a runtime whose nodes cannot read the lab's libfaketime control file (a pod on a cluster that may be
   * remote): copies the file's text to where the running node reads it, resolving once it is there. Absent: the
   * node reads the lab's file itself (a process) or through a bind mount (Docker).
   */
  syncClock?(): Promise<void>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartedNode {
  readonly name: string;
  readonly spec: NodeSpec;
  /** Of the current incarnation; changes on restart. */
  readonly pid?: number;
  /** Throws `LabError(NodeFailed)` with the tail of the log on timeout or early exit. */
  waitHealthy(): Promise<void>;
  /** SIGTERM, then SIGKILL after 2 s. A no-op if already exited. */
  stop(): Promise<void>;
  /** Default SIGKILL, which also waits for the exit. Other signals are only sent. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the node freezes with its sockets open (a GC pause, a hung VM). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): Promise<void>;
  /** Stops if running, starts again with the same spec, waits until healthy. */
  restart(): Promise<void>;
  readonly exited: boolean;
  /** How the current incarnation ended; undefined while it runs. */
  readonly exitStatus: ExitStatus | undefined;
  /** `host:port` where the lab reaches the node's `port`. */
  publishAddress(port: number): string;
  /**
   * Sets the node's libfaketime control text (`-3s`, `+0`: fake-clock.ts) and resolves once the node can read it.
   * The lab's control file is written first, in every runtime: it is what an incarnation started later reads.
   * Throws for a node started without `fakeClock`.
   */
  setClock(text: string): Promise<void>;
}
