/**
 * Dealing a game day's incident from its seed: which of the scenario's faults, and when. One seed deals every team
 * the same incident; the participants never see the deal (only the facilitator's console and the journal do).
 */
import { createRng } from '../common/rng.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { describeFault } from '../fault/registry.js';
import type { AssertionPlan, ScenarioPlan, StepPlan } from '../scenario/plan.js';

export interface Deal {
  /** The hidden fault, on from `atMs` until the game ends (a real incident does not heal on a timer). */
  step: StepPlan & { fault: NonNullable<StepPlan['fault']> };
  /** Since the load's start. */
  atMs: number;
  description: string;
  /** The scenario's other fault steps, for the facilitator's curveball (each with its own `for`). */
  curveballs: (StepPlan & { fault: NonNullable<StepPlan['fault']> })[];
}

/**
 * The earliest a fault may be dealt: the team gets a steady state to look at first, and the game's fresh Prometheus
 * has scraped by then (its scrape manager applies new targets up to 5 s after it starts), so the score's SLO series
 * and error budget see the fault from its first second.
 */
export const MIN_FAULT_AT_MS = 6000;

/**
 * The scenario's timeline fault steps; one is picked by the seed and its time moved by a seeded factor in
 * [0.5, 1.5) of its scheduled `at` (never before `MIN_FAULT_AT_MS` nor the warmup), so the team cannot read the
 * time off the scenario file.
 */
export function dealIncident(plan: Pick<ScenarioPlan, 'id' | 'file' | 'steps' | 'warmupMs'>, seed: number): Deal {
  const faults = plan.steps.filter((s): s is Deal['step'] => s.fault !== undefined && s.fault.type !== 'restart');
  if (faults.length === 0) {
    throw new LabError(Errors.InvalidArgument, `${plan.file}: scenario ${plan.id} has no fault in its timeline to deal`, { hint: 'a game day needs a scenario whose timeline has at least one fault step' });
  }
  const rng = createRng(seed).fork('gameday-deal');
  const picked = faults[rng.int(faults.length)]!;
  const atMs = Math.max(MIN_FAULT_AT_MS, plan.warmupMs, Math.round(picked.atMs * (0.5 + rng.next())));
  return {
    step: { ...picked, atMs, forMs: undefined },
    atMs,
    description: describeFault(picked.fault),
    curveballs: faults.filter((s) => s !== picked),
  };
}

/** The SLO assertions a game day scores against: those the incident breaks (`expect: {baseline: violated}`), else all. */
export function sloAssertions(plan: Pick<ScenarioPlan, 'assertions'>): AssertionPlan[] {
  const broken = plan.assertions.filter((a) => a.expect['baseline'] === 'violated');
  return broken.length ? broken : plan.assertions;
}

/** The hints, mildest first: the symptom, where to look, the cause, the lesson. Each one released costs points. */
export function hintsFor(plan: Pick<ScenarioPlan, 'incident' | 'assertions' | 'links'>, deal: Deal): string[] {
  const slo = sloAssertions(plan)[0];
  const f = deal.step.fault as { links?: string[]; nodes?: string[] };
  const where = f.links?.length ? `the link${f.links.length > 1 ? 's' : ''} ${f.links.join(', ')} (from → to)` : f.nodes?.length ? `node${f.nodes.length > 1 ? 's' : ''} ${f.nodes.join(', ')}` : 'the cluster';
  return [
    slo ? `Which SLO is breaking? Look at: ${slo.name}.` : 'Compare the client-side error ratio and latency with the steady state.',
    `Look at ${where}: compare the time each node spends with what its callers see.`,
    `The cause: ${plan.incident.rootCause}`,
    `What helps: ${plan.incident.lesson}`,
  ];
}
