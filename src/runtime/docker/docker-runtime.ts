/**
 * Cluster nodes as Docker containers, behind the same `Runtime`/`StartedNode` interfaces as local processes.
 * One container per node incarnation, sharing the network namespace of the node's sandbox (sandboxes.ts): the
 * node's name on the run's network, its ports published on 127.0.0.1 with the same numbers inside and out, so
 * the lab's health checks, load and admin calls are unchanged. Faults go through the Docker API: kill (any
 * signal), stop and start, pause and unpause (the cgroup freezer: sockets stay open, like SIGSTOP). stdout and
 * stderr stream into the node's log file.
 */
import os from 'node:os';
import path from 'node:path';
import { Errors } from '../../errors/catalog.js';
import { hasCode, LabError } from '../../errors/lab-error.js';
import { ManagedNode } from '../managed-node.js';
import { markExit, markStart } from '../node-log.js';
import { nodePorts } from '../node-ports.js';
import type { ExitStatus, NodeDriver, NodeSpec, Runtime, StartedNode } from '../runtime.js';
import { fakeClockEnv } from '../fake-clock.js';
import type { DockerEngine, EngineContainer } from './engine.js';
import { IMAGES, IN_IMAGE } from './images.js';
import { createLabels, objectName } from './labels.js';
import type { NodeSandboxes } from './sandboxes.js';

export interface NodeLimits {
  /** CPUs, e.g. 0.5. */
  cpus: number;
  memoryMiB: number;
  pids: number;
}

/** A runaway toy gets half a core and 256 MiB, so it cannot starve the lab, Toxiproxy or Prometheus. */
export const DEFAULT_NODE_LIMITS: NodeLimits = { cpus: 0.5, memoryMiB: 256, pids: 256 };

export interface DockerRuntimeOptions {
  engine: DockerEngine;
  /** Hold each node's network: name, address, published ports. */
  sandboxes: NodeSandboxes;
  runId: string;
  scenario: string;
  /** `chaoslab.owner` label value (see labels.ts). */
  owner: string;
  /** Host paths under it (dist/toys/...) map to /app/... in the image. */
  projectRoot: string;
  image?: string;
  limits?: NodeLimits;
  /** Default: nobody. Toys write nothing but stdout, stderr and /tmp. */
  user?: string;
  /** A failure while tearing a node down that the lab cannot act on but must not lose. */
  onError?: (error: unknown) => void;
}

/** A node spec may name its ports; else they come from the CHAOSLAB_NODE config or the health URL. */
export type DockerNodeSpec = NodeSpec;
export { nodePorts };

const STOP_GRACE_S = 2;

/** Where a fake-clock node sees the folder of its libfaketime control file (bind-mounted from the variant folder). */
export const CLOCK_DIR = '/chaoslab/clock';

/**
 * The node's environment and, for a fake-clock node, the preload with paths inside the container: the library
 * copied into the toys image, and the control file's folder bind-mounted (a folder, not the file, so the lab's
 * rename-over writes are seen inside).
 */
export function fakeClockContainer(spec: NodeSpec): { env: Record<string, string>; binds?: { host: string; container: string }[] } {
  if (!spec.fakeClock) return { env: spec.env };
  const { controlFile } = spec.fakeClock;
  return {
    env: { ...spec.env, ...fakeClockEnv(IN_IMAGE.libfaketime, path.posix.join(CLOCK_DIR, path.basename(controlFile))) },
    binds: [{ host: path.dirname(controlFile), container: CLOCK_DIR }],
  };
}

export class DockerRuntime implements Runtime {
  readonly #opts: DockerRuntimeOptions;
  readonly #nodes = new Set<DockerDriver>();

  constructor(opts: DockerRuntimeOptions) {
    this.#opts = opts;
  }

  async start(spec: NodeSpec): Promise<StartedNode> {
    const driver = new DockerDriver(spec, this.#opts);
    this.#nodes.add(driver);
    await driver.start();
    return new DockerNode(spec, driver);
  }

  /** Removes every container this runtime started (normally each node's stop() already did); returns what failed. */
  async removeAll(): Promise<unknown[]> {
    const outcomes = await Promise.allSettled([...this.#nodes].map((n) => n.remove()));
    return outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
  }
}

/** A started node in Docker: the shared node, plus which container is its current incarnation. */
export class DockerNode extends ManagedNode {
  constructor(
    spec: NodeSpec,
    override readonly driver: DockerDriver,
  ) {
    super(spec, driver);
  }

  get containerId(): string | undefined {
    return this.driver.containerId;
  }

  get containerName(): string {
    return this.driver.containerName;
  }
}

/** A node as one container per incarnation. */
export class DockerDriver implements NodeDriver {
  #container: EngineContainer | undefined;
  #exit: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  #exitStatus: ExitStatus | undefined;
  #paused = false;
  #pid: number | undefined;
  /** Signal the lab sent last, to report "signal SIGKILL" rather than "exit code 137". */
  #sentSignal: NodeJS.Signals | undefined;

  constructor(
    readonly spec: NodeSpec,
    private readonly opts: DockerRuntimeOptions,
  ) {}

  /** Host pid of the container's init (docker-init), where the engine is local. */
  get pid(): number | undefined {
    return this.#pid;
  }

  get containerId(): string | undefined {
    return this.#container?.id;
  }

  get containerName(): string {
    return objectName('chaoslab', this.opts.runId, this.spec.name);
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  /** The container publishes each port on 127.0.0.1 with the same number. */
  publishAddress(port: number): string {
    return `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const { spec, opts } = this;
    const { command, workingDir } = toContainerCommand(spec, opts.projectRoot);
    const ports = nodePorts(spec);
    const limits = opts.limits ?? DEFAULT_NODE_LIMITS;
    const sandbox = await opts.sandboxes.get(spec.name, ports).catch((e: unknown) => {
      throw this.#startFailure(e);
    });
    markStart(spec, `${command.join(' ')} (container ${this.containerName})`);
    const create = () =>
      opts.engine.createContainer({
        name: this.containerName,
        image: opts.image ?? IMAGES.toys,
        cmd: command,
        ...fakeClockContainer(spec),
        workingDir,
        user: opts.user ?? '65534:65534',
        labels: createLabels(opts.runId, { scenario: opts.scenario, node: spec.name, part: 'node', owner: opts.owner }),
        shareNetworkOf: sandbox,
        limits: { nanoCpus: Math.round(limits.cpus * 1e9), memoryBytes: limits.memoryMiB * 1024 * 1024, pids: limits.pids },
        readOnlyRoot: true,
        tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
      });
    let container: EngineContainer;
    try {
      container = await create();
    } catch (e) {
      // A container of that name left by an earlier incarnation (e.g. a stop that failed half-way).
      if (!hasCode(e, Errors.DockerNameTaken)) throw this.#startFailure(e);
      await opts.engine.removeContainer(this.containerName);
      container = await create().catch((e2: unknown) => {
        throw this.#startFailure(e2);
      });
    }
    this.#container = container;
    this.#exitStatus = undefined;
    this.#paused = false;
    this.#sentSignal = undefined;
    // Attached before the start: the first line a node prints is in the log.
    const log = await container.attachLog(spec.logFile);
    try {
      await container.start();
    } catch (e) {
      await container.remove().catch((e: unknown) => opts.onError?.(e));
      this.#container = undefined;
      this.#exitStatus = { code: null, signal: null };
      throw this.#startFailure(e);
    }
    this.#exit = container.wait().then(
      async (code) => {
        const oom = await container.state().then((s) => s.oomKilled, () => false);
        const status = this.#toStatus(code);
        if (this.#container === container) this.#exitStatus = status;
        await log.ended;
        markExit(spec, status, oom ? `, out of memory: the limit is ${limits.memoryMiB} MiB` : '');
        return status;
      },
      () => {
        // The engine lost the container (removed behind our back): it is gone all the same.
        const status = { code: null, signal: null };
        if (this.#container === container) this.#exitStatus = status;
        return status;
      },
    );
    this.#pid = await container.state().then(
      (s) => (s.pid > 0 ? s.pid : undefined),
      () => undefined,
    );
  }

  /** SIGTERM, SIGKILL after 2 s, then the container is removed (a restart makes a fresh one). */
  async stop(): Promise<void> {
    const c = this.#container;
    if (!c) return;
    if (this.#exitStatus === undefined) {
      // A frozen container would hold SIGTERM pending until the grace ran out.
      if (this.#paused) await c.unpause();
      await c.stop(STOP_GRACE_S);
      await this.#exit;
    }
    this.#paused = false;
    await this.remove();
  }

  /** Removes the container, whatever its state. */
  async remove(): Promise<void> {
    const c = this.#container;
    if (!c) return;
    await c.remove();
    await this.#exit;
    if (this.#container === c) this.#container = undefined;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.#container;
    if (!c) return;
    this.#sentSignal = signal;
    await c.kill(signal);
    if (signal === 'SIGKILL') {
      // A frozen container takes the signal once thawed; the process runtime's SIGKILL needs no thaw.
      if (this.#paused) await c.unpause().catch((e: unknown) => this.opts.onError?.(e));
      this.#paused = false;
      await this.#exit;
    }
  }

  async pause(): Promise<void> {
    const c = this.#container;
    if (!c) return;
    await c.pause();
    this.#paused = true;
  }

  async resume(): Promise<void> {
    const c = this.#container;
    if (!c) return;
    await c.unpause();
    this.#paused = false;
  }

  #toStatus(code: number): ExitStatus {
    // docker-init exits 128+n when its child died of signal n.
    const byNumber = code > 128 ? signalName(code - 128) : undefined;
    if (byNumber) return { code: null, signal: byNumber };
    if (this.#sentSignal === 'SIGKILL' && code === 137) return { code: null, signal: 'SIGKILL' };
    return { code, signal: null };
  }

  #startFailure(e: unknown): LabError {
    const why = e instanceof Error ? e.message : String(e);
    if (hasCode(e, Errors.PortTaken)) {
      return new LabError(Errors.PortTaken, `node ${this.spec.name} could not start in Docker: ${why}`, { cause: e, hint: 'another program holds one of its ports on 127.0.0.1; run again (ports are chosen afresh)' });
    }
    return new LabError(Errors.NodeFailed, `node ${this.spec.name} could not start in Docker: ${why}`, {
      cause: e,
      hint: hasCode(e, Errors.ImageMissing) ? Errors.ImageMissing.hint : `see ${this.spec.logFile}`,
    });
  }
}

/**
 * The lab starts toys as `<node binary> <projectRoot>/dist/toys/<toy>/<file>.js`; in the image the same files
 * are under /app and Node is /usr/local/bin/node. Anything outside the project has no place in the image.
 */
export function toContainerCommand(spec: NodeSpec, projectRoot: string): { command: string[]; workingDir: string } {
  const root = path.resolve(projectRoot);
  const mapPath = (p: string): string => {
    const abs = path.resolve(p);
    if (abs === root) return IN_IMAGE.app;
    if (abs.startsWith(`${root}${path.sep}`)) return path.posix.join(IN_IMAGE.app, path.relative(root, abs).split(path.sep).join('/'));
    return p;
  };
  const [first, ...args] = spec.command;
  if (first === undefined) throw new LabError(Errors.NodeFailed, `node ${spec.name} has an empty command`);
  const isNode = first === process.execPath || first === 'node' || path.basename(first) === 'node';
  const exe = isNode ? IN_IMAGE.node : mapPath(first);
  if (!isNode && exe === first && path.isAbsolute(first)) {
    throw new LabError(Errors.NodeFailed, `node ${spec.name}: the Docker runtime cannot run ${first}, which is not in the toys image`, {
      hint: 'cluster commands must be `node {toys}/<toy>/<file>.js` (files under dist/toys)',
    });
  }
  const command = [exe, ...args.map((a) => (path.isAbsolute(a) ? mapPath(a) : a))];
  return { command, workingDir: mapPath(spec.cwd) };
}

function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(os.constants.signals)) if (num === n) return name as NodeJS.Signals;
  return undefined;
}
