/**
 * The steps of one variant, in the order the runner calls them (runner.ts `runVariant`): open → create proxies →
 * start nodes → wait for Prometheus → start load → run timeline → (teardown) heal faults → stop load → check →
 * judge → stop nodes → close. Each step reads and writes the variant's context and says what happened as events.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng } from '../common/rng.js';
import { freePort } from '../common/ports.js';
import { sleep } from '../common/time.js';
import type { Phase } from '../observe/lab-metrics.js';
import type { NodeInstance, VariantPlan } from '../scenario/plan.js';
import type { StartedNode } from '../runtime/runtime.js';
import { LoadGenerator, type LoadSpec, type RequestResult } from '../workload/load-generator.js';
import { RemoteLoadGenerator } from '../workload/remote/remote-load-generator.js';
import { resetCheckerMetrics, runCheckers } from './checkers.js';
import type { RunContext, VariantContext, VariantEvent } from './context.js';
import type { RunEvent } from './events.js';
import { hostLoad } from './environment.js';
import { errorFields } from './errors.js';
import { performActionStep } from './action-step.js';
import { performFaultStep } from './fault-step.js';
import { performScaleStep, resetScaledTargets } from './scale-step.js';
import { expectedOf, judgeAll } from './judge.js';
import type { Keeper } from './keep.js';
import { SlidingStats } from './live-stats.js';
import { startLiveProbe } from './live-probe.js';
import type { VariantResult } from './result.js';
import { realClock, runSchedule, scheduleActions, type ScheduledAction } from './timeline.js';
import { hostProxies, linksOf, loadTargets, peersFor } from './topology.js';
import { guardProxies } from '../fault/proxy-guard.js';
import { fakeClockNodes } from '../fault/registry.js';
import { findLibfaketime, writeClockOffset } from '../runtime/fake-clock.js';
import { describeWatchEvent, exitingPart, loadPart, realWatchClock, startPartWatch } from './part-watch.js';

/** Makes the variant's context and folder, and says the variant started (phase `setup`). */
export function openVariant(run: RunContext, variant: VariantPlan): VariantContext {
  const variantDir = path.join(run.runDir, run.opts.control ? `${variant.name}-control` : variant.name);
  mkdirSync(path.join(variantDir, 'logs'), { recursive: true });
  const result: VariantResult = { name: variant.name, expect: variant.expect, mitigations: variant.mitigations, params: variant.params, status: 'completed', passed: false, t0: 0, assertions: [], faults: [], load: null };
  let phase: Phase = 'setup';
  const emit = (e: VariantEvent) => {
    // `{kind, variant, …}`: the field order of the journal's records since the first version.
    const { kind, ...fields } = e;
    run.events.emit({ kind, variant: variant.name, ...fields } as RunEvent);
  };
  // Everything the variant does to Toxiproxy goes through the guard, which knows what the lab made; `checkForeign`
  // removes every other proxy and toxic (Toxiproxy's API has no authentication).
  const guard = guardProxies(run.parts.toxiproxy.client);
  const v: VariantContext = {
    ...run,
    parts: { ...run.parts, toxiproxy: { ...run.parts.toxiproxy, client: guard.client } },
    guard,
    watch: undefined,
    variant,
    variantDir,
    rng: createRng(run.opts.seed).fork(`variant:${variant.name}`),
    emit,
    result,
    get phase() {
      return phase;
    },
    setPhase(p) {
      phase = p;
      emit({ kind: 'phase', phase: p });
    },
    nodes: new Map(),
    active: new Map(),
    faultRecords: new Map(),
    load: undefined,
    baseRate: run.plan.workload.rate,
    t0Perf: 0,
    stats: new SlidingStats(3),
    prometheus: undefined,
    targetsReady: Promise.resolve(undefined),
    checkedAt: 0,
  };
  emit({ kind: 'variant-start', expect: variant.expect, mitigations: variant.mitigations, params: variant.params, control: run.opts.control });
  result.hostLoad = { start: hostLoad(), end: hostLoad() };
  emit({ kind: 'host-load', when: 'start', loadavg: result.hostLoad.start });
  v.setPhase('setup');
  return v;
}

/** Toxiproxy holds exactly this scenario's links (what an earlier variant left is removed). */
export async function createProxies(v: VariantContext): Promise<void> {
  const { plan } = v;
  const { client } = v.parts.toxiproxy;
  const { innerAddrOf, proxyAddr, proxyListen } = v.parts.addresses;
  await client.reset();
  for (const p of await client.listProxies()) await client.deleteProxy(p.name);
  if (!plan.links.length) return;
  // A listen port can be taken between choosing it and Toxiproxy binding it: choose again for the
  // proxies that did not come up (populate keeps the ones that did).
  for (let attempt = 1; ; attempt++) {
    try {
      await client.populate(plan.links.map((l) => ({ name: l.name, listen: proxyListen.get(l.name)!, upstream: innerAddrOf(l.to, l.port), enabled: true })));
      return;
    } catch (e) {
      if (attempt >= 4 || !/address already in use/.test(errorFields(e).message + JSON.stringify(e))) throw e;
      const up = new Set((await client.listProxies()).map((p) => p.name));
      for (const l of plan.links) if (!up.has(l.name)) proxyAddr.set(l.name, `127.0.0.1:${await freePort()}`);
    }
  }
}

/** Starts every node with its config (ports, peers, params, seed) and waits until each is healthy; spares wait for a `scale` step. */
export async function startNodes(v: VariantContext): Promise<void> {
  const { plan, parts } = v;
  const { addrOf, proxyAddr } = parts.addresses;
  const nodes = plan.nodes.filter((n) => !n.spare);
  let healthy = 0;
  const progress = () => v.events.emit({ kind: 'progress', progress: { label: 'starting nodes', done: healthy, total: nodes.length } });
  progress();
  await Promise.all(
    nodes.map(async (n) => {
      await startNode(v, n);
      healthy++;
      progress();
    }),
  );
  v.emit({ kind: 'cluster-up', nodes: nodes.map((n) => ({ name: n.name, pid: v.nodes.get(n.name)?.pid, address: addrOf(n.name, n.ports[0]!) })), proxies: Object.fromEntries(proxyAddr) });
}

/** Starts one node instance with its config and waits until it is healthy (at the start, or by a `scale` step). */
export async function startNode(v: VariantContext, n: NodeInstance): Promise<StartedNode> {
  const { plan, opts, variant, parts } = v;
  const { addrOf, innerAddrOf, innerProxyAddr } = parts.addresses;
  const runtime = parts.cluster.nodes();
  const toysDir = path.join(opts.projectRoot, 'dist', 'toys');
  // Nodes a clock fault can skew start with libfaketime, in every variant and the control run (the same binaries).
  const skewable = fakeClockNodes(plan.steps.flatMap((s) => (s.fault ? [s.fault] : [])));
  const library = skewable.has(n.name) ? findLibfaketime() : undefined;
  const clockDir = path.join(v.variantDir, 'clock');
  if (library) mkdirSync(clockDir, { recursive: true, mode: 0o755 });
  const config = {
    name: n.name,
    group: n.group,
    index: n.index,
    host: parts.cluster.nodeListenHost,
    ports: Object.fromEntries(n.ports.map((p) => [p, Number(addrOf(n.name, p).split(':')[1])])),
    peers: peersFor(plan, n.name, innerAddrOf, innerProxyAddr),
    params: variant.params[n.group] ?? {},
    seed: v.rng.fork(`node:${n.name}`).seed,
    runId: path.basename(v.runDir),
  };
  const fakeClock = library ? { library, controlFile: path.join(clockDir, `${n.name}.faketime`) } : undefined;
  if (fakeClock) writeClockOffset(fakeClock.controlFile, 0);
  const starting = performance.now();
  const node = await runtime.start({
    ...(fakeClock ? { fakeClock } : {}),
    name: n.name,
    group: n.group,
    // `node` means the Node.js running the lab, whatever PATH says.
    command: n.command.map((c, i) => (i === 0 && c === 'node' ? process.execPath : c.replaceAll('{toys}', toysDir))),
    cwd: opts.projectRoot,
    env: { CHAOSLAB_NODE: JSON.stringify(config), ...parts.tracing.nodeEnv(variant.name, linksOf(plan, n.name, innerProxyAddr)) },
    logFile: path.join(v.variantDir, 'logs', `${n.name}.log`),
    healthUrl: `http://${addrOf(n.name, n.healthPort)}${n.healthPath}`,
    healthTimeoutMs: n.healthTimeoutMs,
  });
  v.nodes.set(n.name, node);
  v.emit({ kind: 'node-started', node: n.name, pid: node.pid });
  await node.waitHealthy();
  v.emit({ kind: 'node-healthy', node: n.name, readyMs: Math.round(performance.now() - starting) });
  return node;
}

/**
 * The load does not wait for Prometheus's first scrape (up to 5 s on a fresh server): the steady-state window starts
 * after the warmup, and judging waits for the targets (`targetsReady`).
 */
export async function awaitPrometheus(v: VariantContext): Promise<void> {
  const { plan, parts } = v;
  const { addrOf, proxyAddr, targets } = parts.addresses;
  v.events.emit({ kind: 'progress', progress: { label: 'waiting for Prometheus' } });
  const prom = await parts.prometheus;
  v.prometheus = prom;
  v.events.emit({ kind: 'progress', progress: null });
  v.events.emit({
    kind: 'cluster-ready',
    info: { variant: v.variant.name, prometheus: prom.url, toxiproxy: parts.toxiproxy.url, nodes: plan.nodes.filter((n) => !n.spare).map((n) => ({ name: n.name, address: addrOf(n.name, n.ports[0]!) })), proxies: hostProxies(plan, parts.cluster.kind, proxyAddr) },
  });
  v.targetsReady = prom.waitForTargets(targets.map((t) => t.address), 20_000).then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Load and timeline share t0. `chaoslab up` without --load: no load at all (a load loop is always bounded in time). */
export function startLoad(v: VariantContext): void {
  const { plan, parts } = v;
  const remote = parts.loadServer;
  // A load generator in the cluster reaches nodes and proxies at their addresses inside it.
  const { urls, links } = loadTargets(plan, remote ? { addrOf: parts.addresses.innerAddrOf, proxyAddr: parts.addresses.innerProxyAddr } : parts.addresses);
  v.baseRate = plan.workload.rate;
  v.t0Perf = performance.now();
  const live = (r: RequestResult) => v.stats.add(performance.now() - v.t0Perf, r.outcome === 'ok', r.latencyMs);
  const onResult = (r: RequestResult) => {
    // Per request: straight to the lab's metrics and the live numbers, not through the event stream.
    parts.lab.metrics.observeRequest(r.op, r.outcome, r.latencyMs / 1000);
    live(r);
  };
  if (plan.durationMs > 0) {
    const spec: LoadSpec = {
      targets: urls,
      rate: v.baseRate,
      arrival: plan.workload.arrival,
      operations: plan.workload.operations,
      keys: plan.workload.keys,
      timeoutMs: plan.workload.timeout,
      maxInFlight: plan.workload.maxInFlight,
      durationMs: plan.durationMs,
      seed: v.rng.fork('load').seed,
      recordHistory: plan.workload.history,
    };
    if (remote) {
      // Its own /metrics carries the client series (Prometheus scrapes the pod): only the live view is fed here.
      // Request spans are not carried across (the lab's tracing covers the run's other spans).
      v.load = new RemoteLoadGenerator(remote.url, spec, { onResult: live }, { token: remote.token });
    } else {
      const tracing = parts.traces.variant(v.variant.name)?.requests(v.rng.fork('trace').seed, { templates: Object.fromEntries(plan.workload.operations.map((o) => [o.name, o.path])), links });
      v.load = new LoadGenerator(spec, { onResult }, { tracing });
    }
  }
  v.result.t0 = Date.now();
  v.load?.start();
  v.emit({ kind: 'load-start', t0: v.result.t0, rate: v.baseRate, targets: urls });
  v.setPhase('steady');
}

/**
 * From the load's start until the nodes stop, every node and part is watched: an exit no step scheduled is an event
 * and (unless the scenario's `mayDie` allows it) the variant's part failure; it ends the timeline at once.
 */
export async function watchParts(v: VariantContext): Promise<void> {
  const { parts, plan, runDir } = v;
  const prometheus = v.prometheus ?? (await parts.prometheus);
  v.watch = startPartWatch({
    variant: v.variant.name,
    nodes: v.nodes.values(),
    parts: [
      exitingPart('Toxiproxy', parts.toxiproxy.exited, path.join(runDir, 'logs', 'toxiproxy.log')),
      exitingPart('Prometheus', prometheus.exited, path.join(runDir, 'logs', 'prometheus.log')),
      ...(v.load ? [loadPart(v.load.done)] : []),
    ],
    mayDie: new Set(plan.mayDie ?? []),
    clock: realWatchClock(v.t0Perf),
    logOf: (n) => path.join(v.variantDir, 'logs', `${n}.log`),
    onEvent: (e) => {
      v.emit(e);
      v.events.emit({ kind: 'message', line: describeWatchEvent(e, v.variant.name) });
    },
  });
}


/** The scenario's steps at their times (faults and load changes) until the load's end, with the live view ticking. */
export async function runTimeline(v: VariantContext): Promise<void> {
  const { plan, opts, variant } = v;
  const probe =
    opts.liveQueryIntervalMs !== undefined && v.prometheus
      ? startLiveProbe({
          client: v.prometheus.client,
          assertions: plan.assertions.filter((a) => a.variants.includes(variant.name)).map((a) => ({ plan: a, expected: expectedOf(a, variant.name, opts.control) })),
          elapsedMs: () => performance.now() - v.t0Perf,
          intervalMs: opts.liveQueryIntervalMs,
        })
      : undefined;
  const ticker = setInterval(() => {
    const s = v.stats.snapshot(performance.now() - v.t0Perf);
    const faults = [...v.active].map(([step, a]) => ({ step, description: a.description, sinceMs: a.sinceMs, healAtMs: a.healAtMs }));
    v.events.emit({
      kind: 'tick',
      stats: { variant: variant.name, phase: v.phase, elapsedMs: performance.now() - v.t0Perf, totalMs: plan.durationMs, activeFaults: faults.map((f) => f.description), requestRate: s.rate, errorRatio: s.errorRatio, p99Ms: s.p99Ms, faults, ...(probe ? { assertions: probe.latest() } : {}) },
    });
  }, 500);

  const actions = scheduleActions(plan.steps, { control: opts.control, variant: variant.name });
  const stepAbort = new AbortController();
  const onAbort = () => stepAbort.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  v.watch?.signal.addEventListener('abort', onAbort, { once: true }); // a dead part ends the timeline
  const endTimer = sleep(plan.durationMs, stepAbort.signal);
  try {
    await runSchedule(actions, realClock(v.t0Perf), stepAbort.signal, async (a: ScheduledAction, actualMs: number) => {
      if (a.step.load) performLoadStep(v, a, actualMs);
      else if (a.step.scale) await performScaleStep(v, a, actualMs);
      else if (a.step.action) await performActionStep(v, a, actualMs);
      else await performFaultStep(v, a, actualMs);
    });
    await endTimer;
    if (v.watch?.failure) throw v.watch.failure;
  } finally {
    clearInterval(ticker);
    probe?.stop();
    opts.signal.removeEventListener('abort', onAbort);
    stepAbort.abort();
  }
  v.result.faults = [...v.faultRecords.values()];
  if (opts.signal.aborted) v.result.status = 'interrupted';
}

/** A load step: a new rate (and operation weights), back to the workload's own when it ends. */
function performLoadStep(v: VariantContext, a: ScheduledAction, actualMs: number): void {
  const { plan } = v;
  const s = a.step;
  const step = s.load!;
  if (a.kind === 'apply') {
    const rate = step.rate ?? (step.multiply !== undefined ? plan.workload.rate * step.multiply : v.baseRate);
    v.load!.setRate(rate, step.rampMs);
    if (step.weights) v.load!.setWeights(step.weights);
    v.baseRate = rate;
  } else {
    v.baseRate = plan.workload.rate;
    v.load!.setRate(v.baseRate, step.rampMs);
    if (step.weights) v.load!.setWeights(Object.fromEntries(plan.workload.operations.map((o) => [o.name, o.weight])));
  }
  v.emit({ kind: 'load-change', step: s.name, action: a.kind, rate: v.baseRate, scheduledMs: a.atMs, actualMs: Math.round(actualMs) });
}

/** A real part broke (or Ctrl-C): the variant ends here; what it started is still stopped. */
export function failVariant(v: VariantContext, e: unknown): void {
  v.result.status = v.opts.signal.aborted ? 'interrupted' : 'failed';
  v.result.error = errorFields(e);
  v.events.emit({ kind: 'error', variant: v.variant.name, error: v.result.error });
  v.events.emit({ kind: 'message', line: `variant ${v.variant.name} failed: ${v.result.error.message}` });
}

/** Stops the load and writes its summary (and the history, for checkers). */
export async function stopLoad(v: VariantContext): Promise<void> {
  const load = v.load;
  if (!load) return;
  const summary = await load.stop();
  v.result.load = summary as unknown as Record<string, unknown>;
  v.emit({ kind: 'load-end', summary });
  if (v.plan.workload.history) {
    writeFileSync(path.join(v.variantDir, 'history.jsonl'), load.history?.toJsonLines() ?? '');
    // A set checker writes history.edn itself, in Jepsen's set-workload form (`:add`s and the final `:read`).
    if (v.plan.checker?.type !== 'set') writeFileSync(path.join(v.variantDir, 'history.edn'), load.history?.toEdn() ?? '');
  }
}

/** Checkers read what the run recorded (history, final reads) before the cluster goes away. */
export async function checkVariant(v: VariantContext): Promise<void> {
  const { plan, parts } = v;
  const checked = await runCheckers(plan, {
    history: v.load?.history,
    variantDir: v.variantDir,
    lab: parts.lab.metrics,
    nodeAddress: (group) => {
      const n = plan.nodes.find((x) => x.group === group)!;
      return parts.addresses.addrOf(n.name, n.ports[0]!);
    },
    nodeAddresses: (group) => plan.nodes.filter((x) => x.group === group).map((n) => parts.addresses.addrOf(n.name, n.ports[0]!)),
    projectRoot: v.opts.projectRoot,
    envPath: v.opts.envPath,
    emit: (e) => v.emit(e),
  });
  if (checked) v.result.checkers = checked;
  v.checkedAt = Date.now();
}

/** Every assertion of the variant, from what Prometheus scraped. */
export async function judgeVariant(v: VariantContext): Promise<void> {
  const notScraped = await v.targetsReady;
  if (notScraped) {
    v.events.emit({ kind: 'error', variant: v.variant.name, error: errorFields(notScraped) });
    v.events.emit({ kind: 'message', line: `not every target was scraped: ${errorFields(notScraped).message}` });
  }
  // Let the last scrape land inside the final window (`up` judges nothing: no wait).
  if (v.plan.assertions.length) await sleep(v.scrapeIntervalMs * 2 + 200);
  const prometheus = v.prometheus ?? (await v.parts.prometheus);
  v.result.assertions = await judgeAll(v.plan, prometheus.client, { variant: v.variant.name, control: v.opts.control, t0: v.result.t0, scrapeIntervalMs: v.scrapeIntervalMs, checkedAt: v.checkedAt });
  for (const a of v.result.assertions) {
    const { series: _series, ...judged } = a;
    v.emit({ kind: 'assertion', ...judged });
  }
}

/** Stops the variant's nodes, or hands them to the keeper (the run's end keeps them up, or stops them). */
export async function stopNodes(v: VariantContext, keeper: Keeper | undefined): Promise<void> {
  resetCheckerMetrics(v.parts.lab.metrics);
  // Stop watching before the nodes are stopped; a death seen up to here fails the variant.
  const died = v.watch?.stop();
  if (died && v.result.status === 'completed') failVariant(v, died);
  const { status } = v.result;
  if (keeper && (status === 'completed' || (status === 'interrupted' && v.opts.keep === 'always'))) {
    keeper.nodes = v.nodes;
    keeper.variant = v.variant.name;
    return;
  }
  const stopping = performance.now();
  await Promise.allSettled([...v.nodes.values()].map((n) => n.stop()));
  await resetScaledTargets(v);
  v.emit({ kind: 'cluster-down', stopMs: Math.round(performance.now() - stopping) });
}

/** The verdict, the host's load at the end, and `variant-end`. */
export function closeVariant(v: VariantContext): VariantResult {
  const r = v.result;
  r.passed = r.status === 'completed' && r.assertions.length > 0 && r.assertions.every((a) => a.passed);
  r.hostLoad = { start: r.hostLoad!.start, end: hostLoad() };
  v.emit({ kind: 'host-load', when: 'end', loadavg: r.hostLoad.end });
  v.emit({ kind: 'variant-end', passed: r.passed, status: r.status });
  return r;
}
