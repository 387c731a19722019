/**
 * What the runner drives, whichever runtime runs the cluster: the parts (Toxiproxy, Prometheus), the nodes, the
 * addresses each side uses, and crash-proof cleanup. Two implementations: local processes (the lab's original
 * behaviour, moved here unchanged) and Docker containers. The runner asks `prepare*` first (checks that start
 * nothing: binaries, the engine, the images), then `open()` per run, and `close()` in its `finally`.
 *
 * Addresses: every node port and proxy port is one number `P` chosen by the runner on the host. The lab itself
 * (health checks, load, admin calls) always uses `127.0.0.1:P`. Inside the cluster (peers, Toxiproxy upstreams,
 * Prometheus targets) the runtime says: `127.0.0.1:P` for processes, `<node name>:P` or `chaoslab-toxiproxy:P`
 * on the run's Docker network, where each container publishes `P` on 127.0.0.1 as `P`.
 */
import { LabError } from '../errors/lab-error.js';
import { findToxiproxyBinary, startToxiproxy, type StartedToxiproxy } from '../fault/toxiproxy-server.js';
import { findPrometheusBinary, startPrometheus, type MetricRelabelConfig, type ScrapeTarget, type StartedPrometheus } from '../observe/prometheus-server.js';
import { ProcessRuntime } from './process-runtime.js';
import { readStartTime } from './proc.js';
import { cleanStale, startReaper, type Reaper } from './reaper.js';
import { forgetKept, keptRunIds, writeKept, type KeptInfo, type KeptRecord } from './kept.js';
import { killGroups, type ProcessEntry } from './proc.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from './runtime.js';
import { stopFailure, type StopErrorHandler } from './stop-failure.js';
import { isLoopback, runNetworkPeer } from './peers.js';
import { DEFAULT_NODE_LIMITS, DockerRuntime, type NodeLimits } from './docker/docker-runtime.js';
import { PROMETHEUS_ALIAS, TOXIPROXY_ALIAS, startPrometheusContainer, startToxiproxyContainer } from './docker/docker-parts.js';
import { DockerEngine } from './docker/engine.js';
import { Errors } from '../errors/catalog.js';
import { ensureImages, type ImageOutcome, type ImageSource } from './docker/images.js';
import { LABEL, createLabels, formatOwner, objectName, runFilter, thisHost } from './docker/labels.js';
import { cleanDockerLeftovers, startDockerReaper, type DockerReaper } from './docker/reaper.js';
import { createNodeSandboxes } from './docker/sandboxes.js';

export type RuntimeKind = 'process' | 'docker' | 'kubernetes';
export const RUNTIME_KINDS: readonly RuntimeKind[] = ['process', 'docker', 'kubernetes'];
export { prepareKubernetesRuntime, cleanKubernetes } from './kubernetes/kubernetes-cluster.js';

export type ClusterToxiproxy = StartedToxiproxy & {
  /** `host:port` of the API and its /metrics as Prometheus reaches it. */
  innerAddress: string;
};

/**
 * The load generator as a server in the cluster (src/workload/remote), where a runtime keeps the load off the
 * user's link: the lab drives it over `url` and Prometheus scrapes its `/metrics` at `innerAddress`.
 */
export interface ClusterLoadServer {
  /** Its control endpoint as the lab reaches it (a port-forward on 127.0.0.1). */
  readonly url: string;
  /** The bearer token it takes (set in its environment by the runtime). */
  readonly token: string;
  /** `host:port` of its `/metrics` as Prometheus reaches it. */
  readonly innerAddress: string;
  readonly logFile: string;
  /** Resolves when it ended by itself (its pod went away). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface StartClusterToxiproxyOptions {
  logFile: string;
  seed: number;
  /** Host port of the API on 127.0.0.1 (`--toxiproxy-port`); a free one by default. */
  port?: number;
  /**
   * Listen ports of the proxies the lab itself connects to (links `from: client`): a container publishes them on
   * 127.0.0.1 when it starts. Proxies between nodes stay inside the network.
   */
  proxyPorts: number[];
}

export interface StartClusterPrometheusOptions {
  dir: string;
  scrapeIntervalMs: number;
  logFile: string;
  initialTargets: ScrapeTarget[];
  port?: number;
  /** Process runtime only (a game day's participants' Prometheus); the Docker runtime's Prometheus scrapes everything. */
  metricRelabelConfigs?: MetricRelabelConfig[];
}

export interface ClusterRuntime {
  readonly kind: RuntimeKind;
  /** One line for the journal and the console, e.g. `docker 20.10.24 at unix:///var/run/docker.sock`. */
  readonly description: string;
  /** `NodeConfig.host`: the interface a node listens on. */
  readonly nodeListenHost: string;
  /** Where the lab's metrics server must listen so Prometheus can scrape it. */
  readonly labMetricsHost: string;
  /** Whether a client at this remote address is one of the run's nodes or parts (the lab's listeners check it). */
  isRunPeer(address: string): boolean;
  /** `host:port` of a node's port for peers, Toxiproxy upstreams and Prometheus. Final once `startToxiproxy` resolved. */
  nodeAddress(node: string, port: number): string;
  /** The `listen` of a Toxiproxy proxy. */
  proxyListenAddress(port: number): string;
  /** `host:port` of a proxy as nodes reach it (peers). Final once `startToxiproxy` resolved. */
  proxyAddress(port: number): string;
  startToxiproxy(opts: StartClusterToxiproxyOptions): Promise<ClusterToxiproxy>;
  startPrometheus(opts: StartClusterPrometheusOptions): Promise<StartedPrometheus>;
  /**
   * Where the load runs outside the lab's process, if this runtime runs it elsewhere (Kubernetes: a pod, so load
   * does not cross the user's link); absent: the lab's own `LoadGenerator`. Load targets are then the addresses
   * inside the cluster (`nodeAddress`, `proxyAddress`).
   */
  startLoadServer?(opts: { logFile: string }): Promise<ClusterLoadServer>;
  /** A node runtime (the runner takes one per variant). */
  nodes(): Runtime;
  /** After the parts and nodes stopped: removes what is left (containers, network) and stops the reaper. */
  close(): Promise<void>;
  /**
   * Instead of `close()`, with the parts and nodes still running (a kept run): records them in the state dir's
   * kept-run record, then the reaper stands down, so they outlive the lab until `chaoslab down` or `clean`.
   */
  keep(info: Omit<KeptInfo, 'runtime'>): Promise<KeptRecord>;
}

export interface RunIdentity {
  runId: string;
  scenario: string;
  /** The run's nodes and their ports, when known: the Docker runtime readies their networks in the background. */
  nodes?: { name: string; ports: number[] }[];
  /** Where the process reaper keeps its state files. */
  stateDir: string;
  onMessage?: (message: string) => void;
  /** A part or node that could not be stopped or removed cleanly: teardown goes on; the runner journals it. */
  onStopError?: StopErrorHandler;
}

export interface PreparedRuntime {
  readonly kind: RuntimeKind;
  open(run: RunIdentity): Promise<ClusterRuntime>;
}

// --- local processes

export interface ProcessRuntimeSetup {
  projectRoot: string;
  envPath: string;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
}

/** Looks the binaries up (throws before anything starts when one is missing). */
export function prepareProcessRuntime(setup: ProcessRuntimeSetup): PreparedRuntime {
  const toxiproxyBinary = findToxiproxyBinary({ projectRoot: setup.projectRoot, envPath: setup.envPath, ...(setup.toxiproxyBinary ? { override: setup.toxiproxyBinary } : {}) });
  const prometheusBinary = findPrometheusBinary({ envPath: setup.envPath, ...(setup.prometheusBinary ? { override: setup.prometheusBinary } : {}) });
  return {
    kind: 'process',
    async open(run) {
      // Whatever an earlier crashed run left behind goes first.
      const stale = await cleanStale(run.stateDir);
      if (stale.killed.length) run.onMessage?.(`cleaned ${stale.killed.length} process(es) left by an earlier run`);
      const reaper: Reaper = await startReaper({ stateDir: run.stateDir, runId: run.runId });
      let toxiproxy: StartedToxiproxy | undefined;
      const loopback = (port: number) => `127.0.0.1:${port}`;
      return {
        kind: 'process',
        description: 'local processes',
        nodeListenHost: '127.0.0.1',
        labMetricsHost: '127.0.0.1',
        isRunPeer: isLoopback,
        nodeAddress: (_node, port) => loopback(port),
        proxyListenAddress: loopback,
        proxyAddress: loopback,
        async startToxiproxy(o) {
          const t = await startToxiproxy({ binary: toxiproxyBinary, logFile: o.logFile, seed: o.seed, ...(o.port !== undefined ? { port: o.port } : {}) });
          toxiproxy = t;
          await reaper.register(t.pid, 'toxiproxy');
          return { ...t, innerAddress: new URL(t.url).host, stop: t.stop, [Symbol.asyncDispose]: t.stop };
        },
        async startPrometheus(o) {
          const p = await startPrometheus({ binary: prometheusBinary, ...o });
          await reaper.register(p.pid, 'prometheus');
          return p;
        },
        nodes: () => new ProcessRuntime({ reaper, onError: (e) => run.onStopError?.(stopFailure('a node (the reaper did not take its exit)', e)) }),
        close: () => reaper.close(),
        async keep(info) {
          toxiproxy?.release?.();
          let record: KeptRecord | undefined;
          await reaper.release((processes) => {
            record = { version: 1, ...info, runtime: 'process', processes };
            writeKept(run.stateDir, record);
          });
          return record!;
        },
      };
    },
  };
}

// --- Docker

export interface DockerRuntimeSetup {
  projectRoot: string;
  /** PATH, to find the Toxiproxy and Prometheus binaries for offline image builds. */
  envPath: string;
  /** DOCKER_HOST; undefined: the local socket. */
  dockerHost?: string;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
  /** How missing or stale images are built before the run (default `auto`). */
  imageSource?: ImageSource;
  nodeLimits?: NodeLimits;
  onMessage?: (message: string) => void;
  /** A long step in progress (an image build, with its latest log line); null when it is done. */
  onProgress?: (progress: { label: string; detail?: string } | null) => void;
}

/**
 * Checks that an engine answers (exit 3 naming DOCKER_HOST otherwise) and that the images are current, building
 * what is missing or stale (a toy change: seconds; nothing changed: well under a second). Starts nothing else.
 */
export async function prepareDockerRuntime(setup: DockerRuntimeSetup): Promise<PreparedRuntime & { engineVersion: string; images: ImageOutcome[] }> {
  const engine = new DockerEngine(setup.dockerHost ? { dockerHost: setup.dockerHost } : {});
  const { version } = await engine.ping();
  const images = await ensureImages(engine, {
    projectRoot: setup.projectRoot,
    envPath: setup.envPath,
    source: setup.imageSource ?? 'auto',
    ...(setup.toxiproxyBinary ? { toxiproxyBinary: setup.toxiproxyBinary } : {}),
    ...(setup.prometheusBinary ? { prometheusBinary: setup.prometheusBinary } : {}),
    ...(setup.onProgress
      ? {
          onBuildStart: (image: string) => setup.onProgress!({ label: `building ${image}` }),
          onLog: (image: string, line: string) => {
            if (line.trim()) setup.onProgress!({ label: `building ${image}`, detail: line.trim() });
          },
        }
      : {}),
  });
  setup.onProgress?.(null);
  for (const i of images) if (i.status === 'built') setup.onMessage?.(`built image ${i.image} (${i.source}) in ${(i.ms / 1000).toFixed(1)}s`);
  return {
    kind: 'docker',
    engineVersion: version,
    images,
    open: (run) => openDocker(engine, version, setup, run),
  };
}

async function openDocker(engine: DockerEngine, version: string, setup: DockerRuntimeSetup, run: RunIdentity): Promise<ClusterRuntime> {
  const owner = formatOwner({ host: thisHost(), pid: process.pid, startTime: readStartTime(process.pid) });
  const networkName = objectName('chaoslab', run.runId);
  // All three at once (they cost a second or two together otherwise). No container exists before the reaper
  // answers; a network made in the moment before it does is what the next run's sweep (or `chaoslab clean`) is for.
  const [reaper, swept, network] = await Promise.allSettled([
    startDockerReaper({ runId: run.runId, ...(setup.dockerHost ? { dockerHost: setup.dockerHost } : {}) }),
    cleanDockerLeftovers(engine, { exceptRunId: run.runId, keptRunIds: keptRunIds(run.stateDir) }),
    engine.createNetwork(networkName, createLabels(run.runId, { scenario: run.scenario, part: 'network', owner })),
  ]);
  if (reaper.status === 'rejected' || swept.status === 'rejected' || network.status === 'rejected') {
    if (network.status === 'fulfilled') await engine.removeNetwork(network.value.id).catch((e: unknown) => run.onStopError?.(stopFailure(`network ${networkName}`, e)));
    if (reaper.status === 'fulfilled') await reaper.value.close();
    throw [reaper, swept, network].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }
  const stale = swept.value;
  if (stale.length) run.onMessage?.(`removed ${stale.reduce((n, r) => n + r.containers.length, 0)} container(s) and ${stale.reduce((n, r) => n + r.networks.length, 0)} network(s) left by ${stale.length} earlier run(s)`);
  return dockerCluster(engine, version, setup, run, owner, networkName, network.value, reaper.value);
}

function dockerCluster(engine: DockerEngine, version: string, setup: DockerRuntimeSetup, run: RunIdentity, owner: string, networkName: string, network: { gateway: string; subnet: string }, reaper: DockerReaper): ClusterRuntime {
  const { gateway } = network;
  const onError = run.onStopError ?? (() => {});
  const ctx = { engine, network: networkName, runId: run.runId, scenario: run.scenario, owner, onError };
  const sandboxes = createNodeSandboxes(ctx);
  if (run.nodes) sandboxes.prepare(run.nodes);
  const runtimes: DockerRuntime[] = [];
  let closing: Promise<void> | undefined;
  // IP addresses, once known: a node then opens a connection without a name lookup (the engine's DNS runs in
  // dockerd, which a busy machine starves; a toy that churns connections would pay for it on every call).
  let toxiproxyIp: string | undefined;
  return {
    kind: 'docker',
    description: `docker ${version} at ${engine.host}, network ${networkName}`,
    nodeListenHost: '0.0.0.0',
    // The host's address on the run's own bridge: Prometheus's container reaches the lab there, and nothing
    // outside the machine can (the bridge is not routed beyond it).
    labMetricsHost: gateway,
    // The containers on the run's own network; not the gateway, which is the host (any local user).
    isRunPeer: runNetworkPeer(network.subnet, gateway),
    nodeAddress: (node, port) => `${sandboxes.addressOf(node) ?? node}:${port}`,
    proxyListenAddress: (port) => `0.0.0.0:${port}`,
    proxyAddress: (port) => `${toxiproxyIp ?? TOXIPROXY_ALIAS}:${port}`,
    async startToxiproxy(o) {
      // The nodes' sandbox started at open(), beside this one: its address is known when both are up.
      const [t] = await Promise.all([startToxiproxyContainer(ctx, o), sandboxes.prepared()]);
      toxiproxyIp = t.ip;
      return t;
    },
    startPrometheus: (o) => startPrometheusContainer(ctx, o),
    nodes() {
      const rt = new DockerRuntime({ ...ctx, sandboxes, projectRoot: setup.projectRoot, limits: setup.nodeLimits ?? DEFAULT_NODE_LIMITS, onError: (e) => onError(stopFailure('a node container', e)) });
      runtimes.push(rt);
      return {
        start(spec) {
          if (spec.name === TOXIPROXY_ALIAS || spec.name === PROMETHEUS_ALIAS) {
            return Promise.reject(new LabError(Errors.InvalidField, `a node may not be named ${spec.name} in the Docker runtime (the lab's own part has that name)`, { hint: 'rename the node in the cluster file' }));
          }
          return rt.start(spec);
        },
      };
    },
    async keep(info) {
      const record: KeptRecord = { version: 1, ...info, runtime: 'docker', ...(setup.dockerHost ? { dockerHost: setup.dockerHost } : {}) };
      // Recorded first: from here the start-of-run sweep leaves the run alone even if the lab dies now.
      writeKept(run.stateDir, record);
      closing ??= reaper.release();
      await closing;
      return record;
    },
    close() {
      closing ??= (async () => {
        for (const failures of await Promise.all(runtimes.map((r) => r.removeAll()))) for (const e of failures) onError(stopFailure('a node container', e));
        await sandboxes.removeAll().catch((e: unknown) => onError(stopFailure('the node sandboxes', e)));
        // Whatever is still labelled with the run (a part whose stop failed, the network).
        try {
          await engine.removeByLabels(runFilter(run.runId).label);
        } finally {
          await reaper.close();
        }
      })();
      return closing;
    },
  };
}

/** `chaoslab clean`: the sweep of runs whose lab is gone. Without an engine there is nothing to clean: says so. */
export async function cleanDocker(opts: { dockerHost?: string; all?: boolean }): Promise<{ skipped?: string; removed: { runId: string; containers: number; networks: number }[] }> {
  const engine = new DockerEngine(opts.dockerHost ? { dockerHost: opts.dockerHost } : {});
  try {
    await engine.ping(2000);
  } catch (e) {
    return { skipped: e instanceof Error ? e.message : String(e), removed: [] };
  }
  const runs = await cleanDockerLeftovers(engine, { ...(opts.all ? { all: true } : {}) });
  return { removed: runs.map((r) => ({ runId: r.runId, containers: r.containers.length, networks: r.networks.length })) };
}

/**
 * `chaoslab down` and `clean`: stops what a kept run left up (process groups, or the run's labelled containers and
 * network) and forgets the record. Returns what it stopped, one line each.
 */
export async function stopKept(stateDir: string, record: KeptRecord): Promise<string[]> {
  const stopped: string[] = [];
  if (record.runtime === 'docker') {
    const engine = new DockerEngine(record.dockerHost ? { dockerHost: record.dockerHost } : {});
    const removed = await engine.removeByLabels(runFilter(record.runId).label);
    stopped.push(...removed.containers.map((c) => `container ${c.labels[LABEL.node] ?? c.labels[LABEL.part] ?? c.id.slice(0, 12)}`));
  } else {
    const killed = await killGroups(record.processes ?? ([] as ProcessEntry[]));
    stopped.push(...killed.map((k) => `${k.label} (pid ${k.pid})`));
    // The reaper's state file, if the lab died between writing the record and the reaper standing down.
    rmSync(join(stateDir, `${record.runId}.json`), { force: true });
  }
  forgetKept(stateDir, record);
  return stopped;
}
