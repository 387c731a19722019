/**
 * `workshop check N --with-starter`: the shipped starter replayed as a second variant of the same run, graded beside
 * the module checked. One CLI run, one Toxiproxy and one Prometheus for both, and the two grades come from the same
 * scenario with the same seed: the distance the module has come, and (in the e2e) the proof that the starter fails
 * the pass tier without a run of its own.
 */
import type { ScenarioPlan } from '../scenario/plan.js';
import type { Exercise } from './exercise.js';

/** The added variant's name (a scenario may not use it). */
export const STARTER_VARIANT = 'shipped-starter';

/**
 * The plan with the exercise's variant and, after it, a copy of that variant whose node loads `starterFile`: every
 * step and assertion of the exercise's variant applies to the copy too. Other variants are dropped.
 */
export function withStarterVariant(plan: ScenarioPlan, ex: Pick<Exercise, 'variant' | 'extension'>, starterFile: string): ScenarioPlan {
  const own = plan.variants.find((v) => v.name === ex.variant);
  if (!own) throw new Error(`variant ${ex.variant} is not in ${plan.id}`);
  if (plan.variants.some((v) => v.name === STARTER_VARIANT)) throw new Error(`${plan.id} already has a variant named ${STARTER_VARIANT}`);
  const params = Object.fromEntries(Object.entries(own.params).map(([g, p]) => [g, { ...p }]));
  params[ex.extension.node] = { ...params[ex.extension.node], extension: starterFile };
  const starter = { ...own, name: STARTER_VARIANT, description: "The exercise's shipped starter module", expect: 'reproduce' as const, params };
  const alsoStarter = (variants: string[]): string[] => (variants.includes(ex.variant) ? [...variants, STARTER_VARIANT] : variants);
  return {
    ...plan,
    variants: [own, starter],
    steps: plan.steps.map((s) => (s.variants ? { ...s, variants: alsoStarter(s.variants) } : s)),
    assertions: plan.assertions.map((a) => ({
      ...a,
      variants: alsoStarter(a.variants),
      expect: a.expect[ex.variant] !== undefined ? { ...a.expect, [STARTER_VARIANT]: a.expect[ex.variant]! } : a.expect,
    })),
  };
}
