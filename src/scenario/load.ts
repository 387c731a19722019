/**
 * Loading = parse → schema → cross-references → plan. Everything a run needs is checked here,
 * before anything starts (Chaos Toolkit's "validate first").
 */
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { formatDuration } from '../common/duration.js';
import { checkPromQL, checkRangeQuery, selectedMetrics } from './promql.js';
import { invalid, loadYamlFile, parseYamlSource, quoted, readSource, shown, type PathSeg, type SourceDoc } from './load-yaml.js';
import { LIMITS } from './limits.js';
import { knownMetrics } from './metric-names.js';
import { coerceSetValue, paramTypeProblem, setFlag } from './params.js';
import { ClusterFile, ScenarioFile, type ClusterFileT, type ScenarioFileT } from './schema.js';
import { faultClaims, isInstantFault, resolveFault, type ResolveContext } from '../fault/registry.js';
import type { AssertionPlan, LinkPlan, NodeInstance, Params, ScenarioPlan, StepPlan, VariantPlan, WindowMs } from './plan.js';

export interface LoadOptions {
  /** `--set group.param=value` overrides, applied after the variant's own. */
  overrides?: Record<string, Params>;
}

/** Own keys only: a name like `constructor` must not find Object.prototype's. */
const has = (o: object, k: string): boolean => Object.hasOwn(o, k);
const own = <T>(o: Record<string, T>, k: string): T | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);

export function loadCluster(file: string): { cluster: ClusterFileT; source: SourceDoc } {
  const { data, source } = loadYamlFile(file, ClusterFile, 'cluster file');
  const problems: LabError[] = [];
  const instances = Object.values(data.nodes).reduce((n, g) => n + g.replicas, 0);
  if (instances > LIMITS.nodeInstances) {
    problems.push(refError(source, ['nodes'], `the cluster has ${instances} node instances (groups × replicas); at most ${LIMITS.nodeInstances} are started`, 'use fewer replicas or groups: each instance is a process or a container on this machine', Errors.InvalidField));
  }
  const groups = new Set(Object.keys(data.nodes));
  if (groups.has(CLIENT)) problems.push(refError(source, ['nodes', CLIENT], `"${CLIENT}" is reserved for the lab's load generator`, 'give the node another name', Errors.InvalidField));
  data.links.forEach((l, i) => {
    for (const end of ['from', 'to'] as const) {
      // `from: client` puts the load generator's traffic to that node through a proxy too.
      if (!groups.has(l[end]) && !(end === 'from' && l[end] === CLIENT)) {
        problems.push(refError(source, ['links', i, end], `link ${end} "${l[end]}" is not a node of this cluster`, `use one of: ${[...groups].join(', ')}`));
      }
    }
    const to = own(data.nodes, l.to);
    if (to && l.port && !to.ports.includes(l.port)) {
      problems.push(refError(source, ['links', i, 'port'], `node "${l.to}" has no port "${l.port}"`, `its ports: ${to.ports.join(', ')}`));
    }
  });
  for (const [m, mit] of Object.entries(data.mitigations)) {
    for (const [group, params] of Object.entries(mit.set)) {
      const node = own(data.nodes, group);
      if (!node) {
        problems.push(refError(source, ['mitigations', m, 'set', group], `mitigation "${m}" sets parameters of "${group}", which is not a node`, `use one of: ${[...groups].join(', ')}`));
        continue;
      }
      for (const [p, value] of Object.entries(params)) {
        if (!has(node.params, p)) {
          problems.push(refError(source, ['mitigations', m, 'set', group, p], `node "${group}" has no parameter "${p}"`, `declare it with a default under nodes.${group}.params, or use one of: ${Object.keys(node.params).join(', ') || '(none)'}`));
          continue;
        }
        const typeProblem = paramTypeProblem(node.params[p]!, value);
        if (typeProblem) problems.push(refError(source, ['mitigations', m, 'set', group, p], `parameter "${p}" of node "${group}": ${typeProblem}`, `the default under nodes.${group}.params sets its type`, Errors.InvalidField));
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

/** The cluster's instances, then per group the spare instances up to `scaledTo` (what `scale` steps may start). */
export function instanceNames(cluster: ClusterFileT, scaledTo: Record<string, number> = {}): NodeInstance[] {
  const out: NodeInstance[] = [];
  for (const [group, n] of Object.entries(cluster.nodes)) {
    for (let i = 1; i <= Math.max(n.replicas, scaledTo[group] ?? 0); i++) {
      const first = n.ports[0]!;
      out.push({
        name: n.replicas === 1 && i === 1 ? group : `${group}-${i}`,
        group,
        index: i,
        command: n.command,
        ports: n.ports,
        healthPath: n.health.path,
        healthPort: n.health.port ?? first,
        healthTimeoutMs: n.health.timeout,
        metricsPath: n.metrics.path,
        metricsPort: n.metrics.port ?? first,
        ...(i > n.replicas ? { spare: true as const } : {}),
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

/**
 * `*` glob match without a regular expression: a pattern like `*a*a*a…b` would make a backtracking
 * regex take exponential time; this greedy matcher is O(pattern × name).
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Selects names by exact name or `*` glob; group names select all their instances. */
function select(patterns: string[], names: { name: string; group?: string }[]): { picked: string[]; unmatched: string[] } {
  const picked = new Set<string>();
  const unmatched: string[] = [];
  for (const p of patterns) {
    const hits = names.filter((n) => globMatch(p, n.name) || (n.group !== undefined && globMatch(p, n.group)));
    if (hits.length === 0) unmatched.push(p);
    for (const h of hits) picked.add(h.name);
  }
  return { picked: [...picked], unmatched };
}

export function loadScenario(file: string, opts: LoadOptions = {}): ScenarioPlan {
  const { data: sc, source } = loadYamlFile(file, ScenarioFile, 'scenario');
  const clusterFile = path.resolve(path.dirname(file), sc.cluster.file);
  let cluster: ClusterFileT;
  let clusterSource: SourceDoc;
  try {
    ({ cluster, source: clusterSource } = loadCluster(clusterFile));
  } catch (e) {
    if (e instanceof LabError && e.code === Errors.FileNotFound.code) {
      throw refError(source, ['cluster', 'file'], `cluster file ${quoted(sc.cluster.file)} not found (looked at ${shown(clusterFile)})`, 'the path is relative to the scenario file, e.g. ../clusters/hello.yaml', Errors.FileNotFound);
    }
    throw e;
  }
  const problems: LabError[] = [];
  // A `scale` step may start instances beyond the replicas: they are planned (ports, names) but start only then.
  const scaledTo: Record<string, number> = {};
  for (const s of sc.timeline) if (s.scale && has(cluster.nodes, s.scale.group)) scaledTo[s.scale.group] = Math.max(scaledTo[s.scale.group] ?? 0, s.scale.to);
  const nodes = instanceNames(cluster, scaledTo);
  if (nodes.length > LIMITS.nodeInstances) {
    const i = sc.timeline.findIndex((s) => s.scale);
    problems.push(refError(source, ['timeline', Math.max(0, i), 'scale', 'to'], `with the scale steps the cluster has ${nodes.length} node instances; at most ${LIMITS.nodeInstances} are started`, 'scale to fewer instances', Errors.InvalidField));
  }
  const links = expandLinks(cluster, nodes);
  const groups = Object.keys(cluster.nodes);
  const variantNames = Object.keys(sc.variants);

  // Parameters: every override must name a declared parameter of a real node, with the type of its default.
  const declaredAt = (group: string, param: string): string => {
    const loc = clusterSource.locate(['nodes', group, 'params', param]);
    return `${path.basename(loc.file)}:${loc.line}`;
  };
  const checkParams = (p: Record<string, Params>, at: PathSeg[]) => {
    for (const [group, params] of Object.entries(p)) {
      const node = own(cluster.nodes, group);
      if (!node) {
        problems.push(refError(source, [...at, group], `"${group}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
        continue;
      }
      for (const [k, value] of Object.entries(params)) {
        if (!has(node.params, k)) {
          problems.push(refError(source, [...at, group, k], `node "${group}" has no parameter "${k}"`, `parameters of ${group}: ${Object.keys(node.params).join(', ') || '(none)'}`));
          continue;
        }
        const typeProblem = paramTypeProblem(node.params[k]!, value);
        if (typeProblem) problems.push(refError(source, [...at, group, k], `parameter "${k}" of node "${group}": ${typeProblem}`, `its type comes from its default in the cluster file (${declaredAt(group, k)})`, Errors.InvalidField));
      }
    }
  };
  checkParams(sc.cluster.params, ['cluster', 'params']);

  // `--set` flags: checked (and their text typed) against the declared defaults.
  const overrides: Record<string, Params> = {};
  for (const [g, ps] of Object.entries(opts.overrides ?? {})) {
    const node = own(cluster.nodes, g);
    for (const [k, raw] of Object.entries(ps)) {
      if (!node || !has(node.params, k)) {
        problems.push(new LabError(Errors.InvalidArgument, `${setFlag(g, k, raw)}: ${node ? `node "${g}" has no parameter "${k}"` : `"${g}" is not a node of cluster ${cluster.name}`}`, { hint: node ? `parameters of ${g}: ${Object.keys(node.params).join(', ') || '(none)'}` : `nodes: ${groups.join(', ')}` }));
        continue;
      }
      const value = coerceSetValue(node.params[k]!, raw);
      const typeProblem = paramTypeProblem(node.params[k]!, value);
      if (typeProblem) {
        problems.push(new LabError(Errors.InvalidArgument, `${setFlag(g, k, raw)}: ${typeProblem}`, { hint: `its type comes from its default in the cluster file (${declaredAt(g, k)}); e.g. --set ${g}.${k}=${typeof node.params[k] === 'boolean' ? 'true' : typeof node.params[k] === 'number' ? String(node.params[k]) : 'text'}` }));
        continue;
      }
      (overrides[g] ??= {})[k] = value;
    }
  }

  const variants: VariantPlan[] = Object.entries(sc.variants).map(([name, v]) => {
    v.mitigations.forEach((m, i) => {
      if (!has(cluster.mitigations, m)) problems.push(refError(source, ['variants', name, 'mitigations', i], `mitigation "${m}" is not defined by cluster ${cluster.name}`, `defined: ${Object.keys(cluster.mitigations).join(', ') || '(none)'}`));
    });
    checkParams(v.params, ['variants', name, 'params']);
    const params: Record<string, Params> = {};
    for (const [g, n] of Object.entries(cluster.nodes)) {
      params[g] = { ...n.params, ...own(sc.cluster.params, g) };
      for (const m of v.mitigations) Object.assign(params[g]!, own(own(cluster.mitigations, m)?.set ?? {}, g) ?? {});
      Object.assign(params[g]!, own(v.params, g) ?? {}, own(overrides, g) ?? {});
    }
    return { name, description: v.description, expect: v.expect, mitigations: v.mitigations, params };
  });

  // Workload target.
  const target = own(cluster.nodes, sc.workload.target.node);
  if (!target) problems.push(refError(source, ['workload', 'target', 'node'], `"${sc.workload.target.node}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
  else if (sc.workload.target.port && !target.ports.includes(sc.workload.target.port)) problems.push(refError(source, ['workload', 'target', 'port'], `node "${sc.workload.target.node}" has no port "${sc.workload.target.port}"`, `its ports: ${target.ports.join(', ')}`));

  // Timeline.
  const steps: StepPlan[] = [];
  const names = new Set<string>();
  sc.timeline.forEach((s, i) => {
    const name = s.name ?? `${s.fault ? s.fault.type : s.scale ? 'scale' : s.action ? 'action' : 'load'}-${i + 1}`;
    if (names.has(name)) problems.push(refError(source, ['timeline', i, 'name'], `two steps are named "${name}"`, 'give each step its own name', Errors.InvalidField));
    names.add(name);
    if (s.at + (s.for ?? 0) > sc.duration) {
      problems.push(refError(source, ['timeline', i, s.for ? 'for' : 'at'], `step "${name}" ends at ${formatDuration(s.at + (s.for ?? 0))}, after the run's duration ${formatDuration(sc.duration)}`, 'move the step earlier, shorten it, or lengthen `duration`', Errors.InvalidField));
    }
    const step: StepPlan = { name, index: i, atMs: s.at, forMs: s.for, inControl: s.control ? s.control === 'keep' : !s.fault && !s.action, ...(s.variants ? { variants: s.variants } : {}) };
    (s.variants ?? []).forEach((v, j) => {
      if (!variantNames.includes(v)) problems.push(refError(source, ['timeline', i, 'variants', j], `"${v}" is not a variant of this scenario`, `variants: ${variantNames.join(', ')}`));
    });
    if (s.scale) {
      if (!has(cluster.nodes, s.scale.group)) problems.push(refError(source, ['timeline', i, 'scale', 'group'], `"${s.scale.group}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
      else step.scale = { group: s.scale.group, to: s.scale.to };
    }
    if (s.load) {
      step.load = { rampMs: s.load.ramp, ...(s.load.rate !== undefined ? { rate: s.load.rate } : {}), ...(s.load.multiply !== undefined ? { multiply: s.load.multiply } : {}), ...(s.load.weights ? { weights: s.load.weights } : {}) };
      const rate = s.load.rate ?? (s.load.multiply !== undefined ? s.load.multiply * sc.workload.rate : undefined);
      if (rate !== undefined && rate > LIMITS.rate) {
        problems.push(refError(source, ['timeline', i, 'load', s.load.rate !== undefined ? 'rate' : 'multiply'], `the step asks for ${+rate.toPrecision(6)} requests per second; at most ${LIMITS.rate} are sent`, 'lower the rate or the multiple', Errors.InvalidField));
      }
      for (const op of Object.keys(s.load.weights ?? {})) {
        if (!sc.workload.operations.some((o) => o.name === op)) problems.push(refError(source, ['timeline', i, 'load', 'weights', op], `no workload operation is named "${op}"`, `operations: ${sc.workload.operations.map((o) => o.name).join(', ')}`));
      }
    }
    if (s.fault) {
      // Toxiproxy takes integer attributes (Go int64): a number past 2^53 cannot reach it exactly.
      let unsafe = false;
      for (const [key, value] of Object.entries(s.fault)) {
        if (typeof value === 'number' && !(Math.abs(value) <= Number.MAX_SAFE_INTEGER)) {
          unsafe = true;
          problems.push(refError(source, ['timeline', i, 'fault', key], `expected at most ${Number.MAX_SAFE_INTEGER}, got ${value}`, 'this is a limit of the lab (README lists them): make it smaller', Errors.InvalidField));
        }
      }
      if (!unsafe) step.fault = resolveFault(s.fault, faultResolver(nodes, links, s.for, (p, msg, hint, code) => problems.push(refError(source, ['timeline', i, ...p], msg, hint, code))));
    }
    if (s.action) {
      const a = s.action;
      const instances = nodes.filter((n) => n.group === a.node || n.name === a.node);
      const port = a.port ?? instances[0]?.ports[0];
      if (!instances.length) problems.push(refError(source, ['timeline', i, 'action', 'node'], `"${a.node}" is not a node of cluster ${cluster.name}`, `use a node group or an instance: ${groups.join(', ')}`));
      else if (!port || !instances[0]!.ports.includes(port)) problems.push(refError(source, ['timeline', i, 'action', 'port'], `node "${a.node}" has no port "${port}"`, `its ports: ${instances[0]!.ports.join(', ')}`));
      else {
        const body = a.body === undefined ? undefined : typeof a.body === 'string' ? { text: a.body, contentType: 'text/plain' } : { text: JSON.stringify(a.body), contentType: 'application/json' };
        step.action = { node: a.node, instances: instances.map((n) => n.name), port, method: a.method, path: a.path, ...(body ? { body } : {}), timeoutMs: a.timeout };
      }
    }
    steps.push(step);
  });
  checkOverlaps(steps, sc.duration, links, (i, msg) => problems.push(refError(source, ['timeline', i], msg, 'faults on one link or node may not overlap in time: move one step, or merge them into one fault', Errors.OverlappingFaults)));

  // Assertions.
  const stepByName = new Map(steps.map((s) => [s.name, s]));
  const firstFault = steps.filter((s) => s.fault || s.action).reduce((m, s) => Math.min(m, s.atMs), sc.duration);
  const assertions: AssertionPlan[] = [];
  const metrics = knownMetrics(cluster);
  sc.assertions.forEach((a, i) => {
    const pq = checkPromQL(a.query);
    if (!pq.ok) {
      const loc = source.locate(['assertions', i, 'query']);
      problems.push(new LabError(Errors.InvalidPromQL, `PromQL does not parse: ${pq.message} (at character ${pq.offset + 1} of ${quoted(a.query, 120)})`, { location: loc, hint: 'check the expression in Prometheus\'s expression browser or with promtool; quote the YAML value if it holds ": " or "#"' }));
    } else {
      const range = checkRangeQuery(a.query);
      if (!range.ok) problems.push(new LabError(Errors.InvalidPromQL, range.message, { location: source.locate(['assertions', i, 'query']), hint: range.hint }));
      if (metrics) {
        const unknown = selectedMetrics(a.query).filter((m) => !metrics.isKnown(m));
        if (unknown.length) {
          problems.push(new LabError(Errors.UnknownMetric, `the query names ${unknown.length > 1 ? 'metrics' : 'a metric'} that nothing in cluster ${cluster.name} or the lab exports: ${unknown.slice(0, 5).map((m) => quoted(m)).join(', ')}`, {
            location: source.locate(['assertions', i, 'query']),
            hint: `check the spelling; ${metrics.suggest(unknown[0]!)}`,
          }));
        }
      }
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
        availability: a.availability,
      });
    }
  });
  if (sc.checker?.type === 'linearizable') {
    const c = sc.checker;
    if (!own(cluster.nodes, c.histories.node)) problems.push(refError(source, ['checker', 'histories', 'node'], `"${c.histories.node}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
  } else if (sc.checker) {
    const c = sc.checker;
    c.adds.forEach((op, i) => {
      if (!sc.workload.operations.some((o) => o.name === op)) problems.push(refError(source, ['checker', 'adds', i], `no workload operation is named "${op}"`, `operations: ${sc.workload.operations.map((o) => o.name).join(', ')}`));
    });
    if (!own(cluster.nodes, c.finalRead.node)) problems.push(refError(source, ['checker', 'finalRead', 'node'], `"${c.finalRead.node}" is not a node of cluster ${cluster.name}`, `use one of: ${groups.join(', ')}`));
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

/** What a fault kind resolves its names against: this cluster's nodes and links, reporting at file:line. */
function faultResolver(
  nodes: NodeInstance[],
  links: LinkPlan[],
  forMs: number | undefined,
  report: (p: PathSeg[], msg: string, hint: string, code?: typeof Errors[keyof typeof Errors]) => void,
): ResolveContext {
  return {
    links,
    forMs,
    pickLinks(pats, at) {
      const { picked, unmatched } = select([...pats], links);
      for (const u of unmatched) report([...at], `no proxied link matches ${quoted(u)}`, `links of this cluster: ${links.map((l) => l.name).join(', ') || '(none: declare links in the cluster file)'}`);
      return picked;
    },
    pickNodes(pats, at, opts) {
      const { picked, unmatched } = select([...pats], opts?.client && links.some((l) => l.from === CLIENT) ? [...nodes, { name: CLIENT, group: CLIENT }] : nodes);
      for (const u of unmatched) report([...at], `no node matches ${quoted(u)}`, `nodes: ${nodes.map((n) => n.name).join(', ')}`);
      return picked;
    },
    problem: (at, msg, hint, code) => report([...at], msg, hint, code),
  };
}

export function checkOverlaps(steps: StepPlan[], durationMs: number, links: LinkPlan[], report: (index: number, msg: string) => void): void {
  const faults = steps.filter((s) => s.fault);
  for (let i = 0; i < faults.length; i++) {
    for (let j = i + 1; j < faults.length; j++) {
      const a = faults[i]!;
      const b = faults[j]!;
      const aEnd = a.forMs !== undefined ? a.atMs + a.forMs : isInstantFault(a.fault!) ? a.atMs : durationMs;
      const bEnd = b.forMs !== undefined ? b.atMs + b.forMs : isInstantFault(b.fault!) ? b.atMs : durationMs;
      const overlap = a.atMs < bEnd && b.atMs < aEnd;
      if (!overlap) continue;
      // Steps of disjoint sets of variants never run together (a counterfactual's own version of a step).
      if (a.variants && b.variants && !a.variants.some((v) => b.variants!.includes(v))) continue;
      const ta = new Set(faultClaims(a.fault!, links));
      const shared = faultClaims(b.fault!, links).filter((t) => ta.has(t));
      if (shared.length) report(b.index, `step "${b.name}" overlaps step "${a.name}" on ${shared.slice(0, 3).map((s) => s.replace(/^\w+:/, '')).join(', ')}${shared.length > 3 ? ` and ${shared.length - 3} more` : ''}`);
    }
  }
}

export type { ScenarioFileT };

export type FileKind = 'scenario' | 'cluster';

/**
 * Whether a file is a scenario or a cluster file, by its content: the `$schema` it names (a
 * `$schema:` key or a `# yaml-language-server: $schema=` line), else its top-level keys (`nodes`
 * make a cluster; `variants`, `assertions`, `incident`, `timeline` or `workload` a scenario).
 * Not by its folder: a cluster file kept beside its scenario is still a cluster file.
 */
export function detectFileKind(file: string): FileKind {
  const { text } = readSource(file);
  const schemaLine = /^#\s*yaml-language-server:\s*\$schema=(\S+)/m.exec(text.slice(0, 4096))?.[1];
  const bySchema = (s: string | undefined): FileKind | undefined => (s === undefined ? undefined : /cluster\.schema\.json$/.test(s) ? 'cluster' : /scenario\.schema\.json$/.test(s) ? 'scenario' : undefined);
  const fromLine = bySchema(schemaLine);
  if (fromLine) return fromLine;
  const { source, value } = parseYamlSource(file, text);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const top = value as Record<string, unknown>;
    const fromKey = bySchema(typeof top.$schema === 'string' ? top.$schema : undefined);
    if (fromKey) return fromKey;
    if (Object.hasOwn(top, 'nodes')) return 'cluster';
    if (['variants', 'assertions', 'incident', 'timeline', 'workload'].some((k) => Object.hasOwn(top, k))) return 'scenario';
  }
  throw new LabError(Errors.InvalidFile, 'cannot tell whether this is a scenario or a cluster file: it has neither `nodes` (a cluster file) nor `variants` and `assertions` (a scenario)', {
    location: { file: source.file, line: 1 },
    hint: 'start it with `# yaml-language-server: $schema=../schema/scenario.schema.json` (or cluster.schema.json), or check that you pointed at the right file',
  });
}

/** Validates a file of either kind, found by its content. */
export function loadAnyFile(file: string): FileKind {
  const kind = detectFileKind(file);
  if (kind === 'cluster') loadCluster(file);
  else loadScenario(file);
  return kind;
}
