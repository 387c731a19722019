/**
 * The scale step: a node group runs more (or fewer) instances for a while, as an operator pre-scales for a
 * predictable spike (Uber's New Year's Eve). Instances beyond the cluster's replicas were planned with the run
 * (names, ports: `spare` in the plan) and start only here, through the same runtime path as every node
 * (`startNode`: `Runtime.start` + the shared health wait), so the process and Docker runtimes need nothing more; a
 * runtime that scales differently (Kubernetes replicas) maps the same two calls.
 *
 * What the lab does, and what it leaves to the toy: the lab starts and stops the instances, adds them to (and
 * removes them from) Prometheus's file_sd targets, and watches them (a scaled-in instance the lab stopped is not
 * a dead node). Their peers learn of them only through the toy's own membership: no one's config is rewritten.
 * A scale-in is a graceful stop (SIGTERM, then the toy drains); the lowest-numbered instances stay.
 */
import type { ScrapeTarget } from '../observe/scrape-targets.js';
import type { NodeInstance, ScaleSpec } from '../scenario/plan.js';
import type { StartedNode } from '../runtime/runtime.js';
import type { VariantContext } from './context.js';
import { errorFields } from './errors.js';
import type { ErrorFields } from './events.js';
import type { ScheduledAction } from './timeline.js';
import { nodeTarget } from './topology.js';
import { startNode } from './variant-steps.js';

/** The group's instances to start and to stop to reach `to` (pure: the plan's instances in index order, and which run). */
export function scalePlan(instances: readonly NodeInstance[], running: (name: string) => boolean, to: number): { start: NodeInstance[]; stop: NodeInstance[] } {
  const ordered = [...instances].sort((a, b) => a.index - b.index);
  return {
    start: ordered.slice(0, to).filter((n) => !running(n.name)),
    stop: ordered.slice(to).filter((n) => running(n.name)),
  };
}

/**
 * The group's size a step asks for: its `to` when applied; at its heal, the size the group had before the step
 * was applied (not the cluster's replicas: a later step may have changed it), or the current size if it never was.
 */
export function scaleGoal(action: 'apply' | 'heal', to: number, before: number | undefined, current: number): number {
  return action === 'apply' ? to : (before ?? current);
}

/** The scrape targets: the run's fixed ones with the node targets of the instances running now. */
export function scaledTargets(base: readonly ScrapeTarget[], nodes: readonly NodeInstance[], running: (name: string) => boolean, innerAddrOf: (instance: string, port: string) => string): ScrapeTarget[] {
  return [...base.filter((t) => t.labels['job'] !== 'node'), ...nodes.filter((n) => running(n.name)).map((n) => nodeTarget(n, innerAddrOf))];
}

interface ScaleState {
  /** The group's size before each applied step, to go back to at its heal. */
  before: Map<string, number>;
  changed: boolean;
}
const states = new WeakMap<VariantContext, ScaleState>();
const stateOf = (v: VariantContext): ScaleState => {
  let s = states.get(v);
  if (!s) states.set(v, (s = { before: new Map(), changed: false }));
  return s;
};

export async function performScaleStep(v: VariantContext, a: ScheduledAction, actualMs: number): Promise<void> {
  const s = a.step;
  const spec: ScaleSpec = s.scale!;
  const state = stateOf(v);
  const instances = v.plan.nodes.filter((n) => n.group === spec.group);
  const running = (name: string) => v.nodes.has(name);
  const from = instances.filter((n) => running(n.name)).length;
  const to = scaleGoal(a.kind, spec.to, state.before.get(s.name), from);
  if (a.kind === 'apply') state.before.set(s.name, from);
  const { start, stop } = scalePlan(instances, running, to);
  const began = performance.now();
  let error: ErrorFields | undefined;
  try {
    // Out of the targets and the watch first: a stopping instance is neither scraped as down nor a death.
    for (const n of stop) v.watch?.remove(n.name);
    const stopping = stop.map((n) => v.nodes.get(n.name)!);
    for (const n of stop) v.nodes.delete(n.name);
    state.changed = true;
    if (stop.length) await setTargets(v);
    await Promise.all(stopping.map((node: StartedNode) => node.stop()));
    const started = await Promise.allSettled(start.map((n) => startNode(v, n)));
    for (const [i, r] of started.entries()) {
      const node = r.status === 'fulfilled' ? r.value : v.nodes.get(start[i]!.name);
      if (node) v.watch?.add(node);
    }
    if (start.length) await setTargets(v);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    error = errorFields(e);
    throw e;
  } finally {
    v.emit({
      kind: 'scale',
      step: s.name,
      action: a.kind,
      group: spec.group,
      from,
      to,
      scheduledMs: a.atMs,
      actualMs: Math.round(actualMs),
      started: start.map((n) => n.name),
      stopped: stop.map((n) => n.name),
      readyMs: Math.round(performance.now() - began),
      ...(error ? { error } : {}),
    });
    v.events.emit({ kind: 'message', line: `scale ${spec.group}: ${from} → ${to} instances (step ${s.name}${error ? `, failed: ${error.message}` : ''})` });
  }
}

async function setTargets(v: VariantContext): Promise<void> {
  const prometheus = v.prometheus ?? (await v.parts.prometheus);
  const { targets, innerAddrOf } = v.parts.addresses;
  await prometheus.setTargets(scaledTargets(targets, v.plan.nodes, (name) => v.nodes.has(name), innerAddrOf));
}

/** After a variant that scaled, the next one starts with the run's own target list. */
export async function resetScaledTargets(v: VariantContext): Promise<void> {
  if (!states.get(v)?.changed) return;
  const prometheus = v.prometheus ?? (await v.parts.prometheus);
  await prometheus.setTargets(v.parts.addresses.targets);
}
