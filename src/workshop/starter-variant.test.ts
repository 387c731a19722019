import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExerciseScenario, loadExercises } from './exercise.js';
import { STARTER_VARIANT, withStarterVariant } from './starter-variant.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('withStarterVariant', () => {
  for (const ex of loadExercises(root)) {
    it(`exercise ${ex.number}: the starter runs as a second variant, judged by every assertion and step of the exercise's`, () => {
      const plan = withStarterVariant(loadExerciseScenario(ex, { [ex.extension.node]: { extension: '/tmp/mine.cjs' } }), ex, '/tmp/starter.cjs');
      expect(plan.variants.map((v) => v.name)).toEqual([ex.variant, STARTER_VARIANT]);
      const [mine, starter] = plan.variants;
      expect(mine!.params[ex.extension.node]!.extension).toBe('/tmp/mine.cjs');
      expect(starter!.params[ex.extension.node]!.extension).toBe('/tmp/starter.cjs');
      // Everything else is the same parameters.
      expect({ ...starter!.params, [ex.extension.node]: {} }).toEqual({ ...mine!.params, [ex.extension.node]: {} });
      for (const a of plan.assertions) expect(a.variants.includes(STARTER_VARIANT)).toBe(a.variants.includes(ex.variant));
      for (const s of plan.steps) if (s.variants) expect(s.variants.includes(STARTER_VARIANT)).toBe(s.variants.includes(ex.variant));
    });
  }
});
