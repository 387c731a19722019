/**
 * The run skeleton: start the real parts → for each variant (start cluster → wait healthy →
 * load + timeline → heal → judge → stop cluster) → stop the parts. Heals, stops and reaping all
 * happen in `finally`, also on Ctrl-C (Chaos Toolkit's rollback-in-finally).
 *
 * The runner says what happens once, as events (events.ts); the journal, tracing, the lab's metrics, the terminal and
 * the injected report writers subscribe. The steps of a variant are in variant-steps.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isPortFree } from '../common/ports.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { createLabMetrics, startLabMetricsServer, type LabMetrics } from '../observe/lab-metrics.js';
import type { StartedPrometheus } from '../observe/prometheus-server.js';
import { prepareDockerRuntime, prepareKubernetesRuntime, prepareProcessRuntime, type ClusterLoadServer, type PreparedRuntime } from '../runtime/cluster-runtime.js';
import { pushLabMetrics } from '../workload/remote/lab-metrics-push.js';
import type { KeptInfo } from '../runtime/kept.js';
import { openStateDir } from '../runtime/state-dir.js';
import { findLinearizabilityChecker } from '../check/linearizability.js';
import { CLIENT } from '../scenario/load.js';
import type { ScenarioPlan, VariantPlan } from '../scenario/plan.js';
import { TRACING_OFF, startLabTracing, type LabTracing } from '../trace/lab-tracing.js';
import type { Parts, RunContext, RunOptions } from './context.js';
import { runEnvironment, prometheusVersion } from './environment.js';
import { errorFields } from './errors.js';
import { RunEvents, type RunSubscriber } from './events.js';
import { checkForeign, healActiveFaults } from './fault-step.js';
import { Journal, journalSubscriber } from './journal.js';
import { keepParts, type Keeper } from './keep.js';
import { labMetricsSubscriber, tracingSubscriber } from './part-subscribers.js';
import { reporterSubscriber } from './reporter.js';
import { incidentInfo, type RunEnvironment, type RunResult, type VariantResult } from './result.js';
import { allocatePorts, buildAddresses, nodePortList } from './topology.js';
import * as step from './variant-steps.js';
import { createExactRunFolder, createRunFolder } from './run-folder.js';
import { keptToxiproxyWarning } from '../fault/proxy-guard.js';
import { fakeClockNodes } from '../fault/registry.js';
import { findLibfaketime } from '../runtime/fake-clock.js';

export type { RunOptions } from './context.js';
export { peersFor } from './topology.js';

/** One variant: a short sequence of named steps; teardown in `finally`, whatever happened. */
async function runVariant(run: RunContext, variant: VariantPlan, keeper?: Keeper): Promise<VariantResult> {
  const v = step.openVariant(run, variant);
  try {
    await step.createProxies(v);
    await step.startNodes(v);
    await step.awaitPrometheus(v);
    step.startLoad(v);
    await step.watchParts(v);
    await run.opts.onVariantLive?.(v);
    await step.runTimeline(v);
  } catch (e) {
    step.failVariant(v, e);
  } finally {
    v.setPhase('teardown');
    await checkForeign(v, 'variant end');
    // Heal everything still active, then stop the load.
    await healActiveFaults(v);
    await step.stopLoad(v);
  }
  try {
    if (v.result.status === 'completed') {
      await step.checkVariant(v);
      await step.judgeVariant(v);
    }
  } catch (e) {
    // A part that died while judging (Prometheus) is the failure, not the query it broke.
    if (!v.watch?.stop()) throw e;
  } finally {
    await step.stopNodes(v, keeper);
  }
  return step.closeVariant(v);
}

/**
 * Binaries are looked up before anything starts: a missing one starts nothing and writes nothing. For Docker: the
 * engine answers and the images are current (stale ones are rebuilt: seconds). This is before the run has a folder,
 * a journal or an event stream, so what it says (image builds) goes to the reporter directly.
 */
async function prepareRuntime(opts: RunOptions): Promise<PreparedRuntime & { engineVersion?: string }> {
  const binaries = { ...(opts.toxiproxyBinary ? { toxiproxyBinary: opts.toxiproxyBinary } : {}), ...(opts.prometheusBinary ? { prometheusBinary: opts.prometheusBinary } : {}) };
  const prepared =
    opts.runtime === 'kubernetes'
      ? await prepareKubernetesRuntime({
          projectRoot: opts.projectRoot,
          ...(opts.kubeContext !== undefined ? { context: opts.kubeContext } : {}),
          ...(opts.imageRegistry !== undefined ? { imageRegistry: opts.imageRegistry } : {}),
          ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}),
        })
      : opts.runtime === 'docker'
      ? await prepareDockerRuntime({ projectRoot: opts.projectRoot, envPath: opts.envPath, ...binaries, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}), onMessage: (m) => opts.reporter.onMessage?.(m), onProgress: (p) => opts.reporter.onProgress?.(p) })
      : prepareProcessRuntime({ projectRoot: opts.projectRoot, envPath: opts.envPath, ...binaries });
  for (const [part, port] of [['Toxiproxy', opts.toxiproxyPort], ['Prometheus', opts.prometheusPort]] as const) {
    if (port !== undefined && !(await isPortFree(port))) {
      throw new LabError(Errors.PortTaken, `the ${part} port 127.0.0.1:${port} is already taken`, { hint: `choose another --${part.toLowerCase()}-port, or stop what holds it (a kept run: npx chaoslab down; else ss -ltnp | grep :${port})` });
    }
  }
  return prepared;
}

/** The parts a run starts once (Toxiproxy, the lab's metrics, tracing, Prometheus), recorded in `into` as they come up. */
async function startParts(
  run: Omit<RunContext, 'parts'>,
  prepared: PreparedRuntime & { engineVersion?: string },
  metrics: LabMetrics,
  tracingReady: Promise<LabTracing>,
  traces: Parts['traces'],
  into: Partial<Parts>,
): Promise<{ parts: Parts; environment: Promise<RunEnvironment> }> {
  const { plan, opts, runDir, runId, events, scrapeIntervalMs } = run;
  const ports = await allocatePorts(plan);
  const cluster = await prepared.open({
    runId,
    scenario: plan.id,
    stateDir: opts.stateDir,
    nodes: nodePortList(plan, ports),
    onMessage: (line) => events.emit({ kind: 'message', line }),
    onStopError: (e) => events.emit({ kind: 'error', during: 'teardown', error: errorFields(e) }),
  });
  into.cluster = cluster;
  events.emit({ kind: 'progress', progress: { label: `starting Toxiproxy (${({ process: 'process', docker: 'container', kubernetes: 'pod' } as const)[cluster.kind]})` } });
  const [toxiproxy, lab, tracing, loadServer] = await Promise.all([
    cluster.startToxiproxy({ logFile: path.join(runDir, 'logs', 'toxiproxy.log'), seed: opts.seed, proxyPorts: plan.links.filter((l) => l.from === CLIENT).map((l) => ports.proxies.get(l.name)!), ...(opts.toxiproxyPort !== undefined ? { port: opts.toxiproxyPort } : {}) }).then((t) => (into.toxiproxy = t)),
    startLabMetricsServer(metrics, { host: cluster.labMetricsHost }).then((l) => (into.lab = l)),
    tracingReady.then(async (t) => {
      events.emit({ kind: 'traces', ...t.where });
      await t.listen(cluster.labMetricsHost, (address) => cluster.isRunPeer(address));
      return (into.tracing = t);
    }),
    // Only where the runtime runs the load elsewhere (Kubernetes); only when there is a load to run.
    plan.durationMs > 0
      ? cluster.startLoadServer?.({ logFile: path.join(runDir, 'logs', 'load-generator.log') }).then((l) => (into.loadServer = withLabMetricsPush(l, metrics, events)))
      : undefined,
  ]);
  const addresses = buildAddresses(plan, ports, cluster, lab.address, toxiproxy, loadServer?.innerAddress);
  into.addresses = addresses;
  events.emit({ kind: 'part-started', part: 'runtime', runtime: cluster.kind, description: cluster.description });
  events.emit({ kind: 'part-started', part: 'toxiproxy', url: toxiproxy.url, pid: toxiproxy.pid });
  events.emit({ kind: 'part-started', part: 'lab-metrics', address: lab.address });
  // Prometheus starts while the first cluster does; the variant waits for it before the load.
  const prometheus = cluster
    .startPrometheus({
      dir: path.join(runDir, 'prometheus'),
      scrapeIntervalMs,
      logFile: path.join(runDir, 'logs', 'prometheus.log'),
      initialTargets: addresses.targets,
      ...(opts.prometheusPort !== undefined ? { port: opts.prometheusPort } : {}),
    })
    .then((p) => {
      events.emit({ kind: 'part-started', part: 'prometheus', url: p.url, pid: p.pid });
      events.emit({ kind: 'message', line: `toxiproxy ${toxiproxy.url} · prometheus ${p.url}` });
      return p;
    });
  prometheus.catch(() => undefined); // handled where it is awaited
  into.prometheus = prometheus;
  // Versions are asked once, while the run goes on.
  const environment = runEnvironment({
    projectRoot: opts.projectRoot,
    toxiproxy: toxiproxy.client.version(),
    prometheus: prometheus.then((p) => prometheusVersion(p.url)),
    ...(prepared.engineVersion !== undefined ? { docker: prepared.engineVersion } : {}),
  });
  return { parts: { toxiproxy, prometheus, lab, cluster, addresses, tracing, traces, ...(loadServer ? { loadServer } : {}) }, environment };
}

/**
 * A load server in the cluster also carries the lab's own metrics to Prometheus (pods may not reach this machine):
 * pushed while the run lasts, scraped there as job `lab` (buildAddresses).
 */
function withLabMetricsPush(server: ClusterLoadServer, metrics: LabMetrics, events: RunEvents): ClusterLoadServer {
  const push = pushLabMetrics(server.url, () => metrics.registry.metrics(), {
    token: server.token,
    onError: (e) => events.emit({ kind: 'message', line: `warning: the lab's metrics did not reach the load generator's pod: ${errorFields(e).message}` }),
  });
  return {
    ...server,
    stop: async () => {
      push.stop();
      await server.stop();
    },
  };
}

export async function runScenario(plan: ScenarioPlan, opts: RunOptions): Promise<RunResult> {
  // A state folder that is a file, someone else's or writable by others: exit 2 before anything starts.
  openStateDir(opts.stateDir, { create: true });
  // A checker the scenario needs must be built: exit 3 before anything starts, naming how to build it.
  if (plan.checker?.type === 'linearizable') findLinearizabilityChecker(opts.projectRoot, opts.envPath);
  // A clock fault needs libfaketime on this machine (also for Docker: the toys image copies it): exit 3 now.
  if (fakeClockNodes(plan.steps.flatMap((s) => (s.fault ? [s.fault] : []))).size > 0) findLibfaketime();
  const prepared = await prepareRuntime(opts);
  const started = new Date();
  // A folder of the run's own, created exclusively; the run's id (reaper state, Docker names) carries its suffix.
  const folder = opts.runDir ? createExactRunFolder(opts.runDir) : createRunFolder(opts.runsDir, plan.id, started);
  const runDir = folder.dir;
  const runId = `${folder.name}-${opts.seed}`;
  mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const journal = new Journal(runDir);
  const variants = plan.variants.filter((v) => !opts.variants || opts.variants.includes(v.name));
  const scrapeIntervalMs = opts.scrapeIntervalMs ?? 1000;
  const metrics = createLabMetrics();
  const into: Partial<Parts> = {};
  const traces = tracingSubscriber(() => into.tracing ?? TRACING_OFF);
  const injected: RunSubscriber[] = (opts.report === false ? [] : (opts.subscribers ?? [])).map((make) => make({ runDir, records: () => journal.records }));
  const events = new RunEvents([journalSubscriber(journal), traces, labMetricsSubscriber(metrics), ...injected, reporterSubscriber(opts.reporter)]);
  const run: Omit<RunContext, 'parts'> = { plan, opts, runId, runDir, scrapeIntervalMs, events };

  events.emit({ kind: 'run-start', scenario: plan.id, seed: opts.seed, control: opts.control, variants: variants.map((v) => v.name), command: opts.command, title: plan.title, runDir });
  // The SDK loads while the parts start (a few hundred ms of module loading).
  const tracingReady = startLabTracing(opts.traces ?? { sampleRatio: 0 }, { runDir, runId, scenario: plan.id, seed: opts.seed, control: opts.control });
  tracingReady.catch(() => undefined); // awaited below

  const results: VariantResult[] = [];
  let environment: Promise<RunEnvironment> | undefined;
  let fatal: unknown;
  let kept: KeptInfo | undefined;
  const keeper: Keeper = {};
  try {
    const started = await startParts(run, prepared, metrics, tracingReady, traces, into);
    environment = started.environment.then((env) => {
      events.emit({ kind: 'environment', ...env });
      return env;
    });
    const ctx: RunContext = { ...run, parts: started.parts };
    for (const [i, variant] of variants.entries()) {
      if (opts.signal.aborted) break;
      const r = await runVariant(ctx, variant, opts.keep && i === variants.length - 1 ? keeper : undefined);
      results.push(r);
      events.emit({ kind: 'variant-result', result: r });
      if (r.status === 'failed' && r.error && r.error.code !== Errors.NodeFailed.code) break;
    }
  } catch (e) {
    fatal = e;
    events.emit({ kind: 'error', error: errorFields(e) });
  } finally {
    kept = await stopOrKeepParts(run, into, keeper, fatal);
  }

  const env = await (environment ?? runEnvironment({ projectRoot: opts.projectRoot, toxiproxy: Promise.resolve(null), prometheus: Promise.resolve(null), ...(prepared.engineVersion !== undefined ? { docker: prepared.engineVersion } : {}) }).then((e) => {
    events.emit({ kind: 'environment', ...e });
    return e;
  }));
  const ended = new Date();
  const interrupted = opts.signal.aborted;
  if (interrupted) events.emit({ kind: 'interrupted' });
  const result: RunResult = {
    scenario: plan.id,
    title: plan.title,
    incident: incidentInfo(plan.incident),
    seed: opts.seed,
    control: opts.control,
    passed: !fatal && !interrupted && results.length === variants.length && results.every((r) => r.passed),
    runDir,
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    command: opts.command,
    variants: results,
    ...(interrupted ? { interrupted: true as const } : {}),
    environment: env,
    ...(kept ? { kept } : {}),
  };
  // After the nodes stopped: their last spans have arrived.
  const tracesWritten = await (await tracingReady.catch(() => TRACING_OFF)).finish({ passed: result.passed, interrupted });
  if (tracesWritten.mode !== 'off') {
    result.traces = tracesWritten;
    events.emit({ kind: 'traces-written', ...tracesWritten });
  }
  events.emit({ kind: 'run-end', passed: result.passed });
  writeFileSync(path.join(runDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  // The report writers and the terminal's summary; then the journal, with anything a subscriber failed at.
  events.emit({ kind: 'run-result', result });
  await events.flush();
  journal.write(path.join(runDir, 'journal.json'), { scenario: plan.id, title: plan.title, seed: opts.seed, control: opts.control, runDir, startedAt: result.startedAt, endedAt: result.endedAt });
  if (fatal) throw fatal;
  return result;
}

/** The run's end: keeps the parts and the last variant's nodes up when asked (and possible), else stops everything. */
async function stopOrKeepParts(run: Omit<RunContext, 'parts'>, parts: Partial<Parts>, keeper: Keeper, fatal: unknown): Promise<KeptInfo | undefined> {
  const { plan, opts, events } = run;
  const stopping = performance.now();
  const prometheus: StartedPrometheus | undefined = await parts.prometheus?.catch(() => undefined);
  let kept: KeptInfo | undefined;
  if (keeper.nodes && !fatal && (opts.keep === 'always' || !opts.signal.aborted) && prometheus && parts.cluster && parts.toxiproxy && parts.lab && parts.addresses) {
    try {
      kept = await keepParts(plan, run, keeper.variant!, { cluster: parts.cluster, toxiproxy: parts.toxiproxy, lab: parts.lab, addresses: parts.addresses }, prometheus);
      events.emit({ kind: 'kept', ...kept });
      events.emit({ kind: 'message', line: keptToxiproxyWarning(kept.toxiproxy) });
    } catch (e) {
      events.emit({ kind: 'error', error: errorFields(e) });
      events.emit({ kind: 'message', line: `could not keep the cluster up (${errorFields(e).message}); stopping it` });
    }
  }
  if (!kept) {
    const stops: Promise<unknown>[] = [...(keeper.nodes?.values() ?? [])].map((n) => n.stop());
    if (parts.lab) stops.push(parts.lab.stop());
    if (parts.toxiproxy) stops.push(parts.toxiproxy.stop());
    if (parts.loadServer) stops.push(parts.loadServer.stop());
    if (prometheus) stops.push(prometheus.stop());
    for (const o of await Promise.allSettled(stops)) if (o.status === 'rejected') events.emit({ kind: 'error', during: 'teardown', error: errorFields(o.reason) });
    await parts.cluster?.close();
    events.emit({ kind: 'parts-stopped', stopMs: Math.round(performance.now() - stopping) });
  }
  return kept;
}
