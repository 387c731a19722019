/**
 * Cluster nodes as pods, behind the same `Runtime`/`StartedNode` interfaces as processes and containers. One pod
 * per node incarnation (restartPolicy Never; a restart is a new pod of the same name), running the toys image as
 * nobody. Node faults, mapped honestly onto what Kubernetes offers:
 * - stop: delete the pod (SIGTERM, SIGKILL after the 2 s grace), as a scale-down or a drain does;
 * - kill and pause/resume: Kubernetes has no kill or freeze API, so the signal is sent from inside the pod
 *   (an exec of node in the node's own container; the pod shares one process namespace, so the toy is not pid 1
 *   and takes SIGKILL, SIGSTOP and SIGCONT as a process does);
 * - restart: stop, then a new pod (a new pod IP; the run's relay follows it, see parts.ts).
 * The lab reaches each node port at 127.0.0.1:<port> through the API server's port-forward (port-forward.ts).
 */
import type { KubeConfig, CoreV1Api, V1Container } from '@kubernetes/client-node';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { ManagedNode } from '../managed-node.js';
import { markExit, markStart } from '../node-log.js';
import { nodePorts } from '../node-ports.js';
import type { ExitStatus, NodeDriver, NodeSpec, Runtime, StartedNode } from '../runtime.js';
import { toContainerCommand } from '../docker/docker-runtime.js';
import { LABEL } from '../docker/labels.js';
import { reason } from './cluster-api.js';
import type { KubeImages } from './images.js';
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

  constructor(
    readonly spec: NodeSpec,
    private readonly opts: KubernetesRuntimeOptions,
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
    if (spec.fakeClock) {
      throw new LabError(Errors.NodeFailed, `node ${spec.name}: the clock fault is not available in the Kubernetes runtime yet`, {
        hint: 'run this scenario with --runtime process or --runtime docker',
      });
    }
    const { command, workingDir } = toContainerCommand(spec, opts.projectRoot);
    this.#command = command;
    const ports = nodePorts(spec);
    const limits = opts.limits ?? DEFAULT_KUBE_NODE_LIMITS;
    const container: V1Container = {
      name: NODE_CONTAINER,
      image: opts.images.toys,
      imagePullPolicy: opts.images.pullPolicy,
      command,
      workingDir,
      env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
      ports: ports.map((p) => ({ containerPort: p, protocol: 'TCP' })),
      resources: { requests: limits.requests, limits: limits.limits },
      securityContext: restrictedContext(),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    };
    const manifest = podManifest({
      name: this.podName,
      labels: kubeLabels(opts.runId, { scenario: opts.scenario, node: spec.name, part: 'node' }),
      containers: [container],
      volumes: [{ name: 'tmp', sizeLimit: '64Mi', memory: true }],
      shareProcessNamespace: true,
      spreadBy: { key: LABEL.node, value: spec.name },
      terminationGraceS: STOP_GRACE_S,
    });
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
      this.#log = await followLog(opts.config, opts.namespace, this.podName, NODE_CONTAINER, spec.logFile);
      if (this.#forwards.length === 0) {
        const forward = opts.forward ?? ((o: ForwardOptions) => forwardPort(opts.config, o));
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

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const node = this.#command[0]!;
    await execIn(this.opts.config, this.opts.namespace, this.podName, NODE_CONTAINER, [node, '-e', SIGNAL_SCRIPT, signal, ...this.#command]);
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

