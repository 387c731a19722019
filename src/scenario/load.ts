/**
 * Loading = parse → schema → cross-references → plan. Everything a run needs is checked here,
 * before anything starts (Chaos Toolkit's "validate first").
 */
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { formatDuration } from '../common/duration.js';
import { checkPromQL } from './promql.js';
import { invalid, loadYamlFile, type PathSeg, type SourceDoc } from './load-yaml.js';
import { ClusterFile, ScenarioFile, type ClusterFileT, type FaultT, type ScenarioFileT } from './schema.js';
import type { AssertionPlan, FaultSpec, LinkPlan, NodeInstance, Params, ScenarioPlan, StepPlan, VariantPlan, WindowMs } from './plan.js';

export interface LoadOptions {
  /** `--set group.param=value` overrides, applied after the variant's own. */
  overrides?: Record<string, Params>;
}

export function loadCluster(file: string): { cluster: ClusterFileT; source: SourceDoc } {
  const { data, source } = loadYamlFile(file, ClusterFile, 'cluster file');
  const problems: LabError[] = [];
  const groups = new Set(Object.keys(data.nodes));
  if (groups.has(CLIENT)) problems.push(refError(source, ['nodes', CLIENT], `"${CLIENT}" is reserved for the lab's load generator`, 'give the node another name', Errors.InvalidField));
  data.links.forEach((l, i) => {
    for (const end of ['from', 'to'] as const) {
      // `from: client` puts the load generator's traffic to that node through a proxy too.
      if (!groups.has(l[end]) && !(end === 'from' && l[end] === CLIENT)) {
        problems.push(refError(source, ['links', i, end], `link ${end} "${l[end]}" is not a node of this cluster`, `use one of: ${[...groups].join(', ')}`));
      }
    }
    const to = data.nodes[l.to];
    if (to && l.port && !to.ports.includes(l.port)) {
      problems.push(refError(source, ['links', i, 'port'], `node "${l.to}" has no port "${l.port}"`, `its ports: ${to.ports.join(', ')}`));
    }
  });
  for (const [m, mit] of Object.entries(data.mitigations)) {
    for (const [group, params] of Object.entries(mit.set)) {
      const node = data.nodes[group];
      if (!node) {
        problems.push(refError(source, ['mitigations', m, 'set', group], `mitigation "${m}" sets parameters of "${group}", which is not a node`, `use one of: ${[...groups].join(', ')}`));
        continue;
      }
      for (const p of Object.keys(params)) {
        if (!(p in node.params)) {
          problems.push(refError(source, ['mitigations', m, 'set', group, p], `node "${group}" has no parameter "${p}"`, `declare it with a default under nodes.${group}.params, or use one of: ${Object.keys(node.params).join(', ') || '(none)'}`));
        }
      }
    }
  }
  for (const [g, node] of Object.entries(data.nodes)) {
    for (const [field, port] of [['health', node.health.port], ['metrics', node.metrics.port]] as const) {
      if (port && !node.ports.includes(port)) problems.push(refError(source, ['nodes', g, field, 'port'], `node "${g}" has no port "${port}"`, `its ports: ${node.ports.join(', ')}`));
    }
  }
  if (problems.length) throw invalid(file, 'cluster file', problems);
  return { cluster: data, source };
}

function refError(source: SourceDoc, p: PathSeg[], message: string, hint: string, code: typeof Errors[keyof typeof Errors] = Errors.UnknownReference): LabError {
  return new LabError(code, message, { location: source.locate(p), hint });
}

export function instanceNames(cluster: ClusterFileT): NodeInstance[] {
  const out: NodeInstance[] = [];
  for (const [group, n] of Object.entries(cluster.nodes)) {
    for (let i = 1; i <= n.replicas; i++) {
      const first = n.ports[0]!;
      out.push({
        name: n.replicas === 1 ? group : `${group}-${i}`,
        group,
        index: i,
        command: n.command,
        ports: n.ports,
        healthPath: n.health.path,
        healthPort: n.health.port ?? first,
        healthTimeoutMs: n.health.timeout,
        metricsPath: n.metrics.path,
        metricsPort: n.metrics.port ?? first,
      });
    }
  }
  return out;
}

/** The reserved name of the lab's load generator as the source of links (`from: client`). */
export const CLIENT = 'client';

export function expandLinks(cluster: ClusterFileT, nodes: NodeInstance[]): LinkPlan[] {
  const out: LinkPlan[] = [];
  for (const l of cluster.links) {
    const froms = l.from === CLIENT ? [{ name: CLIENT, group: CLIENT }] : nodes.filter((n) => n.group === l.from);
    const tos = nodes.filter((n) => n.group === l.to);
    for (const f of froms) for (const t of tos) {
      if (f.name === t.name) continue; // `from: broker, to: broker` links each broker to the others
      out.push({ name: `${f.name}_to_${t.name}`, from: f.name, to: t.name, fromGroup: f.group, toGroup: t.group, port: l.port ?? t.ports[0]! });
    }
  }
  return out;
}

const globRe = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** Selects names by exact name or `*` glob; group names select all their instances. */
function select(patterns: string[], names: { name: string; group?: string }[]): { picked: string[]; unmatched: string[] } {
  const picked = new Set<string>();
  const unmatched: string[] = [];
  for (const p of patterns) {
    const re = globRe(p);
    const hits = names.filter((n) => re.test(n.name) || (n.group !== undefined && re.test(n.group)));
    if (hits.length === 0) unmatched.push(p);
    for (const h of hits) picked.add(h.name);
  }
  return { picked: [...picked], unmatched };
}

export function loadScenario(file: string, opts: LoadOptions = {}): ScenarioPlan {
  const { data: sc, source } = loadYamlFile(file, ScenarioFile, 'scenario');
  const clusterFile = path.resolve(path.dirname(file), sc.cluster.file);
  let cluster: ClusterFileT;
  try {
    cluster = loadCluster(clusterFile).cluster;
  } catch (e) {
    if (e instanceof LabError && e.code === Errors.FileNotFound.code) {
      throw refError(source, ['cluster', 'file'], `cluster file ${sc.cluster.file} not found (looked at ${clusterFile})`, 'the path is relative to the scenario file, e.g. ../clusters/hello.yaml', Errors.FileNotFound);
    }
    throw e;
  }
  const problems: LabError[] = [];
  const nodes = instanceNames(cluster);
  const links = expandLinks(cluster, nodes);
  const groups = Object.keys(cluster.nodes);
  const variantNames = Object.keys(sc.variants);

  // Parameters: every override must name a declared parameter of a real node.
  const checkParams = (p: Record<string, Params>, at: PathSeg[]) => {
    for (const [group, params] of Object.entries(p)) {
      const node = cluster.nodes[group];
      if (!node) {
        problems.push(refError(source, [...at, group], `"${group}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
        continue;
      }
      for (const k of Object.keys(params)) {
        if (!(k in node.params)) problems.push(refError(source, [...at, group, k], `node "${group}" has no parameter "${k}"`, `parameters of ${group}: ${Object.keys(node.params).join(', ') || '(none)'}`));
      }
    }
  };
  checkParams(sc.cluster.params, ['cluster', 'params']);

  const variants: VariantPlan[] = Object.entries(sc.variants).map(([name, v]) => {
    v.mitigations.forEach((m, i) => {
      if (!cluster.mitigations[m]) problems.push(refError(source, ['variants', name, 'mitigations', i], `mitigation "${m}" is not defined by cluster ${cluster.name}`, `defined: ${Object.keys(cluster.mitigations).join(', ') || '(none)'}`));
    });
    checkParams(v.params, ['variants', name, 'params']);
    const params: Record<string, Params> = {};
    for (const [g, n] of Object.entries(cluster.nodes)) {
      params[g] = { ...n.params, ...sc.cluster.params[g] };
      for (const m of v.mitigations) Object.assign(params[g]!, cluster.mitigations[m]?.set[g] ?? {});
      Object.assign(params[g]!, v.params[g] ?? {}, opts.overrides?.[g] ?? {});
    }
    return { name, description: v.description, expect: v.expect, mitigations: v.mitigations, params };
  });
  if (opts.overrides) {
    for (const [g, ps] of Object.entries(opts.overrides)) {
      const node = cluster.nodes[g];
      for (const k of Object.keys(ps)) {
        if (!node || !(k in node.params)) {
          problems.push(new LabError(Errors.InvalidArgument, `--set ${g}.${k}: ${node ? `node "${g}" has no parameter "${k}"` : `"${g}" is not a node`}`, { hint: node ? `parameters of ${g}: ${Object.keys(node.params).join(', ')}` : `nodes: ${groups.join(', ')}` }));
        }
      }
    }
  }

  // Workload target.
  const target = cluster.nodes[sc.workload.target.node];
  if (!target) problems.push(refError(source, ['workload', 'target', 'node'], `"${sc.workload.target.node}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
  else if (sc.workload.target.port && !target.ports.includes(sc.workload.target.port)) problems.push(refError(source, ['workload', 'target', 'port'], `node "${sc.workload.target.node}" has no port "${sc.workload.target.port}"`, `its ports: ${target.ports.join(', ')}`));

  // Timeline.
  const steps: StepPlan[] = [];
  const names = new Set<string>();
  sc.timeline.forEach((s, i) => {
    const name = s.name ?? `${s.fault ? s.fault.type : 'load'}-${i + 1}`;
    if (names.has(name)) problems.push(refError(source, ['timeline', i, 'name'], `two steps are named "${name}"`, 'give each step its own name', Errors.InvalidField));
    names.add(name);
    if (s.at + (s.for ?? 0) > sc.duration) {
      problems.push(refError(source, ['timeline', i, s.for ? 'for' : 'at'], `step "${name}" ends at ${formatDuration(s.at + (s.for ?? 0))}, after the run's duration ${formatDuration(sc.duration)}`, 'move the step earlier, shorten it, or lengthen `duration`', Errors.InvalidField));
    }
    const step: StepPlan = { name, index: i, atMs: s.at, forMs: s.for, inControl: s.control ? s.control === 'keep' : !s.fault };
    if (s.load) {
      step.load = { rampMs: s.load.ramp, ...(s.load.rate !== undefined ? { rate: s.load.rate } : {}), ...(s.load.multiply !== undefined ? { multiply: s.load.multiply } : {}), ...(s.load.weights ? { weights: s.load.weights } : {}) };
      for (const op of Object.keys(s.load.weights ?? {})) {
        if (!sc.workload.operations.some((o) => o.name === op)) problems.push(refError(source, ['timeline', i, 'load', 'weights', op], `no workload operation is named "${op}"`, `operations: ${sc.workload.operations.map((o) => o.name).join(', ')}`));
      }
    }
    if (s.fault) {
      const f = resolveFault(s.fault, nodes, links, (p, msg, hint) => problems.push(refError(source, ['timeline', i, 'fault', ...p], msg, hint)));
      if (f) step.fault = f;
      if (s.fault.type === 'pause' && s.for === undefined) problems.push(refError(source, ['timeline', i], 'a pause needs `for` (how long the node stays paused)', 'add for: 10s', Errors.InvalidField));
      if (s.fault.type === 'restart' && s.for !== undefined) problems.push(refError(source, ['timeline', i, 'for'], 'a restart is instantaneous and takes no `for`', 'remove `for`, or use `kill` with `for` to keep a node down for a while', Errors.InvalidField));
    }
    steps.push(step);
  });
  checkOverlaps(steps, sc.duration, links, (i, msg) => problems.push(refError(source, ['timeline', i], msg, 'faults on one link or node may not overlap in time: move one step, or merge them into one fault', Errors.OverlappingFaults)));

  // Assertions.
  const stepByName = new Map(steps.map((s) => [s.name, s]));
  const firstFault = steps.filter((s) => s.fault).reduce((m, s) => Math.min(m, s.atMs), sc.duration);
  const assertions: AssertionPlan[] = [];
  sc.assertions.forEach((a, i) => {
    const pq = checkPromQL(a.query);
    if (!pq.ok) {
      const loc = source.locate(['assertions', i, 'query']);
      problems.push(new LabError(Errors.InvalidPromQL, `PromQL does not parse: ${pq.message} (at character ${pq.offset + 1} of "${a.query}")`, { location: loc, hint: 'check the expression in Prometheus\'s expression browser or with promtool; quote the YAML value if it holds ": " or "#"' }));
    }
    for (const v of [...Object.keys(a.expect).filter((k) => k !== 'control'), ...(a.variants ?? [])]) {
      if (!variantNames.includes(v)) problems.push(refError(source, ['assertions', i, a.variants?.includes(v) ? 'variants' : 'expect'], `"${v}" is not a variant of this scenario`, `variants: ${variantNames.join(', ')}`));
    }
    const w = a.window;
    let window: WindowMs | undefined;
    if (w === 'steady') {
      window = { startMs: sc.warmup, endMs: firstFault, label: 'steady state' };
      if (firstFault <= sc.warmup) problems.push(refError(source, ['assertions', i, 'window'], `the steady-state window is empty: the first fault starts at ${formatDuration(firstFault)}, before the warmup ends (${formatDuration(sc.warmup)})`, 'start the first fault later or shorten warmup', Errors.InvalidField));
    } else if (w === 'whole') {
      window = { startMs: sc.warmup, endMs: sc.duration, label: 'whole run' };
    } else if (w === 'final') {
      window = { startMs: sc.duration, endMs: sc.duration, label: 'after the run (checkers)', final: true };
    } else if ('during' in w || 'after' in w) {
      const ref = 'during' in w ? w.during : w.after;
      const s = stepByName.get(ref);
      if (!s) {
        problems.push(refError(source, ['assertions', i, 'window', 'during' in w ? 'during' : 'after'], `no timeline step is named "${ref}"`, `steps: ${[...stepByName.keys()].join(', ') || '(none)'}`));
      } else {
        const end = s.forMs !== undefined ? s.atMs + s.forMs : 'during' in w ? sc.duration : s.atMs;
        window = 'during' in w
          ? { startMs: s.atMs + w.skip, endMs: end, label: `during ${ref}` }
          : { startMs: end + w.skip, endMs: w.for !== undefined ? Math.min(sc.duration, end + w.skip + w.for) : sc.duration, label: `after ${ref}` };
      }
    } else {
      window = { startMs: w.from, endMs: w.to, label: `${formatDuration(w.from)}–${formatDuration(w.to)}` };
      if (w.to > sc.duration) problems.push(refError(source, ['assertions', i, 'window', 'to'], `the window ends after the run (${formatDuration(sc.duration)})`, 'end it within `duration`', Errors.InvalidField));
    }
    if (window && !window.final && window.endMs - window.startMs < 1000) {
      problems.push(refError(source, ['assertions', i, 'window'], `the window ${window.label} is ${formatDuration(Math.max(0, window.endMs - window.startMs))} long; at least 1s is needed to see a scrape`, 'widen the window (less skip, a longer step)', Errors.InvalidField));
    }
    const m = /^\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$/.exec(a.condition)!;
    if (window) {
      assertions.push({
        name: a.name,
        description: a.description,
        query: a.query,
        window,
        comparator: m[1] as AssertionPlan['comparator'],
        threshold: Number(m[2]),
        over: a.over,
        recoverWithinMs: a.recoverWithin,
        expect: a.expect,
        variants: a.variants ?? variantNames,
      });
    }
  });
  if (sc.checker) {
    const c = sc.checker;
    c.adds.forEach((op, i) => {
      if (!sc.workload.operations.some((o) => o.name === op)) problems.push(refError(source, ['checker', 'adds', i], `no workload operation is named "${op}"`, `operations: ${sc.workload.operations.map((o) => o.name).join(', ')}`));
    });
    if (!cluster.nodes[c.finalRead.node]) problems.push(refError(source, ['checker', 'finalRead', 'node'], `"${c.finalRead.node}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
    if (!sc.workload.history) problems.push(refError(source, ['checker'], 'a set checker needs the workload history', 'add `history: true` under workload', Errors.InvalidField));
  }
  const assertionNames = new Set<string>();
  sc.assertions.forEach((a, i) => {
    if (assertionNames.has(a.name)) problems.push(refError(source, ['assertions', i, 'name'], `two assertions are named "${a.name}"`, 'names identify assertions in reports and junit.xml: make them unique', Errors.InvalidField));
    assertionNames.add(a.name);
  });

  // Nodes that may exit on their own (run-hardening): names and globs, like a fault's `nodes`.
  const mayDie = sc.mayDie ? select(sc.mayDie, nodes) : undefined;
  for (const p of mayDie?.unmatched ?? []) problems.push(refError(source, ['mayDie'], `"${p}" matches no node of cluster ${cluster.name}`, `nodes: ${nodes.map((n) => n.name).join(', ')}`));

  if (problems.length) throw invalid(file, 'scenario', problems);
  return {
    file,
    id: sc.id,
    title: sc.title,
    description: sc.description,
    incident: sc.incident,
    clusterFile,
    cluster,
    nodes,
    links,
    variants,
    workload: sc.workload,
    durationMs: sc.duration,
    warmupMs: sc.warmup,
    steps,
    checker: sc.checker,
    assertions,
    ...(mayDie ? { mayDie: mayDie.picked } : {}),
  };
}

function resolveFault(
  f: FaultT,
  nodes: NodeInstance[],
  links: LinkPlan[],
  report: (p: PathSeg[], msg: string, hint: string) => void,
): FaultSpec | undefined {
  const pickLinks = (pats: string[]): string[] => {
    const { picked, unmatched } = select(pats, links);
    for (const u of unmatched) report(['links'], `no proxied link matches "${u}"`, `links of this cluster: ${links.map((l) => l.name).join(', ') || '(none: declare links in the cluster file)'}`);
    return picked;
  };
  const pickNodes = (pats: string[], at: PathSeg[]): string[] => {
    const { picked, unmatched } = select(pats, at[0] === 'groups' && links.some((l) => l.from === CLIENT) ? [...nodes, { name: CLIENT, group: CLIENT }] : nodes);
    for (const u of unmatched) report(at, `no node matches "${u}"`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
    return picked;
  };
  switch (f.type) {
    case 'latency':
      return { type: 'latency', links: pickLinks(f.links), latencyMs: f.latency, jitterMs: f.jitter, stream: f.stream, toxicity: f.toxicity };
    case 'bandwidth':
      return { type: 'bandwidth', links: pickLinks(f.links), rateKBps: f.rate, stream: f.stream, toxicity: f.toxicity };
    case 'timeout':
      return { type: 'timeout', links: pickLinks(f.links), timeoutMs: f.timeout, stream: f.stream, toxicity: f.toxicity };
    case 'reset_peer':
      return { type: 'reset_peer', links: pickLinks(f.links), timeoutMs: f.timeout, stream: f.stream, toxicity: f.toxicity };
    case 'slow_close':
      return { type: 'slow_close', links: pickLinks(f.links), delayMs: f.delay, stream: f.stream, toxicity: f.toxicity };
    case 'slicer':
      return { type: 'slicer', links: pickLinks(f.links), averageSize: f.averageSize, sizeVariation: f.sizeVariation, delayUs: f.delay * 1000, stream: f.stream, toxicity: f.toxicity };
    case 'limit_data':
      return { type: 'limit_data', links: pickLinks(f.links), bytes: f.bytes, stream: f.stream, toxicity: f.toxicity };
    case 'down':
      return { type: 'down', links: pickLinks(f.links) };
    case 'partition': {
      const groups = f.groups.map((g, gi) => pickNodes(g, ['groups', gi]));
      const seen = new Set<string>();
      groups.flat().forEach((n) => {
        if (seen.has(n)) report(['groups'], `node "${n}" is in two partition groups`, 'each node may be on one side only');
        seen.add(n);
      });
      return { type: 'partition', groups, oneWay: f.oneWay, mode: f.mode };
    }
    case 'kill':
      return { type: 'kill', nodes: pickNodes(f.nodes, ['nodes']), signal: f.signal };
    case 'restart':
      return { type: 'restart', nodes: pickNodes(f.nodes, ['nodes']) };
    case 'pause':
      return { type: 'pause', nodes: pickNodes(f.nodes, ['nodes']) };
    case 'clock':
      return { type: 'clock', nodes: pickNodes(f.nodes, ['nodes']), offsetMs: f.offset };
  }
}

/** What a fault touches: proxies for link faults, nodes for node faults. Clock offsets are their own target. */
export function faultTargets(f: FaultSpec, links: LinkPlan[]): string[] {
  switch (f.type) {
    case 'partition': {
      const side = new Map<string, number>();
      f.groups.forEach((g, i) => g.forEach((n) => side.set(n, i)));
      return links
        .filter((l) => {
          const a = side.get(l.from);
          const b = side.get(l.to);
          return a !== undefined && b !== undefined && a !== b && (!f.oneWay || a === 0);
        })
        .map((l) => `link:${l.name}`);
    }
    case 'kill':
    case 'restart':
    case 'pause':
      return f.nodes.map((n) => `node:${n}`);
    case 'clock':
      return f.nodes.map((n) => `clock:${n}`);
    default:
      return f.links.map((l) => `link:${l}`);
  }
}

export function checkOverlaps(steps: StepPlan[], durationMs: number, links: LinkPlan[], report: (index: number, msg: string) => void): void {
  const faults = steps.filter((s) => s.fault);
  for (let i = 0; i < faults.length; i++) {
    for (let j = i + 1; j < faults.length; j++) {
      const a = faults[i]!;
      const b = faults[j]!;
      const aEnd = a.forMs !== undefined ? a.atMs + a.forMs : a.fault!.type === 'restart' ? a.atMs : durationMs;
      const bEnd = b.forMs !== undefined ? b.atMs + b.forMs : b.fault!.type === 'restart' ? b.atMs : durationMs;
      const overlap = a.atMs < bEnd && b.atMs < aEnd;
      if (!overlap) continue;
      const ta = new Set(faultTargets(a.fault!, links));
      const shared = faultTargets(b.fault!, links).filter((t) => ta.has(t));
      if (shared.length) report(b.index, `step "${b.name}" overlaps step "${a.name}" on ${shared.slice(0, 3).map((s) => s.replace(/^\w+:/, '')).join(', ')}${shared.length > 3 ? ` and ${shared.length - 3} more` : ''}`);
    }
  }
}

export type { ScenarioFileT };
