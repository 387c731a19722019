/**
 * Checks of the replay rule (README "Writing a scenario"): every variant that expects to recover has an availability
 * floor that holds in it. A warning of `chaoslab validate`, not an error: a scenario without one still runs.
 */
import type { ScenarioPlan } from './plan.js';

/** One line per variant that expects to recover without an availability floor expected to hold in it. */
export function missingAvailabilityFloors(plan: Pick<ScenarioPlan, 'variants' | 'assertions'>): string[] {
  return plan.variants
    .filter((v) => v.expect === 'recover')
    .filter((v) => !plan.assertions.some((a) => a.availability && a.variants.includes(v.name) && (a.expect[v.name] ?? 'holds') === 'holds'))
    .map((v) => `variant "${v.name}" expects to recover but has no availability floor: add an assertion with \`availability: true\` that holds in it (a share of requests answered well, above a stated value), so that a mitigation that refuses or degrades everything fails`);
}
