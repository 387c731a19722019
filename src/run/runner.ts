/**
 * The run skeleton: start the real parts → for each variant (start cluster → wait healthy →
 * load + timeline → heal → judge → stop cluster) → stop the parts. Heals, stops and reaping all
 * happen in `finally`, also on Ctrl-C (Chaos Toolkit's rollback-in-finally).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng } from '../common/rng.js';
import { freePort, isPortFree } from '../common/ports.js';
import { sleep } from '../common/time.js';
import { formatDuration } from '../common/duration.js';
import { Errors } from '../errors/catalog.js';
import { LabError, isLabError } from '../errors/lab-error.js';
import { applyLinkFault, describeFault, type AppliedFault, type LinkFaultSpec } from '../fault/link-faults.js';
import type { StartedToxiproxy } from '../fault/toxiproxy-server.js';
import { createLabMetrics, startLabMetricsServer, type LabMetricsServer, type Phase } from '../observe/lab-metrics.js';
import type { ScrapeTarget, StartedPrometheus } from '../observe/prometheus-server.js';
import { evaluateAssertion } from '../check/evaluate.js';
import { LoadGenerator, type LoadSummary, type RequestResult } from '../workload/load-generator.js';
import { prepareDockerRuntime, prepareProcessRuntime, type ClusterRuntime, type ClusterToxiproxy, type RuntimeKind } from '../runtime/cluster-runtime.js';
import type { StartedNode } from '../runtime/runtime.js';
import { CLIENT } from '../scenario/load.js';
import type { AssertionPlan, FaultSpec, NodeFaultSpec, ScenarioPlan, StepPlan, VariantPlan } from '../scenario/plan.js';
import { Journal } from './journal.js';
import { createExactRunFolder, createRunFolder } from './run-folder.js';
import { describeForeign, guardProxies, keptToxiproxyWarning } from '../fault/proxy-guard.js';
import { describeWatchEvent, exitingPart, loadPart, realWatchClock, startPartWatch, withScheduledExits, type PartWatch } from './part-watch.js';
import { SlidingStats } from './live-stats.js';
import { startLiveProbe } from './live-probe.js';
import type { KeptInfo } from '../runtime/kept.js';
import type { Reporter } from './reporter.js';
import type { AssertionResult, FaultRecord, RunResult, VariantResult } from './result.js';
import { realClock, runSchedule, scheduleActions, type ScheduledAction } from './timeline.js';
import { writeJunit } from '../report/junit.js';
import { writeHtmlReport } from '../report/html.js';
import { resetCheckerMetrics, runCheckers } from './checkers.js';
import { TRACING_OFF, startLabTracing, type LabTracing, type TraceOptions } from '../trace/lab-tracing.js';

export interface RunOptions {
  projectRoot: string;
  seed: number;
  /** Variant names to run; all by default. */
  variants?: string[];
  control: boolean;
  /** Where runs/<time>-<id>/ goes (default `<cwd>/runs`), or the exact run folder. */
  runsDir: string;
  runDir?: string;
  envPath: string;
  stateDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  scrapeIntervalMs?: number;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
  /** Fixed ports (e.g. to point Grafana at a known Prometheus address); free ones by default. */
  toxiproxyPort?: number;
  prometheusPort?: number;
  /** The command line that replays this run, recorded in the result. */
  command: string;
  /** Where the cluster runs; default `process`. */
  runtime?: RuntimeKind;
  /** DOCKER_HOST for `runtime: docker`; undefined: the local socket. */
  dockerHost?: string;
  /**
   * Leave the last variant's cluster, Toxiproxy and Prometheus up after the run, faults healed (a game day):
   * `completed` when the variant ran to its end, `always` also when interrupted (`chaoslab up`: Ctrl-C ends the
   * load, not the cluster). A run that failed stops everything as usual.
   */
  keep?: 'completed' | 'always';
  /** Write report.html and junit.xml (default true; `up` has no verdict to report). */
  report?: boolean;
  /** Query each assertion's PromQL this often while a variant runs, for the live view; off when undefined. */
  liveQueryIntervalMs?: number;
  /** Traces of the lab and the toys; off by default (the CLI turns them on). */
  traces?: TraceOptions;
}

/** Where the last variant leaves its nodes when the run keeps its cluster up. */
interface Keeper {
  nodes?: Map<string, StartedNode>;
  variant?: string;
}

interface Parts {
  toxiproxy: ClusterToxiproxy;
  prometheus: Promise<StartedPrometheus>;
  lab: LabMetricsServer;
  cluster: ClusterRuntime;
  addresses: Addresses;
  tracing: LabTracing;
}

/**
 * Every node port and proxy address is chosen once per run and reused by each variant, so the
 * scrape targets never change: Prometheus (v2) passes discovered targets on only every 5 s, and a
 * target list that is fixed before it starts costs that delay once per run, in parallel with the
 * first cluster's start, instead of once per variant.
 */
interface Addresses {
  /** How the lab reaches a node port: always 127.0.0.1 (containers publish it there). */
  addrOf(instance: string, port: string): string;
  /** How peers, Toxiproxy and Prometheus reach a node port (the runtime decides). */
  innerAddrOf(instance: string, port: string): string;
  /** Proxies as the lab reaches them (links `from: client`). */
  proxyAddr: Map<string, string>;
  /** Proxies as nodes reach them. */
  innerProxyAddr: Map<string, string>;
  proxyListen: Map<string, string>;
  targets: ScrapeTarget[];
}

/** Ports are chosen before anything starts: a container publishes its ports when it is created. */
async function allocatePorts(plan: ScenarioPlan): Promise<{ nodes: Map<string, number>; proxies: Map<string, number> }> {
  const nodes = new Map<string, number>();
  for (const n of plan.nodes) for (const p of n.ports) nodes.set(`${n.name}/${p}`, await freePort());
  const proxies = new Map<string, number>();
  for (const l of plan.links) proxies.set(l.name, await freePort());
  return { nodes, proxies };
}

function buildAddresses(plan: ScenarioPlan, ports: { nodes: Map<string, number>; proxies: Map<string, number> }, cluster: ClusterRuntime, labAddress: string, toxiproxy: ClusterToxiproxy): Addresses {
  const portOf = (instance: string, port: string) => ports.nodes.get(`${instance}/${port}`)!;
  const addrOf = (instance: string, port: string) => `127.0.0.1:${portOf(instance, port)}`;
  const innerAddrOf = (instance: string, port: string) => cluster.nodeAddress(instance, portOf(instance, port));
  const map = (f: (port: number) => string) => new Map([...ports.proxies].map(([name, port]) => [name, f(port)]));
  const targets: ScrapeTarget[] = [
    { address: labAddress, labels: { job: 'lab' } },
    { address: toxiproxy.innerAddress, metricsPath: toxiproxy.metricsPath, labels: { job: 'toxiproxy' } },
    ...plan.nodes.map((n) => ({ address: innerAddrOf(n.name, n.metricsPort), metricsPath: n.metricsPath, labels: { job: 'node', node: n.name, group: n.group } })),
  ];
  return { addrOf, innerAddrOf, proxyAddr: map((p) => `127.0.0.1:${p}`), innerProxyAddr: map((p) => cluster.proxyAddress(p)), proxyListen: map((p) => cluster.proxyListenAddress(p)), targets };
}

export async function runScenario(plan: ScenarioPlan, opts: RunOptions): Promise<RunResult> {
  // Binaries are looked up before anything starts: a missing one starts nothing and writes nothing.
  // For Docker: the engine answers and the images are current (stale ones are rebuilt: seconds).
  const binaries = { ...(opts.toxiproxyBinary ? { toxiproxyBinary: opts.toxiproxyBinary } : {}), ...(opts.prometheusBinary ? { prometheusBinary: opts.prometheusBinary } : {}) };
  const prepared =
    opts.runtime === 'docker'
      ? await prepareDockerRuntime({ projectRoot: opts.projectRoot, envPath: opts.envPath, ...binaries, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}), onMessage: (m) => opts.reporter.onMessage?.(m), onProgress: (p) => opts.reporter.onProgress?.(p) })
      : prepareProcessRuntime({ projectRoot: opts.projectRoot, envPath: opts.envPath, ...binaries });
  for (const [part, port] of [['Toxiproxy', opts.toxiproxyPort], ['Prometheus', opts.prometheusPort]] as const) {
    if (port !== undefined && !(await isPortFree(port))) {
      throw new LabError(Errors.PortTaken, `the ${part} port 127.0.0.1:${port} is already taken`, { hint: `choose another --${part.toLowerCase()}-port, or stop what holds it (a kept run: npx chaoslab down; else ss -ltnp | grep :${port})` });
    }
  }

  const started = new Date();
  // [run-hardening] A folder of the run's own, created exclusively; the run's id (reaper state, Docker names) carries its suffix.
  const folder = opts.runDir ? createExactRunFolder(opts.runDir) : createRunFolder(opts.runsDir, plan.id, started);
  const runDir = folder.dir;
  const runId = `${folder.name}-${opts.seed}`;
  mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const journal = new Journal(runDir);
  const reporter = opts.reporter;
  const variants = plan.variants.filter((v) => !opts.variants || opts.variants.includes(v.name));
  const scrapeIntervalMs = opts.scrapeIntervalMs ?? 1000;

  journal.append('run-start', { scenario: plan.id, seed: opts.seed, control: opts.control, variants: variants.map((v) => v.name), command: opts.command });
  reporter.onRunStart?.({ scenario: plan.id, title: plan.title, seed: opts.seed, runDir, variants: variants.map((v) => v.name), control: opts.control });
  // The SDK loads while the parts start (a few hundred ms of module loading).
  const tracingReady = startLabTracing(opts.traces ?? { sampleRatio: 0 }, { runDir, runId, scenario: plan.id, seed: opts.seed, control: opts.control });
  tracingReady.catch(() => undefined); // awaited below

  const results: VariantResult[] = [];
  let parts: Partial<Omit<Parts, 'prometheus'>> = {};
  let prometheusReady: Promise<StartedPrometheus> = Promise.reject(new Error('not started'));
  prometheusReady.catch(() => undefined);
  let fatal: unknown;
  let kept: KeptInfo | undefined;
  const keeper: Keeper = {};
  try {
    const ports = await allocatePorts(plan);
    const nodePorts = plan.nodes.map((n) => ({ name: n.name, ports: n.ports.map((p) => ports.nodes.get(`${n.name}/${p}`)!) }));
    const cluster = await prepared.open({ runId, scenario: plan.id, stateDir: opts.stateDir, nodes: nodePorts, onMessage: (m) => reporter.onMessage?.(m) });
    parts.cluster = cluster;
    const metrics = createLabMetrics();
    reporter.onProgress?.({ label: `starting Toxiproxy (${cluster.kind === 'docker' ? 'container' : 'process'})` });
    const [toxiproxy, lab, tracing] = await Promise.all([
      cluster.startToxiproxy({ logFile: path.join(runDir, 'logs', 'toxiproxy.log'), seed: opts.seed, proxyPorts: plan.links.filter((l) => l.from === CLIENT).map((l) => ports.proxies.get(l.name)!), ...(opts.toxiproxyPort !== undefined ? { port: opts.toxiproxyPort } : {}) }).then((t) => (parts.toxiproxy = t)),
      startLabMetricsServer(metrics, { host: cluster.labMetricsHost }).then((l) => (parts.lab = l)),
      tracingReady.then(async (t) => {
        journal.append('traces', t.where);
        await t.listen(cluster.labMetricsHost);
        return t;
      }),
    ]);
    const addresses = buildAddresses(plan, ports, cluster, lab.address, toxiproxy);
    parts.addresses = addresses;
    journal.append('part-started', { part: 'runtime', runtime: cluster.kind, description: cluster.description });
    journal.append('part-started', { part: 'toxiproxy', url: toxiproxy.url, pid: toxiproxy.pid });
    journal.append('part-started', { part: 'lab-metrics', address: lab.address });
    // Prometheus starts while the first cluster does; the variant waits for it before the load.
    prometheusReady = cluster.startPrometheus({
      dir: path.join(runDir, 'prometheus'),
      scrapeIntervalMs,
      logFile: path.join(runDir, 'logs', 'prometheus.log'),
      initialTargets: addresses.targets,
      ...(opts.prometheusPort !== undefined ? { port: opts.prometheusPort } : {}),
    }).then((p) => {
      journal.append('part-started', { part: 'prometheus', url: p.url, pid: p.pid });
      reporter.onMessage?.(`toxiproxy ${toxiproxy.url} · prometheus ${p.url}`);
      return p;
    });
    prometheusReady.catch(() => undefined); // handled where it is awaited

    for (const [i, variant] of variants.entries()) {
      if (opts.signal.aborted) break;
      const keepHere = opts.keep && i === variants.length - 1 ? keeper : undefined;
      const r = await runVariant(plan, variant, opts, { toxiproxy, prometheus: prometheusReady, lab, cluster, addresses, tracing }, journal, runDir, scrapeIntervalMs, keepHere);
      results.push(r);
      reporter.onVariantEnd?.(r);
      if (r.status === 'failed' && r.error && r.error.code !== Errors.NodeFailed.code) break;
    }
  } catch (e) {
    fatal = e;
    journal.append('error', { error: errorFields(e) });
  } finally {
    const stopping = performance.now();
    const prometheus = await prometheusReady.catch(() => undefined);
    if (keeper.nodes && !fatal && (opts.keep === 'always' || !opts.signal.aborted) && prometheus && parts.cluster && parts.toxiproxy && parts.lab && parts.addresses) {
      try {
        kept = await keepParts(plan, runId, runDir, keeper.variant!, { cluster: parts.cluster, toxiproxy: parts.toxiproxy, lab: parts.lab, addresses: parts.addresses }, prometheus);
        journal.append('kept', { ...kept });
        reporter.onMessage?.(keptToxiproxyWarning(kept.toxiproxy)); // [run-hardening]
      } catch (e) {
        journal.append('error', { error: errorFields(e) });
        reporter.onMessage?.(`could not keep the cluster up (${errorFields(e).message}); stopping it`);
      }
    }
    if (!kept) {
      const stops: Promise<unknown>[] = [...(keeper.nodes?.values() ?? [])].map((n) => n.stop());
      if (parts.lab) stops.push(parts.lab.stop());
      if (parts.toxiproxy) stops.push(parts.toxiproxy.stop());
      if (prometheus) stops.push(prometheus.stop());
      await Promise.allSettled(stops);
      await parts.cluster?.close();
      journal.append('parts-stopped', { stopMs: Math.round(performance.now() - stopping) });
    }
    parts = {};
  }

  const ended = new Date();
  const interrupted = opts.signal.aborted;
  if (interrupted) journal.append('interrupted', {});
  const result: RunResult = {
    scenario: plan.id,
    title: plan.title,
    seed: opts.seed,
    control: opts.control,
    passed: !fatal && !interrupted && results.length === variants.length && results.every((r) => r.passed),
    runDir,
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    command: opts.command,
    variants: results,
    ...(kept ? { kept } : {}),
  };
  // After the nodes stopped: their last spans have arrived.
  const traces = await (await tracingReady.catch(() => TRACING_OFF)).finish({ passed: result.passed, interrupted });
  if (traces.mode !== 'off') {
    result.traces = traces;
    journal.append('traces-written', traces);
  }
  journal.append('run-end', { passed: result.passed });
  journal.write(path.join(runDir, 'journal.json'), { scenario: plan.id, title: plan.title, seed: opts.seed, control: opts.control, runDir, startedAt: result.startedAt, endedAt: result.endedAt });
  writeFileSync(path.join(runDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (opts.report !== false) {
    writeJunit(path.join(runDir, 'junit.xml'), result);
    writeHtmlReport(runDir, result, journal.records);
  }
  reporter.onRunEnd?.(result);
  if (fatal) throw fatal;
  return result;
}

/**
 * Hands the running parts and the last variant's nodes over to a kept-run record (the reaper stands down). The lab's
 * own metrics endpoint ends with the lab: its target is dropped first, so Prometheus does not show it as down.
 */
async function keepParts(
  plan: ScenarioPlan,
  runId: string,
  runDir: string,
  variant: string,
  parts: Pick<Parts, 'cluster' | 'toxiproxy' | 'lab' | 'addresses'>,
  prometheus: StartedPrometheus,
): Promise<KeptInfo> {
  const { cluster, toxiproxy, lab, addresses } = parts;
  await prometheus.setTargets(addresses.targets.filter((t) => t.labels['job'] !== 'lab'));
  // Stop the endpoint once Prometheus has let go of it, or a last failed scrape would read as the lab being down.
  for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(100)) {
    const targets = await prometheus.client.targets().catch(() => []);
    if (!targets.some((t) => t.labels['job'] === 'lab')) break;
  }
  await lab.stop();
  const record = await cluster.keep({
    runId,
    scenario: plan.id,
    variant,
    runDir,
    keptAt: new Date().toISOString(),
    prometheus: prometheus.url,
    toxiproxy: toxiproxy.url,
    nodes: plan.nodes.map((n) => ({ name: n.name, address: addresses.addrOf(n.name, n.ports[0]!) })),
    proxies: hostProxies(plan, cluster.kind, addresses.proxyAddr),
  });
  const { version: _version, processes: _processes, dockerHost: _dockerHost, ...info } = record;
  return info;
}

/** The proxies a user on the host can reach: Docker publishes only those the lab itself uses (`from: client`). */
function hostProxies(plan: ScenarioPlan, kind: RuntimeKind, proxyAddr: Map<string, string>): Record<string, string> {
  return Object.fromEntries(plan.links.filter((l) => kind === 'process' || l.from === CLIENT).map((l) => [l.name, proxyAddr.get(l.name)!]));
}

function errorFields(e: unknown): { code: string; message: string; hint?: string } {
  if (isLabError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'CHAOSLAB_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Peers a node may call: through the proxy of a declared link, else directly. Keyed by group, ordered by index. */
export function peersFor(plan: ScenarioPlan, nodeName: string, addrOf: (instance: string, port: string) => string, proxyAddr: Map<string, string>): Record<string, string[]> {
  const me = plan.nodes.find((n) => n.name === nodeName)!;
  const peers: Record<string, string[]> = {};
  for (const other of plan.nodes) {
    if (other.name === nodeName) continue;
    const link = plan.links.find((l) => l.from === nodeName && l.to === other.name);
    const linkedGroup = plan.links.some((l) => l.fromGroup === me.group && l.toGroup === other.group);
    const addr = link ? proxyAddr.get(link.name)! : linkedGroup ? undefined : addrOf(other.name, other.ports[0]!);
    if (addr === undefined) continue;
    (peers[other.group] ??= []).push(addr);
  }
  return peers;
}

async function runVariant(
  plan: ScenarioPlan,
  variant: VariantPlan,
  opts: RunOptions,
  parts: Parts,
  journal: Journal,
  runDir: string,
  scrapeIntervalMs: number,
  keeper?: Keeper,
): Promise<VariantResult> {
  const { prometheus, lab, cluster } = parts;
  const reporter = opts.reporter;
  // [run-hardening] Everything the variant does to Toxiproxy goes through the guard, which knows what the lab made;
  // `foreignCheck` removes every other proxy and toxic (Toxiproxy's API has no auth).
  const guard = guardProxies(parts.toxiproxy.client);
  const toxiproxy: ClusterToxiproxy = { ...parts.toxiproxy, client: guard.client };
  const rng = createRng(opts.seed).fork(`variant:${variant.name}`);
  const vj = (kind: Parameters<Journal['append']>[0], f: Record<string, unknown> = {}) => journal.append(kind, { variant: variant.name, ...f });
  const vt = parts.tracing.variant(variant.name, { expect: variant.expect, mitigations: variant.mitigations });
  const foreignCheck = async (when: string) => {
    // A failed check means Toxiproxy is gone: the part watch reports that.
    for (const f of await guard.check().catch(() => [])) {
      vj('foreign-removed', { ...f, when });
      reporter.onMessage?.(describeForeign(f));
    }
  };
  const setPhase = (p: Phase) => {
    phase = p;
    vt.phase(p);
    lab.metrics.setPhase(p);
    vj('phase', { phase: p });
    reporter.onPhase?.(variant.name, p);
  };
  let phase: Phase = 'setup';
  reporter.onVariantStart?.(variant.name);
  vj('variant-start', { expect: variant.expect, mitigations: variant.mitigations, params: variant.params, control: opts.control });
  setPhase('setup');

  const result: VariantResult = {
    name: variant.name,
    expect: variant.expect,
    mitigations: variant.mitigations,
    params: variant.params,
    status: 'completed',
    passed: false,
    t0: 0,
    assertions: [],
    faults: [],
    load: null,
  };
  const runtime = cluster.nodes();
  const nodes = new Map<string, StartedNode>();
  const active = new Map<string, { heal: () => Promise<void>; description: string; fault: FaultSpec; sinceMs: number; healAtMs: number | null }>();
  let load: LoadGenerator | undefined;
  let loadSummary: LoadSummary | undefined;
  let targetsReady: Promise<unknown> = Promise.resolve(undefined);
  let checkedAt = 0;
  let watch: PartWatch | undefined;
  const variantDir = path.join(runDir, opts.control ? `${variant.name}-control` : variant.name);
  mkdirSync(path.join(variantDir, 'logs'), { recursive: true });

  try {
    const { addrOf, innerAddrOf, proxyAddr, innerProxyAddr, proxyListen, targets } = parts.addresses;
    await toxiproxy.client.reset();
    for (const p of await toxiproxy.client.listProxies()) await toxiproxy.client.deleteProxy(p.name);
    if (plan.links.length) {
      // A listen port can be taken between choosing it and Toxiproxy binding it: choose again for the
      // proxies that did not come up (populate keeps the ones that did).
      for (let attempt = 1; ; attempt++) {
        try {
          await toxiproxy.client.populate(plan.links.map((l) => ({ name: l.name, listen: proxyListen.get(l.name)!, upstream: innerAddrOf(l.to, l.port), enabled: true })));
          break;
        } catch (e) {
          if (attempt >= 4 || !/address already in use/.test(errorFields(e).message + JSON.stringify(e))) throw e;
          const up = new Set((await toxiproxy.client.listProxies()).map((p) => p.name));
          for (const l of plan.links) if (!up.has(l.name)) proxyAddr.set(l.name, `127.0.0.1:${await freePort()}`);
        }
      }
    }

    const toysDir = path.join(opts.projectRoot, 'dist', 'toys');
    let healthy = 0;
    const progress = () => reporter.onProgress?.({ label: 'starting nodes', done: healthy, total: plan.nodes.length });
    progress();
    // A node's peer address → the link it goes through, so its client spans name the link.
    const linksOf = (node: string) => Object.fromEntries(plan.links.filter((l) => l.from === node).map((l) => [innerProxyAddr.get(l.name)!, l.name]));
    await Promise.all(
      plan.nodes.map(async (n) => {
        const config = {
          name: n.name,
          group: n.group,
          index: n.index,
          host: cluster.nodeListenHost,
          ports: Object.fromEntries(n.ports.map((p) => [p, Number(addrOf(n.name, p).split(':')[1])])),
          peers: peersFor(plan, n.name, innerAddrOf, innerProxyAddr),
          params: variant.params[n.group] ?? {},
          seed: rng.fork(`node:${n.name}`).seed,
          runId: path.basename(runDir),
        };
        const node = await runtime.start({
          name: n.name,
          group: n.group,
          // `node` means the Node.js running the lab, whatever PATH says.
          command: n.command.map((c, i) => (i === 0 && c === 'node' ? process.execPath : c.replaceAll('{toys}', toysDir))),
          cwd: opts.projectRoot,
          env: { CHAOSLAB_NODE: JSON.stringify(config), ...parts.tracing.nodeEnv(variant.name, linksOf(n.name)) },
          logFile: path.join(variantDir, 'logs', `${n.name}.log`),
          healthUrl: `http://${addrOf(n.name, n.healthPort)}${n.healthPath}`,
          healthTimeoutMs: n.healthTimeoutMs,
        });
        nodes.set(n.name, node);
        await node.waitHealthy();
        healthy++;
        progress();
      }),
    );
    vj('cluster-up', { nodes: plan.nodes.map((n) => ({ name: n.name, pid: nodes.get(n.name)?.pid, address: addrOf(n.name, n.ports[0]!) })), proxies: Object.fromEntries(proxyAddr) });
    // The load does not wait for Prometheus's first scrape (up to 5 s on a fresh server): the
    // steady-state window starts after the warmup, and judging waits for the targets below.
    reporter.onProgress?.({ label: 'waiting for Prometheus' });
    const prom = await prometheus;
    reporter.onProgress?.(null);
    reporter.onClusterUp?.({ variant: variant.name, prometheus: prom.url, toxiproxy: toxiproxy.url, nodes: plan.nodes.map((n) => ({ name: n.name, address: addrOf(n.name, n.ports[0]!) })), proxies: hostProxies(plan, cluster.kind, proxyAddr) });
    targetsReady = prom.waitForTargets(targets.map((t) => t.address), 20_000).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Load and timeline share t0.
    const targetNode = plan.workload.target;
    const targetInstances = plan.nodes.filter((n) => n.group === targetNode.node);
    const clientLinks: Record<string, string> = {};
    const baseUrls = targetInstances.map((n) => {
      const viaProxy = plan.links.find((l) => l.from === CLIENT && l.to === n.name);
      const url = `http://${viaProxy ? proxyAddr.get(viaProxy.name)! : addrOf(n.name, targetNode.port ?? n.ports[0]!)}`;
      if (viaProxy) clientLinks[url] = viaProxy.name;
      return url;
    });
    const stats = new SlidingStats(3);
    let baseRate = plan.workload.rate;
    lab.metrics.setTargetRate(baseRate);
    const t0Perf = performance.now();
    const onResult = (r: RequestResult) => {
      lab.metrics.observeRequest(r.op, r.outcome, r.latencyMs / 1000);
      stats.add(performance.now() - t0Perf, r.outcome === 'ok', r.latencyMs);
    };
    // `chaoslab up` without --load: the cluster only (a load loop is always bounded in time, so none at all).
    if (plan.durationMs > 0) {
      load = new LoadGenerator(
        {
          targets: baseUrls,
          rate: baseRate,
          arrival: plan.workload.arrival,
          operations: plan.workload.operations,
          keys: plan.workload.keys,
          timeoutMs: plan.workload.timeout,
          maxInFlight: plan.workload.maxInFlight,
          durationMs: plan.durationMs,
          seed: rng.fork('load').seed,
          recordHistory: plan.workload.history,
        },
        { onResult },
        { tracing: vt.requests(rng.fork('trace').seed, { templates: Object.fromEntries(plan.workload.operations.map((o) => [o.name, o.path])), links: clientLinks }) },
      );
    }
    result.t0 = Date.now();
    load?.start();
    vj('load-start', { t0: result.t0, rate: baseRate, targets: baseUrls });
    // [run-hardening] Every node and part is watched from here until the cluster stops: an exit no step scheduled
    // is an event and (unless `mayDie`) the variant's part failure.
    watch = startPartWatch({
      variant: variant.name,
      nodes: nodes.values(),
      parts: [exitingPart('Toxiproxy', toxiproxy.exited, path.join(runDir, 'logs', 'toxiproxy.log')), exitingPart('Prometheus', prom.exited, path.join(runDir, 'logs', 'prometheus.log')), ...(load ? [loadPart(load.done)] : [])],
      mayDie: new Set(plan.mayDie ?? []),
      clock: realWatchClock(t0Perf),
      logOf: (n) => path.join(variantDir, 'logs', `${n}.log`),
      onEvent: ({ kind, ...fields }) => {
        vj(kind, fields);
        reporter.onMessage?.(describeWatchEvent({ kind, ...fields } as Parameters<typeof describeWatchEvent>[0], variant.name));
      },
    });
    setPhase('steady');

    const probe =
      opts.liveQueryIntervalMs !== undefined
        ? startLiveProbe({
            client: prom.client,
            assertions: plan.assertions.filter((a) => a.variants.includes(variant.name)).map((a) => ({ plan: a, expected: expectedOf(a, variant.name, opts.control) })),
            elapsedMs: () => performance.now() - t0Perf,
            intervalMs: opts.liveQueryIntervalMs,
          })
        : undefined;
    const ticker = setInterval(() => {
      const s = stats.snapshot(performance.now() - t0Perf);
      const faults = [...active].map(([step, a]) => ({ step, description: a.description, sinceMs: a.sinceMs, healAtMs: a.healAtMs }));
      reporter.onTick?.({ variant: variant.name, phase, elapsedMs: performance.now() - t0Perf, totalMs: plan.durationMs, activeFaults: faults.map((f) => f.description), requestRate: s.rate, errorRatio: s.errorRatio, p99Ms: s.p99Ms, faults, ...(probe ? { assertions: probe.latest() } : {}) });
    }, 500);

    const faultRecords = new Map<string, FaultRecord>();
    const actions = scheduleActions(plan.steps, { control: opts.control });
    const stepAbort = new AbortController();
    const onAbort = () => stepAbort.abort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    watch.signal.addEventListener('abort', onAbort, { once: true }); // [run-hardening] a dead part ends the timeline
    const endTimer = sleep(plan.durationMs, stepAbort.signal);
    try {
      await runSchedule(actions, realClock(t0Perf), stepAbort.signal, async (a: ScheduledAction, actualMs: number) => {
        await perform(a, actualMs);
      });
      await endTimer;
      if (watch.failure) throw watch.failure; // [run-hardening]
    } finally {
      clearInterval(ticker);
      probe?.stop();
      opts.signal.removeEventListener('abort', onAbort);
      stepAbort.abort();
    }

    async function perform(a: ScheduledAction, actualMs: number): Promise<void> {
      const s = a.step;
      if (s.load) {
        if (a.kind === 'apply') {
          const rate = s.load.rate ?? (s.load.multiply !== undefined ? plan.workload.rate * s.load.multiply : baseRate);
          load!.setRate(rate, s.load.rampMs);
          if (s.load.weights) load!.setWeights(s.load.weights);
          baseRate = rate;
        } else {
          baseRate = plan.workload.rate;
          load!.setRate(baseRate, s.load.rampMs);
          if (s.load.weights) load!.setWeights(Object.fromEntries(plan.workload.operations.map((o) => [o.name, o.weight])));
        }
        lab.metrics.setTargetRate(baseRate);
        vj('load-change', { step: s.name, action: a.kind, rate: baseRate, scheduledMs: a.atMs, actualMs: Math.round(actualMs) });
        return;
      }
      const fault = s.fault!;
      const description = describeAnyFault(fault);
      const rec = faultRecords.get(s.name) ?? { step: s.name, description, scheduledMs: s.atMs, appliedMs: null, healScheduledMs: s.forMs !== undefined ? s.atMs + s.forMs : null, healedMs: null };
      faultRecords.set(s.name, rec);
      if (a.kind === 'apply') {
        // Written to the journal before it is applied: a crash mid-apply still shows what was attempted.
        vj('fault-apply', { step: s.name, fault, description, scheduledMs: a.atMs });
        vt.faultStart(s.name, fault, description);
        try {
          const healer = await withScheduledExits(watch, fault, () => applyFault(fault, s, nodes, toxiproxy, plan, addrOf)); // [run-hardening]
          const appliedMs = performance.now() - t0Perf;
          rec.appliedMs = Math.round(appliedMs * 10) / 10;
          active.set(s.name, { heal: healer, description, fault, sinceMs: appliedMs, healAtMs: rec.healScheduledMs });
          for (const t of faultLabels(fault)) lab.metrics.setFaultActive(fault.type, t, true);
          if (phase === 'steady' || phase === 'recovery') setPhase('fault');
          vj('fault-applied', { step: s.name, scheduledMs: a.atMs, actualMs: rec.appliedMs, skewMs: Math.round((actualMs - a.atMs) * 10) / 10 });
          reporter.onFault?.({ variant: variant.name, step: s.name, action: 'apply', description, skewMs: actualMs - a.atMs });
          await foreignCheck(`step ${s.name}`); // [run-hardening]
        } catch (e) {
          rec.error = errorFields(e).message;
          vt.faultEnd(s.name, rec.error);
          vj('fault-error', { step: s.name, action: 'apply', error: errorFields(e) });
          reporter.onFault?.({ variant: variant.name, step: s.name, action: 'apply', description, skewMs: actualMs - a.atMs, error: rec.error });
          throw e;
        }
      } else {
        const entry = active.get(s.name);
        if (!entry) return;
        vj('fault-heal', { step: s.name, scheduledMs: a.atMs });
        await entry.heal();
        vt.faultEnd(s.name);
        active.delete(s.name);
        rec.healedMs = Math.round((performance.now() - t0Perf) * 10) / 10;
        for (const t of faultLabels(fault)) lab.metrics.setFaultActive(fault.type, t, false);
        if (active.size === 0) setPhase('recovery');
        vj('fault-healed', { step: s.name, scheduledMs: a.atMs, actualMs: rec.healedMs, skewMs: Math.round((actualMs - a.atMs) * 10) / 10 });
        reporter.onFault?.({ variant: variant.name, step: s.name, action: 'heal', description, skewMs: actualMs - a.atMs });
        await foreignCheck(`heal of ${s.name}`); // [run-hardening]
      }
    }
    result.faults = [...faultRecords.values()];
    if (opts.signal.aborted) result.status = 'interrupted';
  } catch (e) {
    result.status = opts.signal.aborted ? 'interrupted' : 'failed';
    result.error = errorFields(e);
    vj('error', { error: result.error });
    reporter.onMessage?.(`variant ${variant.name} failed: ${result.error.message}`);
  } finally {
    setPhase('teardown');
    await foreignCheck('variant end'); // [run-hardening]
    // Heal everything still active, then stop the load, whatever happened above.
    for (const [name, a] of active) {
      try {
        await a.heal();
        vt.faultEnd(name);
        for (const t of faultLabels(a.fault)) lab.metrics.setFaultActive(a.fault.type, t, false);
        vj('fault-healed', { step: name, final: true });
      } catch (e) {
        vj('fault-error', { step: name, action: 'heal', error: errorFields(e) });
      }
    }
    active.clear();
    if (load) {
      loadSummary = await load.stop();
      result.load = loadSummary as unknown as Record<string, unknown>;
      vj('load-end', { summary: loadSummary });
      if (plan.workload.history) {
        writeFileSync(path.join(variantDir, 'history.jsonl'), load.history?.toJsonLines() ?? '');
        writeFileSync(path.join(variantDir, 'history.edn'), load.history?.toEdn() ?? '');
      }
    }
  }

  try {
    if (result.status === 'completed') {
      // Checkers read what the run recorded (history, final reads) before the cluster goes away.
      const checked = await runCheckers(plan, {
        history: load?.history,
        variantDir,
        lab: lab.metrics,
        nodeAddress: (group) => {
          const n = plan.nodes.find((x) => x.group === group)!;
          return parts.addresses.addrOf(n.name, n.ports[0]!);
        },
        journal: (kind, f) => vj(kind, f),
      });
      if (checked) result.checkers = checked;
      checkedAt = Date.now();
      const notScraped = await targetsReady;
      if (notScraped) {
        vj('error', { error: errorFields(notScraped) });
        reporter.onMessage?.(`not every target was scraped: ${errorFields(notScraped).message}`);
      }
      // Let the last scrape land inside the final window (`up` judges nothing: no wait).
      if (plan.assertions.length) await sleep(scrapeIntervalMs * 2 + 200);
      result.assertions = await judgeAll(plan, variant, opts.control, await prometheus, result.t0, scrapeIntervalMs, checkedAt);
      for (const a of result.assertions) vj('assertion', { ...a, series: undefined });
    }
  } catch (e) {
    // [run-hardening] A part that died while judging (Prometheus) is the failure, not the query it broke.
    if (!watch?.stop()) throw e;
  } finally {
    resetCheckerMetrics(lab.metrics);
    // [run-hardening] Stop watching before the nodes are stopped; a death seen up to here fails the variant.
    const died = watch?.stop();
    if (died && result.status === 'completed') {
      result.status = 'failed';
      result.error = errorFields(died);
      vj('error', { error: result.error });
      reporter.onMessage?.(`variant ${variant.name} failed: ${died.message}`);
    }
    if (keeper && (result.status === 'completed' || (result.status === 'interrupted' && opts.keep === 'always'))) {
      // The run's end hands these nodes over with the parts (or stops them, if that fails).
      keeper.nodes = nodes;
      keeper.variant = variant.name;
    } else {
      const stopping = performance.now();
      await Promise.allSettled([...nodes.values()].map((n) => n.stop()));
      vj('cluster-down', { stopMs: Math.round(performance.now() - stopping) });
    }
  }
  result.passed = result.status === 'completed' && result.assertions.length > 0 && result.assertions.every((a) => a.passed);
  vj('variant-end', { passed: result.passed, status: result.status });
  vt.end(result);
  return result;
}

function faultLabels(f: FaultSpec): string[] {
  if ('links' in f) return f.links;
  if ('nodes' in f) return f.nodes;
  return f.groups.map((g) => g.join('+'));
}

export function describeAnyFault(f: FaultSpec): string {
  switch (f.type) {
    case 'kill':
      return `kill (${f.signal}) ${f.nodes.join(', ')}`;
    case 'restart':
      return `restart ${f.nodes.join(', ')}`;
    case 'pause':
      return `pause ${f.nodes.join(', ')}`;
    case 'clock':
      return `clock ${f.offsetMs >= 0 ? '+' : '-'}${formatDuration(Math.abs(f.offsetMs))} on ${f.nodes.join(', ')}`;
    default:
      return describeFault(f as LinkFaultSpec);
  }
}

async function applyFault(
  fault: FaultSpec,
  step: StepPlan,
  nodes: Map<string, StartedNode>,
  toxiproxy: StartedToxiproxy,
  plan: ScenarioPlan,
  addrOf: (instance: string, port: string) => string,
): Promise<() => Promise<void>> {
  if (isNodeFault(fault)) return applyNodeFault(fault, nodes, plan, addrOf);
  const applied: AppliedFault = await applyLinkFault(toxiproxy.client, fault, {
    faultId: `${step.index}-${step.name}`,
    links: plan.links.map((l) => ({ name: l.name, from: l.from, to: l.to })),
  });
  return () => applied.heal();
}

function isNodeFault(f: FaultSpec): f is NodeFaultSpec {
  return f.type === 'kill' || f.type === 'restart' || f.type === 'pause' || f.type === 'clock';
}

async function applyNodeFault(f: NodeFaultSpec, nodes: Map<string, StartedNode>, plan: ScenarioPlan, addrOf: (instance: string, port: string) => string): Promise<() => Promise<void>> {
  const targets = f.nodes.map((n) => {
    const node = nodes.get(n);
    if (!node) throw new LabError(Errors.NodeFailed, `node ${n} is not running`, { hint: 'check the node logs in the run folder' });
    return node;
  });
  switch (f.type) {
    case 'kill':
      await Promise.all(targets.map((t) => t.kill(f.signal)));
      return async () => {
        await Promise.all(targets.map((t) => t.restart()));
      };
    case 'restart':
      await Promise.all(targets.map((t) => t.restart()));
      return async () => {};
    case 'pause':
      await Promise.all(targets.map((t) => t.pause()));
      return async () => {
        await Promise.all(targets.map((t) => t.resume()));
      };
    case 'clock': {
      const setOffset = async (offsetMs: number) => {
        await Promise.all(
          f.nodes.map(async (name) => {
            const inst = plan.nodes.find((n) => n.name === name)!;
            const res = await fetch(`http://${addrOf(name, inst.ports[0]!)}/admin/clock`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ offsetMs }),
              signal: AbortSignal.timeout(3000),
            });
            if (!res.ok) throw new LabError(Errors.NodeFailed, `node ${name} refused the clock offset (HTTP ${res.status})`, { hint: 'the toy must serve POST /admin/clock (toys/lib/toy-node.ts)' });
          }),
        );
      };
      await setOffset(f.offsetMs);
      return () => setOffset(0);
    }
  }
}

function expectedOf(a: AssertionPlan, variant: string, control: boolean): 'holds' | 'violated' {
  return control ? (a.expect.control ?? 'holds') : (a.expect[variant] ?? 'holds');
}

async function judgeAll(plan: ScenarioPlan, variant: VariantPlan, control: boolean, prometheus: StartedPrometheus, t0: number, scrapeIntervalMs: number, checkedAt: number): Promise<AssertionResult[]> {
  const out: AssertionResult[] = [];
  for (const a of plan.assertions) {
    if (!a.variants.includes(variant.name)) continue;
    const expected = expectedOf(a, variant.name, control);
    // `final` windows cover what was scraped after the checkers exported their counts.
    const startSec = a.window.final ? checkedAt / 1000 : (t0 + a.window.startMs) / 1000;
    const endSec = a.window.final ? Date.now() / 1000 : (t0 + a.window.endMs) / 1000;
    const j = await evaluateAssertion(prometheus.client, {
      query: a.query,
      startSec,
      endSec,
      stepSec: scrapeIntervalMs / 1000,
      comparator: a.comparator,
      threshold: a.threshold,
      over: a.over,
      windowStartSec: startSec,
      windowEndSec: endSec,
      ...(a.recoverWithinMs !== undefined ? { recoverWithinMs: a.recoverWithinMs } : {}),
    });
    out.push({
      name: a.name,
      ...(a.description ? { description: a.description } : {}),
      query: a.query,
      window: a.window,
      condition: `${a.comparator} ${a.threshold}`,
      over: a.over,
      expected,
      outcome: j.outcome,
      passed: j.outcome !== 'no-data' && j.outcome === expected,
      observed: j.observed,
      reason: j.reason,
      // Time to recover means something for windows that start at a heal.
      ...(j.timeToRecoverSec !== undefined && (a.recoverWithinMs !== undefined || a.window.label.startsWith('after ')) ? { timeToRecoverSec: j.timeToRecoverSec } : {}),
      series: j.series,
    });
  }
  return out;
}
