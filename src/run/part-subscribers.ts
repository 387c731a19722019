/**
 * Subscribers for the parts the run itself starts: the lab's own metrics (phase, active faults, target rate) and
 * the lab's spans. The journal's subscriber is in journal.ts, the terminal's in reporter.ts; the report writers are
 * injected (subscribers.ts).
 */
import type { LabMetrics } from '../observe/lab-metrics.js';
import type { LabTracing, VariantTrace } from '../trace/lab-tracing.js';
import type { RunSubscriber } from './events.js';

export function labMetricsSubscriber(metrics: LabMetrics): RunSubscriber {
  return {
    name: 'lab-metrics',
    phase: (e) => metrics.setPhase(e.phase),
    'load-start': (e) => metrics.setTargetRate(e.rate),
    'load-change': (e) => metrics.setTargetRate(e.rate),
    'fault-applied': (e) => {
      for (const t of e.targets) metrics.setFaultActive(e.faultType, t, true);
    },
    'fault-healed': (e) => {
      for (const t of e.targets) metrics.setFaultActive(e.faultType, t, false);
    },
  };
}

/** The lab's spans: one per variant, its phases and faults. `variant(name)` hands out the variant's trace for the load. */
/** `tracing()`: the lab's tracing once it loaded (it loads while the parts start, before any variant). */
export function tracingSubscriber(tracing: () => LabTracing): RunSubscriber & { variant(name: string): VariantTrace | undefined } {
  const variants = new Map<string, VariantTrace>();
  return {
    name: 'tracing',
    variant: (name) => variants.get(name),
    'variant-start': (e) => {
      variants.set(e.variant, tracing().variant(e.variant, { expect: e.expect, mitigations: e.mitigations }));
    },
    phase: (e) => variants.get(e.variant)?.phase(e.phase),
    'fault-apply': (e) => variants.get(e.variant)?.faultStart(e.step, e.fault, e.description),
    'fault-healed': (e) => variants.get(e.variant)?.faultEnd(e.step),
    'fault-error': (e) => {
      if (e.action === 'apply') variants.get(e.variant)?.faultEnd(e.step, e.error.message);
    },
    'variant-end': (e) => variants.get(e.variant)?.end({ status: e.status, passed: e.passed }),
  };
}
