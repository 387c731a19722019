/**
 * The Kubernetes runtime as the runner drives it (`ClusterRuntime`): one namespace per run, Toxiproxy (with the
 * relay) and Prometheus as pods in it, each node a pod; the lab reaches all of them through the API server's
 * port-forward at 127.0.0.1:<port>, exactly the addresses it uses with the other runtimes.
 *
 * Addresses inside the cluster: nodes and proxies are `<Toxiproxy pod IP>:<port>` (the relay or a lab proxy,
 * parts.ts). The load generator runs as a pod too (parts.ts, `startLoadServerPod`): requests go pod to pod, and
 * the Prometheus pod scrapes its client latencies (which the verdicts read) at the pod's IP, and the lab's own
 * metrics (phases, faults, checker results), which the lab pushes to that pod. Only the nodes' trace spans need
 * the pods to reach this machine (at the pod network's gateway: a single-node cluster like the local test one).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { readStartTime } from '../proc.js';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import type { ClusterRuntime, PreparedRuntime, RunIdentity } from '../cluster-runtime.js';
import { formatOwner, thisHost } from '../docker/labels.js';
import { keptRunIds } from '../kept.js';
import { stopFailure } from '../stop-failure.js';
import { checkKubeTarget, isHttp, loadKubeTarget, reason, type KubeTarget, type KubeTargetOptions } from './cluster-api.js';
import { KubernetesRuntime, type KubeNodeLimits } from './kubernetes-runtime.js';
import { LOCAL_KUBE_IMAGES, kubeImagesFrom, type KubeImages } from './images.js';
import { cleanKubeLeftovers, deleteNamespace, waitNamespaceGone } from './namespaces.js';
import { forwardPort, type Forward, type ForwardOptions } from './port-forward.js';
import { startLoadServerPod, startPrometheusPod, startToxiproxyPod, type KubeToxiproxy } from './parts.js';
import { namespaceManifest, namespaceName } from './pods.js';
import { startKubeReaper } from './reaper.js';
import { sleep } from '../../common/time.js';

export interface KubernetesRuntimeSetup extends KubeTargetOptions {
  projectRoot: string;
  /**
   * `--image-registry`: pods pull `R/<name>:<image ID>` (pushed by `chaoslab images push`; the IDs are read from
   * the Docker engine at `dockerHost`). Default: the local names, never pulled (the local test cluster imports them).
   */
  imageRegistry?: string;
  dockerHost?: string;
  nodeLimits?: KubeNodeLimits;
  /** A run's namespace is fair game for any sweep this long after it was made (a lab on another host died). */
  deadlineMs?: number;
}

/** Loads the kubeconfig and asks the API server for a Ready node: exit 3 naming the context otherwise. */
export async function prepareKubernetesRuntime(setup: KubernetesRuntimeSetup): Promise<PreparedRuntime & { description: string }> {
  const target = loadKubeTarget(setup);
  const { nodes } = await checkKubeTarget(target);
  const images = setup.imageRegistry !== undefined ? await kubeImagesFrom(setup.imageRegistry, setup.dockerHost ? { dockerHost: setup.dockerHost } : {}) : LOCAL_KUBE_IMAGES;
  const description = `kubernetes context ${target.context} at ${target.server} (${nodes.length} node${nodes.length === 1 ? '' : 's'})${setup.imageRegistry !== undefined ? `, images from ${setup.imageRegistry}` : ''}`;
  return { kind: 'kubernetes', description, open: (run) => openKubernetes(target, setup, images, run, nodes, description) };
}

/** The first address of a pod CIDR: the bridge gateway, i.e. the node itself, with the usual CNI bridge. */
export function gatewayOf(podCIDR: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(podCIDR ?? '');
  if (!m) return undefined;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const g = (n + 1) >>> 0;
  return [g >>> 24, (g >>> 16) & 255, (g >>> 8) & 255, g & 255].join('.');
}

/** Whether `address` lies in `cidr` (IPv4; `::ffff:` prefixes allowed). */
export function inCidr(address: string, cidr: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const a = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!m || !a) return false;
  const num = (x: RegExpExecArray) => ((Number(x[1]) << 24) | (Number(x[2]) << 16) | (Number(x[3]) << 8) | Number(x[4])) >>> 0;
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (num(a) & mask) === (num(m) & mask);
}

/** Whether this machine can listen on `ip` (os.networkInterfaces() omits a bridge with no pod attached yet). */
function isLocalAddress(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, ip, () => server.close(() => resolve(true)));
  });
}

async function openKubernetes(target: KubeTarget, setup: KubernetesRuntimeSetup, images: KubeImages, run: RunIdentity, nodes: { podCIDR?: string }[], description: string): Promise<ClusterRuntime> {
  const { core, config } = target;
  const owner = formatOwner({ host: thisHost(), pid: process.pid, startTime: readStartTime(process.pid) });
  const namespace = namespaceName(run.runId);
  const onError = (e: unknown) => run.onStopError?.(stopFailure('a Kubernetes object', e));
  const swept = await cleanKubeLeftovers(core, { exceptRunId: run.runId, keptRunIds: keptRunIds(run.stateDir) }).catch(() => []);
  if (swept.length) run.onMessage?.(`deleted ${swept.length} namespace(s) left by an earlier run`);
  try {
    await core.createNamespace({ body: namespaceManifest(run.runId, run.scenario, owner, new Date(Date.now() + (setup.deadlineMs ?? 6 * 3600_000)), target.context) });
  } catch (e) {
    throw new LabError(Errors.KubernetesFailed, `could not create namespace ${namespace} in context ${target.context}: ${reason(e)}`, { cause: e, hint: 'the lab needs to create namespaces and pods (and pods/exec, pods/portforward, pods/log) there' });
  }
  let reaper: Awaited<ReturnType<typeof startKubeReaper>>;
  try {
    reaper = await startKubeReaper({ namespace, context: target.context });
    await waitServiceAccount(core, namespace);
  } catch (e) {
    await deleteNamespace(core, namespace).catch(() => undefined);
    throw e;
  }
  const podCIDRs = nodes.flatMap((n) => (n.podCIDR ? [n.podCIDR] : []));
  const gateway = gatewayOf(podCIDRs[0]);
  const labHost = gateway && (await isLocalAddress(gateway)) ? gateway : '127.0.0.1';
  // The lab's metrics travel with the load server (pushed to its pod); the nodes' trace spans need this way back.
  if (labHost === '127.0.0.1') run.onMessage?.(`warning: the pods cannot reach this machine (no pod gateway ${gateway ?? '?'} here): the nodes' trace spans will not reach the lab`);
  let toxiproxy: KubeToxiproxy | undefined;
  const innerAt = (port: number) => {
    if (!toxiproxy) throw new Error('an address inside the cluster was asked before Toxiproxy started');
    return `${toxiproxy.ip}:${port}`;
  };
  const runtimes: KubernetesRuntime[] = [];
  // Node ports are the run's, not a variant's: one listener per host port for the run (pods are named at connect).
  const forwards = new Map<string, Promise<Forward>>();
  const forward = (o: ForwardOptions): Promise<Forward> => {
    const key = `${o.pod}/${o.podPort}/${o.hostPort}`;
    let f = forwards.get(key);
    if (!f) {
      f = forwardPort(config, o);
      forwards.set(key, f);
      f.catch(() => forwards.delete(key));
    }
    return f;
  };
  const ctx = { config, core, namespace, runId: run.runId, scenario: run.scenario, images, onError };
  let closing: Promise<void> | undefined;
  return {
    kind: 'kubernetes',
    description: `${description}, namespace ${namespace}`,
    nodeListenHost: '0.0.0.0',
    labMetricsHost: labHost,
    isRunPeer: (address) => /^(::ffff:)?127\./.test(address) || address === '::1' || podCIDRs.some((c) => inCidr(address, c)),
    nodeAddress: (_node, port) => innerAt(port),
    proxyListenAddress: (port) => `0.0.0.0:${port}`,
    proxyAddress: innerAt,
    async startToxiproxy(o) {
      toxiproxy = await startToxiproxyPod(ctx, o);
      return toxiproxy;
    },
    startPrometheus: (o) => startPrometheusPod(ctx, o),
    // A secret, not a choice a replay depends on: it comes from the OS, not the run's seed.
    startLoadServer: (o) => startLoadServerPod(ctx, { ...o, token: randomBytes(24).toString('hex') }),
    nodes() {
      const r = new KubernetesRuntime({
        config,
        core,
        namespace,
        runId: run.runId,
        scenario: run.scenario,
        projectRoot: setup.projectRoot,
        images,
        ...(setup.nodeLimits ? { limits: setup.nodeLimits } : {}),
        onAddress: async (node, ports, ip) => {
          if (!toxiproxy) throw new Error('a node started before Toxiproxy');
          await toxiproxy.relay(node, ports, ip);
        },
        onError,
        forward,
      });
      runtimes.push(r);
      return r;
    },
    async keep() {
      // The lab's port-forwards end with the lab: a kept run would be unreachable from here.
      throw new LabError(Errors.InvalidArgument, '--keep and `chaoslab up` are not available with the Kubernetes runtime yet', { hint: 'use --runtime process or docker for a game day that stays up' });
    },
    close() {
      closing ??= (async () => {
        for (const failures of await Promise.all(runtimes.map((r) => r.removeAll()))) for (const e of failures) onError(e);
        await Promise.allSettled([...forwards.values()].map(async (f) => (await f).close()));
        try {
          await deleteNamespace(core, namespace);
          if (!(await waitNamespaceGone(core, namespace, 30_000))) onError(new Error(`namespace ${namespace} is still terminating after 30 s`));
        } catch (e) {
          onError(e);
        } finally {
          await reaper.close();
        }
      })();
      return closing;
    },
  };
}

/** Pods cannot be created before the namespace's default service account exists (the admission plugin). */
async function waitServiceAccount(core: KubeTarget['core'], namespace: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace });
      return;
    } catch (e) {
      if (!isHttp(e, 404) || Date.now() > deadline) throw new LabError(Errors.KubernetesFailed, `namespace ${namespace} got no default service account: ${reason(e)}`, { hint: 'is the controller-manager running?' });
    }
    await sleep(100);
  }
}

/** `chaoslab clean`: deletes the namespaces of runs whose lab is gone. Without a cluster there is nothing to clean. */
export async function cleanKubernetes(opts: KubeTargetOptions & { all?: boolean }): Promise<{ skipped?: string; removed: { runId: string; namespace: string }[] }> {
  let target: KubeTarget;
  try {
    target = loadKubeTarget(opts);
    await checkKubeTarget(target, 3000);
  } catch (e) {
    return { skipped: e instanceof Error ? e.message : String(e), removed: [] };
  }
  const gone = await cleanKubeLeftovers(target.core, { ...(opts.all ? { all: true } : {}) });
  return { removed: gone.map((g) => ({ runId: g.runId, namespace: g.name })) };
}
