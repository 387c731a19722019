/**
 * The fault functions of the runner before the fault registry (branch `fault-registry`), moved here unchanged
 * (only `export` added). The runner calls them from one place, the fault step (variant-steps.ts `applyStepFault`,
 * `describeStepFault`, `faultTargets`), so the registry replaces them in one spot.
 */
import { formatDuration } from '../common/duration.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { applyLinkFault, describeFault, type AppliedFault, type LinkFaultSpec } from '../fault/link-faults.js';
import type { StartedToxiproxy } from '../fault/toxiproxy-server.js';
import type { StartedNode } from '../runtime/runtime.js';
import type { FaultSpec, NodeFaultSpec, ScenarioPlan, StepPlan } from '../scenario/plan.js';

export function faultLabels(f: FaultSpec): string[] {
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

export async function applyFault(
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

export function isNodeFault(f: FaultSpec): f is NodeFaultSpec {
  return f.type === 'kill' || f.type === 'restart' || f.type === 'pause' || f.type === 'clock';
}

export async function applyNodeFault(f: NodeFaultSpec, nodes: Map<string, StartedNode>, plan: ScenarioPlan, addrOf: (instance: string, port: string) => string): Promise<() => Promise<void>> {
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
