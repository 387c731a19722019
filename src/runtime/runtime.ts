/**
 * What the runner needs from whatever runs cluster nodes. The process runtime implements it with local child
 * processes; a Docker runtime can implement the same later (cf. jepsen's `Remote`).
 */
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
}

export interface Runtime {
  /** Spawns the node and returns once it runs; call `waitHealthy()` to wait for readiness. */
  start(spec: NodeSpec): Promise<StartedNode>;
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
}
