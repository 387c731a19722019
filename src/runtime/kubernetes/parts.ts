/**
 * Toxiproxy and Prometheus as pods in the run's namespace, returning the same shapes as the local servers: `url`
 * answers on 127.0.0.1 through the API server's port-forward; `innerAddress` is where pods reach the part.
 *
 * Pods have no stable addresses (a restart is a new pod IP) and a bare cluster may have no DNS or Service proxy,
 * yet node configs name their peers before any node starts. So the Toxiproxy pod also runs a second Toxiproxy,
 * the relay, with no toxics ever: one proxy per node port, `<toxiproxy pod IP>:<port>` → `<node pod IP>:<port>`,
 * repointed when a node's pod is replaced and disabled while it is down (connections are refused, as with a dead
 * process). The lab's own Toxiproxy (the one faults go to, and the proxy guard watches) never sees the relay.
 *
 * Prometheus reads its targets from a file in an emptyDir; a small sidecar (node, from the toys image) writes it
 * when the lab PUTs a new list through the port-forward, so file_sd picks changes up at once, as locally.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CoreV1Api, KubeConfig, V1Container } from '@kubernetes/client-node';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { ToxiproxyApi } from '../../fault/toxiproxy-api.js';
import { toxiproxyReady, type StartedToxiproxy } from '../../fault/toxiproxy-server.js';
import { PrometheusClient } from '../../observe/prometheus-client.js';
import { renderPrometheusConfig, type PrometheusExit, type StartedPrometheus } from '../../observe/prometheus-server.js';
import { renderTargets, validateTargets, waitForTargets, type ScrapeTarget } from '../../observe/scrape-targets.js';
import { IN_IMAGE } from '../docker/images.js';
import type { KubeImages } from './images.js';
import { Wait, WaitFailure, type WaitStrategy } from '../wait/index.js';
import { reason } from './cluster-api.js';
import { forwardPort, type Forward } from './port-forward.js';
import { deletePod, followLog, kubeLabels, podManifest, podState, restrictedContext, waitRunning } from './pods.js';
import { sleep } from '../../common/time.js';
import type { ClusterLoadServer } from '../cluster-runtime.js';
import { LOAD_API, LOAD_SERVER_PORT } from '../../workload/remote/load-api.js';
import { holdLoadServer } from '../../workload/remote/load-server-hold.js';

export const TOXIPROXY_POD = 'chaoslab-toxiproxy';
export const PROMETHEUS_POD = 'chaoslab-prometheus';
export const LOAD_POD = 'chaoslab-load';
const TOXIPROXY_API_PORT = 8474;
const RELAY_API_PORT = 8475;
const PROMETHEUS_PORT = 9090;
const TARGETS_PORT = 9091;

export interface PartContext {
  config: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  runId: string;
  scenario: string;
  images: KubeImages;
  onError?: (e: unknown) => void;
}

export type KubeToxiproxy = StartedToxiproxy & {
  innerAddress: string;
  /** The Toxiproxy pod's IP: proxies and the relay listen there. */
  ip: string;
  /** Points the relay's proxies for a node at its pod (or refuses connections while it is down). */
  relay(node: string, ports: number[], ip: string | undefined): Promise<void>;
};

export interface KubeToxiproxyOptions {
  logFile: string;
  seed: number;
  port?: number;
  proxyPorts: number[];
  readyTimeoutMs?: number;
}

function toxiproxyContainer(images: KubeImages, name: string, args: string[]): V1Container {
  return {
    name,
    image: images.toxiproxy,
    imagePullPolicy: images.pullPolicy,
    args,
    resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    securityContext: restrictedContext(),
  };
}

export async function startToxiproxyPod(ctx: PartContext, opts: KubeToxiproxyOptions): Promise<KubeToxiproxy> {
  const manifest = podManifest({
    name: TOXIPROXY_POD,
    labels: kubeLabels(ctx.runId, { scenario: ctx.scenario, part: 'toxiproxy' }),
    containers: [
      toxiproxyContainer(ctx.images, 'toxiproxy', ['-host', '0.0.0.0', '-port', String(TOXIPROXY_API_PORT), '-proxy-metrics', '-seed', String(Math.trunc(opts.seed))]),
      // Its API only on the pod's loopback: the lab reaches it through the port-forward, nothing else can.
      toxiproxyContainer(ctx.images, 'relay', ['-host', '127.0.0.1', '-port', String(RELAY_API_PORT)]),
    ],
  });
  const { state, forwards, log, stop, exited } = await runPartPod(ctx, manifest, 'toxiproxy', opts.logFile, Errors.ToxiproxyFailed, [
    { podPort: TOXIPROXY_API_PORT, hostPort: opts.port ?? 0 },
    { podPort: RELAY_API_PORT, hostPort: 0 },
    ...opts.proxyPorts.map((p) => ({ podPort: p, hostPort: p })),
  ]);
  const [api, relayApi] = forwards;
  const url = `http://127.0.0.1:${api!.port}`;
  const relayUrl = `http://127.0.0.1:${relayApi!.port}`;
  await waitPart(toxiproxyReady(api!.port).withTimeout(opts.readyTimeoutMs ?? 20_000), 'Toxiproxy in Kubernetes', exited).catch(async (why: string) => {
    await stop();
    throw new LabError(Errors.ToxiproxyFailed, `Toxiproxy in Kubernetes did not answer GET ${url}/version: ${why}`, { hint: `see ${opts.logFile}` });
  });
  await waitPart(toxiproxyReady(relayApi!.port).withTimeout(opts.readyTimeoutMs ?? 20_000), 'the relay in Kubernetes', exited).catch(async (why: string) => {
    await stop();
    throw new LabError(Errors.ToxiproxyFailed, `the relay Toxiproxy did not answer: ${why}`, { hint: `see ${opts.logFile}` });
  });
  void log;
  // At a run's end the nodes and Toxiproxy stop together: a node's exit must not wait on a relay that is going away.
  let stopping = false;
  const stopRelayFirst = async (): Promise<void> => {
    stopping = true;
    await stop();
  };
  const relay = async (node: string, ports: number[], ip: string | undefined): Promise<void> => {
    if (stopping) return;
    for (const port of ports) {
      const name = `${node}-${port}`;
      const body = ip ? { name, listen: `0.0.0.0:${port}`, upstream: `${ip}:${port}`, enabled: true } : { enabled: false };
      let res: Response;
      try {
        res = await fetch(`${relayUrl}/proxies/${encodeURIComponent(name)}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        if (res.status === 404 && ip) res = await fetch(`${relayUrl}/proxies`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      } catch (e) {
        if (stopping) return; // the relay went away with the run, as the node did
        throw e;
      }
      if (!res.ok && !(res.status === 404 && !ip)) throw new LabError(Errors.ToxiproxyFailed, `the relay refused ${name} → ${ip ?? 'down'}: HTTP ${res.status} ${await res.text()}`);
    }
  };
  return {
    url,
    port: api!.port,
    pid: 0,
    metricsPath: '/metrics',
    client: new ToxiproxyApi(url),
    innerAddress: `${state.ip}:${TOXIPROXY_API_PORT}`,
    ip: state.ip!,
    relay,
    stop: stopRelayFirst,
    [Symbol.asyncDispose]: stopRelayFirst,
    exited,
  };
}

export interface KubePrometheusOptions {
  dir: string;
  scrapeIntervalMs: number;
  logFile: string;
  initialTargets?: ScrapeTarget[];
  port?: number;
  readyTimeoutMs?: number;
}

/** The sidecar: PUT /targets writes the file_sd file atomically (rename), so Prometheus never reads half of it. */
const TARGETS_SIDECAR = [
  "const fs=require('fs'),http=require('http');",
  "fs.writeFileSync('/work/prometheus.yml',process.env.PROMETHEUS_YML);",
  "const put=(b)=>{fs.writeFileSync('/work/targets.json.tmp',b);fs.renameSync('/work/targets.json.tmp','/work/targets.json')};",
  'put(process.env.INITIAL_TARGETS);',
  "http.createServer((q,r)=>{let b='';q.on('data',(c)=>b+=c);q.on('end',()=>{try{JSON.parse(b);put(b);r.end('ok')}catch(e){r.statusCode=400;r.end(String(e))}})})",
  `.listen(${TARGETS_PORT},'127.0.0.1');`,
].join('');

export async function startPrometheusPod(ctx: PartContext, opts: KubePrometheusOptions): Promise<StartedPrometheus & { innerAddress: string }> {
  if (!Number.isInteger(opts.scrapeIntervalMs) || opts.scrapeIntervalMs <= 0 || opts.scrapeIntervalMs > 1000) {
    throw new RangeError(`scrapeIntervalMs must be an integer in 1..1000, got ${opts.scrapeIntervalMs}`);
  }
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const toFileSd = (targets: ScrapeTarget[]) => {
    validateTargets(targets);
    return renderTargets(targets);
  };
  const config = renderPrometheusConfig({ scrapeIntervalMs: opts.scrapeIntervalMs, targetsFile: '/work/targets.json' });
  const work = [{ name: 'work', mountPath: '/work' }];
  const manifest = podManifest({
    name: PROMETHEUS_POD,
    labels: kubeLabels(ctx.runId, { scenario: ctx.scenario, part: 'prometheus' }),
    // The sidecar writes the config before Prometheus reads it: it starts first (a native sidecar would be the
    // cleaner way; an init container that writes the files is as good and needs no feature gate).
    initContainers: [
      {
        name: 'config',
        image: ctx.images.toys,
        imagePullPolicy: ctx.images.pullPolicy,
        command: [IN_IMAGE.node, '-e', TARGETS_SIDECAR.replace(/http\.createServer[\s\S]*$/, '')],
        env: [
          { name: 'PROMETHEUS_YML', value: config },
          { name: 'INITIAL_TARGETS', value: toFileSd(opts.initialTargets ?? []) },
        ],
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        securityContext: restrictedContext(),
        volumeMounts: work,
      },
    ],
    containers: [
      {
        name: 'prometheus',
        image: ctx.images.prometheus,
        imagePullPolicy: ctx.images.pullPolicy,
        args: ['--config.file=/work/prometheus.yml', '--storage.tsdb.path=/work/data', `--web.listen-address=0.0.0.0:${PROMETHEUS_PORT}`],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        securityContext: restrictedContext(),
        volumeMounts: work,
      },
      {
        name: 'targets',
        image: ctx.images.toys,
        imagePullPolicy: ctx.images.pullPolicy,
        command: [IN_IMAGE.node, '-e', TARGETS_SIDECAR.replace('put(process.env.INITIAL_TARGETS);', '').replace("fs.writeFileSync('/work/prometheus.yml',process.env.PROMETHEUS_YML);", '')],
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        securityContext: restrictedContext(),
        volumeMounts: work,
      },
    ],
    volumes: [{ name: 'work', sizeLimit: '1Gi' }],
    terminationGraceS: 3,
  });
  const { forwards, stop, exited } = await runPartPod(ctx, manifest, 'prometheus', opts.logFile, Errors.PrometheusFailed, [
    { podPort: PROMETHEUS_PORT, hostPort: opts.port ?? 0 },
    { podPort: TARGETS_PORT, hostPort: 0 },
  ]);
  const [web, targetsApi] = forwards;
  const url = `http://127.0.0.1:${web!.port}`;
  await waitPart(Wait.forHttp(`${url}/-/ready`).withTimeout(opts.readyTimeoutMs ?? 30_000), 'Prometheus in Kubernetes', exited).catch(async (why: string) => {
    await stop();
    throw new LabError(Errors.PrometheusFailed, `Prometheus in Kubernetes was not ready at ${url}: ${why}`, { hint: `see ${opts.logFile}` });
  });
  const client = new PrometheusClient(url);
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  return {
    url,
    port: web!.port,
    pid: 0,
    dir,
    client,
    exited,
    innerAddress: `${PROMETHEUS_POD}:${PROMETHEUS_PORT}`,
    async setTargets(targets) {
      const res = await fetch(`http://127.0.0.1:${targetsApi!.port}/targets`, { method: 'PUT', body: toFileSd(targets), signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new LabError(Errors.PrometheusFailed, `Prometheus's targets sidecar refused the list: HTTP ${res.status} ${await res.text()}`);
    },
    waitForTargets: (addresses, timeoutMs) =>
      waitForTargets(client, addresses, timeoutMs, { name: 'Prometheus in Kubernetes', gone: () => (exitedYet ? 'exited' : undefined) }, { logFile: opts.logFile, where: "inside the run's namespace" }),
    stop,
  };
}

export interface KubeLoadServerOptions {
  logFile: string;
  /** The server's bearer token (its environment, so not in argv). */
  token: string;
  readyTimeoutMs?: number;
}

/**
 * The load generator in the cluster: the lab's own load server (src/workload/remote) from the toys image, so
 * requests go pod to pod and only control calls and the per-request feed cross the port-forward. Prometheus
 * scrapes its `/metrics` at the pod's IP (the client series the verdicts read). The runtime holds it for the run's
 * life (`holdLoadServer`): it exits by itself a minute after the lab stops calling.
 */
export async function startLoadServerPod(ctx: PartContext, opts: KubeLoadServerOptions): Promise<ClusterLoadServer> {
  const manifest = podManifest({
    name: LOAD_POD,
    labels: kubeLabels(ctx.runId, { scenario: ctx.scenario, part: 'load' }),
    containers: [
      {
        name: 'load',
        image: ctx.images.toys,
        imagePullPolicy: ctx.images.pullPolicy,
        command: [IN_IMAGE.node, IN_IMAGE.loadServer, '--host', '0.0.0.0', '--port', String(LOAD_SERVER_PORT)],
        env: [{ name: 'CHAOSLAB_LOAD_TOKEN', value: opts.token }],
        ports: [{ containerPort: LOAD_SERVER_PORT, protocol: 'TCP' }],
        // Load is CPU: up to a core, as the lab's own generator could take.
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        securityContext: restrictedContext(),
      },
    ],
    terminationGraceS: 2,
  });
  const { state, forwards, stop: stopPod, exited } = await runPartPod(ctx, manifest, 'load generator', opts.logFile, Errors.WorkloadFailed, [{ podPort: LOAD_SERVER_PORT, hostPort: 0 }]);
  const url = `http://127.0.0.1:${forwards[0]!.port}`;
  await waitPart(Wait.forHttp(`${url}${LOAD_API.health}`).withTimeout(opts.readyTimeoutMs ?? 20_000), 'the load generator in Kubernetes', exited).catch(async (why: string) => {
    await stopPod();
    throw new LabError(Errors.WorkloadFailed, `the load generator in Kubernetes did not answer GET ${url}${LOAD_API.health}: ${why}`, { hint: `see ${opts.logFile}` });
  });
  const hold = holdLoadServer(url, { token: opts.token });
  return {
    url,
    token: opts.token,
    innerAddress: `${state.ip}:${LOAD_SERVER_PORT}`,
    logFile: opts.logFile,
    exited,
    stop: async () => {
      hold.release();
      await stopPod();
    },
  };
}

/** Creates a part's pod, waits until it runs, follows its first container's log and opens the forwards. */
async function runPartPod(
  ctx: PartContext,
  manifest: ReturnType<typeof podManifest>,
  part: 'toxiproxy' | 'prometheus' | 'load generator',
  logFile: string,
  failure: (typeof Errors)['ToxiproxyFailed' | 'PrometheusFailed' | 'WorkloadFailed'],
  ports: { podPort: number; hostPort: number }[],
): Promise<{ state: ReturnType<typeof podState>; forwards: Forward[]; log: unknown; stop: () => Promise<void>; exited: Promise<PrometheusExit> }> {
  const name = manifest.metadata!.name!;
  const main = manifest.spec!.containers[0]!.name;
  mkdirSync(path.dirname(logFile), { recursive: true });
  let state: ReturnType<typeof podState>;
  const forwards: Forward[] = [];
  try {
    await ctx.core.createNamespacedPod({ namespace: ctx.namespace, body: manifest });
    state = await waitRunning(ctx.core, ctx.namespace, name, main, 60_000);
    for (const p of ports) forwards.push(await forwardPort(ctx.config, { namespace: ctx.namespace, pod: name, ...p }));
  } catch (e) {
    await Promise.all(forwards.map((f) => f.close()));
    await deletePod(ctx.core, ctx.namespace, name, 0).catch((e2: unknown) => ctx.onError?.(e2));
    throw new LabError(failure, `${part} pod did not start in namespace ${ctx.namespace}: ${reason(e)}`, { cause: e, hint: `kubectl -n ${ctx.namespace} describe pod ${name}` });
  }
  const log = await followLog(ctx.config, ctx.namespace, name, main, logFile);
  let stopped = false;
  const exited = (async (): Promise<PrometheusExit> => {
    for (;;) {
      await sleep(500);
      if (stopped) return { code: null, signal: 'SIGTERM' };
      try {
        const s = podState(await ctx.core.readNamespacedPod({ name, namespace: ctx.namespace }), main);
        if (s.terminated) return s.terminated.exitCode > 128 ? { code: null, signal: 'SIGKILL' } : { code: s.terminated.exitCode, signal: null };
      } catch (e) {
        if (e && typeof e === 'object' && (e as { code?: unknown }).code === 404) return { code: null, signal: null };
      }
    }
  })();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopped = true;
      await Promise.all(forwards.map((f) => f.close()));
      await deletePod(ctx.core, ctx.namespace, name, 2).catch((e: unknown) => ctx.onError?.(e));
      log.stop();
    })());
  return { state, forwards, log, stop, exited };
}

async function waitPart(strategy: WaitStrategy, name: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await strategy.waitUntilReady({ name, gone: () => (gone ? 'the pod exited' : undefined) });
  } catch (e) {
    if (!(e instanceof WaitFailure)) throw e;
    throw e.outcome === 'gone' ? e.detail : `no answer within ${e.timeoutMs} ms`;
  }
}
