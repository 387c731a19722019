/**
 * Toxiproxy and Prometheus as containers on the run's network, returning the same `StartedToxiproxy` and
 * `StartedPrometheus` shapes as the local servers: `url` answers on the host through a port published on
 * 127.0.0.1; `innerAddress` is where the cluster (nodes, Prometheus) reaches the part inside the network.
 */
import { mkdirSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../common/ports.js';
import { sleep } from '../../common/time.js';
import { Errors } from '../../errors/catalog.js';
import { hasCode, LabError } from '../../errors/lab-error.js';
import { ToxiproxyApi } from '../../fault/toxiproxy-api.js';
import { toxiproxyReady, type StartedToxiproxy } from '../../fault/toxiproxy-server.js';
import { PrometheusClient } from '../../observe/prometheus-client.js';
import { renderPrometheusConfig, type PrometheusExit, type StartedPrometheus } from '../../observe/prometheus-server.js';
import { waitForTargets, writeTargets, type ScrapeTarget } from '../../observe/scrape-targets.js';
import { stopFailure } from '../stop-failure.js';
import { Wait, WaitFailure, type WaitStrategy } from '../wait/index.js';
import type { DockerEngine, EngineContainer } from './engine.js';
import { IMAGES } from './images.js';
import { createLabels, partName } from './labels.js';

/** Network aliases of the parts; node names never start with `chaoslab-` in practice, and the runtime refuses it. */
export const TOXIPROXY_ALIAS = 'chaoslab-toxiproxy';
export const PROMETHEUS_ALIAS = 'chaoslab-prometheus';
const TOXIPROXY_API_PORT = 8474;
const PROMETHEUS_PORT = 9090;
/** Where the run's `prometheus/` folder is mounted inside the Prometheus container. */
const PROMETHEUS_DIR = '/prometheus';

export interface PartContext {
  engine: DockerEngine;
  network: string;
  runId: string;
  scenario: string;
  owner: string;
  /** A part that could not be stopped or removed cleanly (the run's teardown goes on; the label sweep follows). */
  onError?: (error: LabError) => void;
}

export type DockerToxiproxy = StartedToxiproxy & {
  /** `host:port` of the API (and /metrics) inside the run's network. */
  innerAddress: string;
  /** Its IP address on the run's network: nodes reach proxies there, with no name lookup per connection. */
  ip: string | undefined;
  containerId: string;
};

export type DockerPrometheus = StartedPrometheus & { innerAddress: string; containerId: string };

export interface StartToxiproxyContainerOptions {
  logFile: string;
  seed: number;
  /** Host port of the API on 127.0.0.1; a free one by default. */
  port?: number;
  /** Proxy listen ports, published on 127.0.0.1 with the same numbers (a load generator's `client` links use them). */
  proxyPorts: number[];
  readyTimeoutMs?: number;
}

export async function startToxiproxyContainer(ctx: PartContext, opts: StartToxiproxyContainerOptions): Promise<DockerToxiproxy> {
  const hostPort = opts.port ?? (await freePort());
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const { container, stop, exited } = await runPart(ctx, {
    part: 'toxiproxy',
    logFile: opts.logFile,
    image: IMAGES.toxiproxy,
    // Listens on every interface of its own network namespace: nodes reach it by its alias.
    cmd: ['-host', '0.0.0.0', '-port', String(TOXIPROXY_API_PORT), '-proxy-metrics', '-seed', String(Math.trunc(opts.seed))],
    alias: TOXIPROXY_ALIAS,
    publish: [{ containerPort: TOXIPROXY_API_PORT, hostPort }, ...opts.proxyPorts.map((p) => ({ containerPort: p, hostPort: p }))],
    limits: { nanoCpus: 1e9, memoryBytes: 256 * 1024 * 1024, pids: 256 },
    failure: Errors.ToxiproxyFailed,
  });
  const url = `http://127.0.0.1:${hostPort}`;
  await waitPart(toxiproxyReady(hostPort).withTimeout(opts.readyTimeoutMs ?? 15_000), 'Toxiproxy in Docker', exited).catch(async (why: string) => {
    await stop();
    throw new LabError(Errors.ToxiproxyFailed, `Toxiproxy in Docker did not answer GET ${url}/version: ${why}`, { hint: `see ${opts.logFile}` });
  });
  return {
    url,
    port: hostPort,
    pid: (await container.state().catch(() => ({ pid: 0 }))).pid,
    metricsPath: '/metrics',
    client: new ToxiproxyApi(url),
    innerAddress: `${TOXIPROXY_ALIAS}:${TOXIPROXY_API_PORT}`,
    ip: await container.addressOn(ctx.network).catch(() => undefined),
    containerId: container.id,
    stop,
    [Symbol.asyncDispose]: stop,
    exited,
  };
}

export interface StartPrometheusContainerOptions {
  /** The run's prometheus/ folder: config, targets and the TSDB (data/) land there, as with the local server. */
  dir: string;
  scrapeIntervalMs: number;
  logFile: string;
  initialTargets?: ScrapeTarget[];
  /** Host port on 127.0.0.1; a free one by default. */
  port?: number;
  /** `uid:gid` Prometheus runs as; default the lab's own, so the run folder stays the user's. */
  user?: string;
  readyTimeoutMs?: number;
}

export async function startPrometheusContainer(ctx: PartContext, opts: StartPrometheusContainerOptions): Promise<DockerPrometheus> {
  if (!Number.isInteger(opts.scrapeIntervalMs) || opts.scrapeIntervalMs <= 0 || opts.scrapeIntervalMs > 1000) {
    throw new RangeError(`scrapeIntervalMs must be an integer in 1..1000, got ${opts.scrapeIntervalMs}`);
  }
  const dir = path.resolve(opts.dir);
  await fsp.mkdir(path.join(dir, 'data'), { recursive: true });
  await fsp.mkdir(path.dirname(opts.logFile), { recursive: true });
  const targetsFile = path.join(dir, 'targets.json');
  await writeTargets(targetsFile, opts.initialTargets ?? []);
  await fsp.writeFile(path.join(dir, 'prometheus.yml'), renderPrometheusConfig({ scrapeIntervalMs: opts.scrapeIntervalMs, targetsFile: `${PROMETHEUS_DIR}/targets.json` }));

  const hostPort = opts.port ?? (await freePort());
  const user = opts.user ?? `${process.getuid?.() ?? 65534}:${process.getgid?.() ?? 65534}`;
  const { container, stop, exited } = await runPart(ctx, {
    part: 'prometheus',
    logFile: opts.logFile,
    image: IMAGES.prometheus,
    cmd: [`--config.file=${PROMETHEUS_DIR}/prometheus.yml`, `--storage.tsdb.path=${PROMETHEUS_DIR}/data`, `--web.listen-address=0.0.0.0:${PROMETHEUS_PORT}`],
    alias: PROMETHEUS_ALIAS,
    publish: [{ containerPort: PROMETHEUS_PORT, hostPort }],
    limits: { nanoCpus: 1e9, memoryBytes: 512 * 1024 * 1024, pids: 256 },
    binds: [{ host: dir, container: PROMETHEUS_DIR }],
    user,
    stopGraceS: 3,
    failure: Errors.PrometheusFailed,
  });
  const url = `http://127.0.0.1:${hostPort}`;
  await waitPart(Wait.forHttp(`${url}/-/ready`).withTimeout(opts.readyTimeoutMs ?? 20_000), 'Prometheus in Docker', exited).catch(async (why: string) => {
    await stop();
    throw new LabError(Errors.PrometheusFailed, `Prometheus in Docker was not ready at ${url}: ${why}`, { hint: `see ${opts.logFile}` });
  });
  const client = new PrometheusClient(url);
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  return {
    url,
    port: hostPort,
    pid: (await container.state().catch(() => ({ pid: 0 }))).pid,
    dir,
    client,
    exited,
    innerAddress: `${PROMETHEUS_ALIAS}:${PROMETHEUS_PORT}`,
    containerId: container.id,
    setTargets: (targets) => writeTargets(targetsFile, targets),
    waitForTargets: (addresses, timeoutMs) =>
      waitForTargets(client, addresses, timeoutMs, { name: 'Prometheus in Docker', gone: () => (exitedYet ? 'exited' : undefined) }, { logFile: opts.logFile, where: "inside the run's Docker network" }),
    stop,
  };
}

interface PartSpec {
  part: 'toxiproxy' | 'prometheus';
  logFile: string;
  image: string;
  cmd: string[];
  alias: string;
  publish: { containerPort: number; hostPort: number }[];
  limits: { nanoCpus: number; memoryBytes: number; pids: number };
  binds?: { host: string; container: string }[];
  user?: string;
  stopGraceS?: number;
  failure: (typeof Errors)['ToxiproxyFailed' | 'PrometheusFailed'];
}

/** Creates, attaches the log and starts a part; `stop()` stops and removes it (idempotent). */
async function runPart(ctx: PartContext, spec: PartSpec): Promise<{ container: EngineContainer; stop: () => Promise<void>; exited: Promise<PrometheusExit> }> {
  const container = await ctx.engine.createContainer({
    name: partName(ctx.runId, spec.part),
    image: spec.image,
    cmd: spec.cmd,
    labels: createLabels(ctx.runId, { scenario: ctx.scenario, part: spec.part, owner: ctx.owner }),
    network: ctx.network,
    aliases: [spec.alias],
    publish: spec.publish,
    limits: spec.limits,
    readOnlyRoot: true,
    ...(spec.binds ? { binds: spec.binds } : {}),
    ...(spec.user ? { user: spec.user } : {}),
  });
  const log = await container.attachLog(spec.logFile);
  try {
    await container.start();
  } catch (e) {
    await container.remove().catch((e2: unknown) => ctx.onError?.(stopFailure(`the ${spec.part} container`, e2)));
    const why = e instanceof Error ? e.message : String(e);
    if (hasCode(e, Errors.PortTaken)) {
      throw new LabError(Errors.PortTaken, `a port of ${spec.part} is already taken on 127.0.0.1: ${why}`, { hint: 'choose another port, or stop what holds it (ss -ltnp)' });
    }
    throw new LabError(spec.failure, `${spec.part} container did not start: ${why}`, { cause: e, hint: hasCode(e, Errors.ImageMissing) ? Errors.ImageMissing.hint : `see ${spec.logFile}` });
  }
  const exited: Promise<PrometheusExit> = container.wait().then(
    async (code) => {
      await log.ended;
      return code > 128 ? { code: null, signal: 'SIGKILL' as NodeJS.Signals } : { code, signal: null };
    },
    () => ({ code: null, signal: null }),
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Each step is tried even if the one before failed; what failed is reported, and the run's label sweep
      // (close, the reaper) removes what is left.
      const report = (e: unknown): void => ctx.onError?.(stopFailure(`the ${spec.part} container`, e));
      await container.stop(spec.stopGraceS ?? 2).catch(report);
      await container.remove().catch(report);
      await Promise.race([exited, sleep(2000)]);
    })());
  return { container, stop, exited };
}

/** Rejects with the reason (a string) on timeout or when the container exits. */
async function waitPart(strategy: WaitStrategy, name: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await strategy.waitUntilReady({ name, gone: () => (gone ? 'the container exited' : undefined) });
  } catch (e) {
    if (!(e instanceof WaitFailure)) throw e;
    throw e.outcome === 'gone' ? e.detail : `no answer within ${e.timeoutMs} ms`;
  }
}
