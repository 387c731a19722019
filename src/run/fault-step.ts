/**
 * The fault step: applying and healing a timeline step's fault through the fault registry (src/fault), the
 * one place that knows the kinds.
 */
import type { FaultSpec, StepPlan } from '../scenario/plan.js';
import { applyFault, describeFault, faultTargets } from '../fault/registry.js';
import type { ActiveFault, VariantContext } from './context.js';
import { errorFields } from './errors.js';
import type { ScheduledAction } from './timeline.js';
import { withScheduledExits } from './part-watch.js';
import { describeForeign } from '../fault/proxy-guard.js';
import { nodeClock } from '../runtime/fake-clock.js';

/** One line for the journal and the terminal, e.g. `latency 800ms±50ms downstream on frontend_to_backend`. */
export function describeStepFault(fault: FaultSpec): string {
  return describeFault(fault);
}

const tenth = (ms: number): number => Math.round(ms * 10) / 10;

export async function performFaultStep(v: VariantContext, a: ScheduledAction, actualMs: number): Promise<void> {
  const s: StepPlan = a.step;
  const fault = s.fault!;
  const description = describeStepFault(fault);
  const rec = v.faultRecords.get(s.name) ?? { step: s.name, description, scheduledMs: s.atMs, appliedMs: null, healScheduledMs: s.forMs !== undefined ? s.atMs + s.forMs : null, healedMs: null };
  v.faultRecords.set(s.name, rec);
  if (a.kind === 'apply') {
    // Journaled before it is applied: a crash mid-apply still shows what was attempted.
    v.emit({ kind: 'fault-apply', step: s.name, fault, description, scheduledMs: a.atMs });
    try {
      const { plan } = v;
      const addrOf = v.parts.addresses.addrOf;
      let observed: Record<string, number> | undefined;
      // A kill or restart step schedules the exits it causes: the part watch lets those through.
      const heal = await withScheduledExits(v.watch, fault, () =>
        applyFault(fault, {
          toxiproxy: v.parts.toxiproxy.client,
          faultId: `${s.index}-${s.name}`,
          links: plan.links,
          nodes: v.nodes,
          nodeAddress: (n) => addrOf(n, plan.nodes.find((x) => x.name === n)!.ports[0]!),
          clock: (n) => nodeClock(v.nodes.get(n)),
          observe: (facts) => void (observed = { ...observed, ...facts }),
        }),
      );
      const appliedMs = performance.now() - v.t0Perf;
      rec.appliedMs = tenth(appliedMs);
      const targets = faultTargets(fault);
      v.active.set(s.name, { heal, description, fault, targets, sinceMs: appliedMs, healAtMs: rec.healScheduledMs });
      if (v.phase === 'steady' || v.phase === 'recovery') v.setPhase('fault');
      v.emit({ kind: 'fault-applied', step: s.name, scheduledMs: a.atMs, actualMs: rec.appliedMs, skewMs: tenth(actualMs - a.atMs), description, faultType: fault.type, targets, ...(observed ? { observed } : {}) });
      await checkForeign(v, `step ${s.name}`);
    } catch (e) {
      rec.error = errorFields(e).message;
      v.emit({ kind: 'fault-error', step: s.name, action: 'apply', error: errorFields(e), description, skewMs: tenth(actualMs - a.atMs) });
      throw e;
    }
  } else {
    const entry = v.active.get(s.name);
    if (!entry) return;
    v.emit({ kind: 'fault-heal', step: s.name, scheduledMs: a.atMs });
    await entry.heal();
    v.active.delete(s.name);
    rec.healedMs = tenth(performance.now() - v.t0Perf);
    if (v.active.size === 0) v.setPhase('recovery');
    v.emit({ kind: 'fault-healed', step: s.name, scheduledMs: a.atMs, actualMs: rec.healedMs, skewMs: tenth(actualMs - a.atMs), description, faultType: fault.type, targets: entry.targets });
    await checkForeign(v, `heal of ${s.name}`);
  }
}

/** The variant's teardown: heals whatever is still on, whatever happened before. */
export async function healActiveFaults(v: VariantContext): Promise<void> {
  for (const [step, a] of v.active) {
    try {
      await a.heal();
      v.emit({ kind: 'fault-healed', step, final: true, description: a.description, faultType: a.fault.type, targets: a.targets });
    } catch (e) {
      v.emit({ kind: 'fault-error', step, action: 'heal', error: errorFields(e) });
    }
  }
  v.active.clear();
}

export type { ActiveFault };

/** Removes proxies and toxics the lab did not make, and says so. A failed check means Toxiproxy is gone: the watch reports that. */
export async function checkForeign(v: VariantContext, when: string): Promise<void> {
  for (const f of await v.guard.check().catch(() => [])) {
    v.emit({ kind: 'foreign-removed', ...f, when });
    v.events.emit({ kind: 'message', line: describeForeign(f) });
  }
}
