/**
 * Cluster nodes as pods, behind the same `Runtime`/`StartedNode` interfaces as processes and containers. One pod
 * per node incarnation (restartPolicy Never; a restart is a new pod of the same name), running the toys image as
 * nobody. Node faults, mapped honestly onto what Kubernetes offers:
 * - stop: delete the pod (SIGTERM, SIGKILL after the 2 s grace), as a scale-down or a drain does;
 * - kill and pause/resume: Kubernetes has no kill or freeze API, so the signal is sent from inside the pod
 *   (an exec of node in the node's own container; the pod shares one process namespace, so the toy is not pid 1
 *   and takes SIGKILL, SIGSTOP and SIGCONT as a process does);
 * - restart: stop, then a new pod (a new pod IP; the run's relay follows it, see parts.ts);
 * - clock: libfaketime from the toys image, its control file in an emptyDir of the pod's own, written first by an
 *   init container with the lab's current text and then by an exec at each of the lab's writes (nodePod, syncClock).
 * The lab reaches each node port at 127.0.0.1:<port> through the API server's port-forward (port-forward.ts).
 */
import path from 'node:path';
import type { KubeConfig, CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { ManagedNode } from '../managed-node.js';
import { markExit, markStart } from '../node-log.js';
import { nodePorts } from '../node-ports.js';
import type { ExitStatus, NodeDriver, NodeSpec, Runtime, StartedNode } from '../runtime.js';
import { CLOCK_DIR, toContainerCommand } from '../docker/docker-runtime.js';
import { IN_IMAGE } from '../docker/images.js';
import type { KubeImages } from './images.js';
import { fakeClockEnv, readClockControl } from '../fake-clock.js';
import { LABEL } from '../docker/labels.js';
import { isHttp, reason } from './cluster-api.js';
import { forwardPort, type Forward, type ForwardOptions } from './port-forward.js';
import { deletePod, execIn, followLog, kubeLabels, podManifest, podState, restrictedContext, waitRunning } from './pods.js';
import os from 'node:os';
import { sleep } from '../../common/time.js';

export interface KubeNodeLimits {
  /** Kubernetes quantities. */
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** As Docker's: half a core and 256 MiB at most, so a runaway toy cannot starve its neighbours. */
export const DEFAULT_KUBE_NODE_LIMITS: KubeNodeLimits = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

/** The container of a node pod. */
export const NODE_CONTAINER = 'node';

export interface KubernetesRuntimeOptions {
  config: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  runId: string;
  scenario: string;
  projectRoot: string;
  /** The run's images (nodes run `toys`): local names never pulled, or a registry's (images.ts). */
  images: KubeImages;
  limits?: KubeNodeLimits;
  /** A node's pod got an IP (first start and every restart) or its main process ended (ip undefined). */
  onAddress(node: string, ports: number[], ip: string | undefined): Promise<void>;
  startTimeoutMs?: number;
  onError?: (error: unknown) => void;
  /**
   * The run's port-forwards, shared by every variant's runtime: a node keeps its host ports for the whole run, and
   * the next variant's pod of the same name is reached through the same listener. Without it each driver opens its
   * own and closes them in `remove()`.
   */
  forward?: (o: ForwardOptions) => Promise<Forward>;
}

const STOP_GRACE_S = 2;

export class KubernetesRuntime implements Runtime {
  readonly #opts: KubernetesRuntimeOptions;
  readonly #drivers = new Set<KubeDriver>();

  constructor(opts: KubernetesRuntimeOptions) {
    this.#opts = opts;
  }

  async start(spec: NodeSpec): Promise<StartedNode> {
    const driver = new KubeDriver(spec, this.#opts);
    this.#drivers.add(driver);
    await driver.start();
    return new ManagedNode(spec, driver);
  }

  /** Deletes every pod this runtime made and closes the forwards (normally each node's stop() did). */
  async removeAll(): Promise<unknown[]> {
    const outcomes = await Promise.allSettled([...this.#drivers].map((d) => d.remove()));
    return outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
  }
}

/** The `node -e` program that signals the toy's main process from inside its pod (argv: signal, then its command). */
const SIGNAL_SCRIPT = [
  "const fs=require('fs');const [sig,...want]=process.argv.slice(1);const w=want.join('\\0');",
  "for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p)||+p===process.pid)continue;",
  "let c='';try{c=fs.readFileSync('/proc/'+p+'/cmdline','utf8').replace(/\\0$/,'')}catch{continue}",
  "if(c===w){process.kill(+p,sig);process.stdout.write(p);process.exit(0)}}",
  "process.stderr.write('no process runs '+want.join(' '));process.exit(1)",
].join('');

/** The `node -e` program that writes libfaketime's control text atomically (argv: file, text), as writeClockControl does. */
const CLOCK_SCRIPT = [
  "const fs=require('fs'),path=require('path');const [f,t]=process.argv.slice(1);",
  "const tmp=path.join(path.dirname(f),'.'+path.basename(f)+'.'+process.pid+'.tmp');",
  "fs.writeFileSync(tmp,t+'\\n',{mode:0o644});fs.renameSync(tmp,f)",
].join('');

/** The emptyDir volume holding a fake-clock pod's control file. */
const CLOCK_VOLUME = 'clock';

/** The control file as the pod sees it: in its own clock folder (CLOCK_DIR, as in a Docker container). */
export function podClockFile(spec: NodeSpec): string {
  if (!spec.fakeClock) throw new Error(`node ${spec.name} has no fake clock`);
  return path.posix.join(CLOCK_DIR, path.basename(spec.fakeClock.controlFile));
}

/** The command that writes `text` to the node's control file inside its pod (node: the image's node binary). */
export function clockWriteCommand(node: string, spec: NodeSpec, text: string): string[] {
  return [node, '-e', CLOCK_SCRIPT, '--', podClockFile(spec), text];
}

/**
 * A node's pod. A fake-clock node (`clockText`: the control text it starts with) gets, as in Docker, the
 * library in the toys image and the control file in CLOCK_DIR; but the folder is an emptyDir of the pod's own (the
 * cluster may be on another host: nothing of the lab's is mounted), an init container writes the text before the
 * node starts, and the lab's later writes are copied in (KubeDriver.syncClock).
 */
export function nodePod(spec: NodeSpec, opts: Pick<KubernetesRuntimeOptions, 'projectRoot' | 'images' | 'limits' | 'runId' | 'scenario'>, clockText: string | undefined): { manifest: V1Pod; command: string[] } {
  const { command, workingDir } = toContainerCommand(spec, opts.projectRoot);
  const limits = opts.limits ?? DEFAULT_KUBE_NODE_LIMITS;
  const image = opts.images.toys;
  const clock = spec.fakeClock && clockText !== undefined;
  const clockMount = { name: CLOCK_VOLUME, mountPath: CLOCK_DIR };
  const env = { ...spec.env, ...(clock ? fakeClockEnv(IN_IMAGE.libfaketime, podClockFile(spec)) : {}) };
  const container: V1Container = {
    name: NODE_CONTAINER,
    image,
    imagePullPolicy: opts.images.pullPolicy,
    command,
    workingDir,
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    ports: nodePorts(spec).map((p) => ({ containerPort: p, protocol: 'TCP' })),
    resources: { requests: limits.requests, limits: limits.limits },
    securityContext: restrictedContext(),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(clock ? [clockMount] : [])],
  };
  const initContainers: V1Container[] | undefined = clock
    ? [
        {
          // Without the preload: it only writes the file the node's libfaketime then reads from its first call.
          name: 'clock',
          image,
          imagePullPolicy: opts.images.pullPolicy,
          command: clockWriteCommand(IN_IMAGE.node, spec, clockText),
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          securityContext: restrictedContext(),
          volumeMounts: [clockMount],
        },
      ]
    : undefined;
  const manifest = podManifest({
    name: spec.name,
    labels: kubeLabels(opts.runId, { scenario: opts.scenario, node: spec.name, part: 'node' }),
    ...(initContainers ? { initContainers } : {}),
    containers: [container],
    volumes: [{ name: 'tmp', sizeLimit: '64Mi', memory: true }, ...(clock ? [{ name: CLOCK_VOLUME, sizeLimit: '1Mi', memory: true }] : [])],
    shareProcessNamespace: true,
    spreadBy: { key: LABEL.node, value: spec.name },
    terminationGraceS: STOP_GRACE_S,
  });
  return { manifest, command };
}

/** The driver's streaming calls into the cluster, beside the core API (a unit test gives fakes for both). */
export interface KubeStreams {
  exec: typeof execIn;
  followLog: typeof followLog;
  forwardPort: typeof forwardPort;
}

const STREAMS: KubeStreams = { exec: execIn, followLog, forwardPort };

export class KubeDriver implements NodeDriver {
  #exitStatus: ExitStatus | undefined = { code: null, signal: null };
  #incarnation = 0;
  #paused = false;
  #sentSignal: NodeJS.Signals | undefined;
  #forwards: Forward[] = [];
  #log: { ended: Promise<void>; stop(): void } | undefined;
  #exited: Promise<void> = Promise.resolve();
  #command: string[] = [];
  #created = false;
  #clockWrites: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: NodeSpec,
    private readonly opts: KubernetesRuntimeOptions,
    private readonly streams: KubeStreams = STREAMS,
  ) {}

  /** A pod has no host pid the lab could use. */
  get pid(): number | undefined {
    return undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  get podName(): string {
    return this.spec.name;
  }

  publishAddress(port: number): string {
    return `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const { spec, opts } = this;
    // What the lab's control file says now: a pod's clock folder starts empty, so the pod is given the current
    // offset (a restart during a clock fault starts skewed, as the other runtimes' nodes reading the file do).
    const clockText = spec.fakeClock ? readClockControl(spec.fakeClock.controlFile) : undefined;
    const { manifest, command } = nodePod(spec, opts, clockText);
    this.#command = command;
    const ports = nodePorts(spec);
    markStart(spec, `${command.join(' ')} (pod ${opts.namespace}/${this.podName})`);
    const incarnation = ++this.#incarnation;
    try {
      // A pod of that name left by an earlier incarnation (its stop failed half-way) goes first.
      await deletePod(opts.core, opts.namespace, this.podName, 0);
      await opts.core.createNamespacedPod({ namespace: opts.namespace, body: manifest });
      this.#created = true;
      const state = await waitRunning(opts.core, opts.namespace, this.podName, NODE_CONTAINER, opts.startTimeoutMs ?? 60_000);
      this.#exitStatus = undefined;
      this.#paused = false;
      this.#sentSignal = undefined;
      // A clock write while the pod was being made was not copied in (syncClock skips a node that is not running).
      if (spec.fakeClock && readClockControl(spec.fakeClock.controlFile) !== clockText) await this.syncClock();
      this.#log = await this.streams.followLog(opts.config, opts.namespace, this.podName, NODE_CONTAINER, spec.logFile);
      if (this.#forwards.length === 0) {
        const forward = opts.forward ?? ((o: ForwardOptions) => this.streams.forwardPort(opts.config, o));
        this.#forwards = await Promise.all(ports.map((p) => forward({ namespace: opts.namespace, pod: this.podName, podPort: p, hostPort: p })));
      }
      await opts.onAddress(spec.name, ports, state.ip);
    } catch (e) {
      this.#exitStatus = { code: null, signal: null };
      throw new LabError(Errors.NodeFailed, `node ${spec.name} could not start in Kubernetes: ${reason(e)}`, { cause: e, hint: `see ${spec.logFile}; kubectl -n ${opts.namespace} describe pod ${this.podName}` });
    }
    this.#exited = this.#watchExit(incarnation);
  }

  /** Polls the pod until its container ends; records the exit and tells the relay. */
  async #watchExit(incarnation: number): Promise<void> {
    const { opts, spec } = this;
    for (;;) {
      await sleep(200);
      if (incarnation !== this.#incarnation) return;
      let status: ExitStatus | undefined;
      let oom = false;
      try {
        const s = podState(await opts.core.readNamespacedPod({ name: this.podName, namespace: opts.namespace }), NODE_CONTAINER);
        if (s.terminated) {
          status = this.#toStatus(s.terminated.exitCode, s.terminated.signal);
          oom = s.terminated.reason === 'OOMKilled';
        } else if (s.running) continue;
        else if (s.phase === 'Failed' || s.phase === 'Succeeded') status = { code: null, signal: null };
        else continue;
      } catch (e) {
        // 404: deleted (stop, or behind our back): gone all the same. Other errors: try again.
        if (!(e && typeof e === 'object' && (e as { code?: unknown }).code === 404)) continue;
        status = { code: null, signal: this.#sentSignal ?? 'SIGTERM' };
      }
      if (incarnation !== this.#incarnation) return;
      this.#exitStatus = status;
      await opts.onAddress(spec.name, nodePorts(spec), undefined).catch((e: unknown) => opts.onError?.(e));
      await Promise.race([this.#log?.ended, sleep(1000)]);
      this.#log?.stop();
      markExit(spec, status, oom ? `, out of memory: the limit is ${(opts.limits ?? DEFAULT_KUBE_NODE_LIMITS).limits.memory}` : '');
      return;
    }
  }

  async stop(): Promise<void> {
    if (!this.#created) return;
    if (this.#exitStatus === undefined && this.#paused) await this.#signal('SIGCONT').catch(() => undefined);
    this.#paused = false;
    if (this.#exitStatus === undefined) this.#sentSignal = 'SIGTERM';
    // Out of the relay before the pod goes: a deleted pod's IP answers nothing (no reset), and Toxiproxy dials a
    // proxy's upstream inside its accept loop, so one connection to a gone pod would block every relay update
    // behind it for the kernel's connect timeout (minutes). A killed pod keeps its IP until deleted: no such wait.
    await this.opts.onAddress(this.spec.name, nodePorts(this.spec), undefined).catch((e: unknown) => this.opts.onError?.(e));
    await deletePod(this.opts.core, this.opts.namespace, this.podName, STOP_GRACE_S);
    await this.#exited;
    this.#created = false;
  }

  /** Deletes the pod, whatever its state, and closes the port-forward listeners. */
  async remove(): Promise<void> {
    this.#incarnation++;
    this.#log?.stop();
    if (!this.opts.forward) await Promise.all(this.#forwards.map((f) => f.close()));
    this.#forwards = [];
    if (this.#created) await deletePod(this.opts.core, this.opts.namespace, this.podName, 0);
    this.#created = false;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.#sentSignal = signal;
    await this.#signal(signal);
    if (signal === 'SIGKILL') {
      this.#paused = false;
      await this.#exited;
    }
  }

  async pause(): Promise<void> {
    await this.#signal('SIGSTOP');
    this.#paused = true;
  }

  async resume(): Promise<void> {
    await this.#signal('SIGCONT');
    this.#paused = false;
  }

  /**
   * Copies the lab's control file into the running pod (an exec of node in its container, writing atomically as
   * the lab does on its host). Writes are serialized, each copying the file as it is then, so the last one leaves the
   * latest text whatever order they ran in. A node that is not running is skipped: its next pod starts with the file.
   */
  syncClock(): Promise<void> {
    const { spec, opts } = this;
    const file = spec.fakeClock?.controlFile;
    if (file === undefined) return Promise.resolve();
    const copy = async () => {
      if (!this.#created || this.#exitStatus !== undefined) return;
      const incarnation = this.#incarnation;
      try {
        await this.streams.exec(opts.config, opts.namespace, this.podName, NODE_CONTAINER, clockWriteCommand(this.#command[0]!, spec, readClockControl(file)));
      } catch (e) {
        // The pod ended meanwhile: its next incarnation starts with the file.
        if (incarnation !== this.#incarnation || this.#exitStatus !== undefined || !(await this.#running())) return;
        throw new LabError(Errors.NodeFailed, `node ${spec.name}: could not set its clock in pod ${opts.namespace}/${this.podName}: ${reason(e)}`, { cause: e });
      }
    };
    const next = this.#clockWrites.then(copy, copy);
    this.#clockWrites = next.catch(() => undefined);
    return next;
  }

  /** Whether the pod's node container still runs (a failed read counts as running: the failure is then reported). */
  async #running(): Promise<boolean> {
    try {
      return podState(await this.opts.core.readNamespacedPod({ name: this.podName, namespace: this.opts.namespace }), NODE_CONTAINER).running;
    } catch (e) {
      return !isHttp(e, 404);
    }
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const node = this.#command[0]!;
    await this.streams.exec(this.opts.config, this.opts.namespace, this.podName, NODE_CONTAINER, [node, '-e', SIGNAL_SCRIPT, signal, ...this.#command]);
  }

  #toStatus(code: number, signalNumber: number | undefined): ExitStatus {
    const bySignal = signalNumber ? signalName(signalNumber) : code > 128 ? signalName(code - 128) : undefined;
    if (bySignal) return { code: null, signal: bySignal };
    return { code, signal: null };
  }
}

function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(os.constants.signals)) if (num === n) return name as NodeJS.Signals;
  return undefined;
}

