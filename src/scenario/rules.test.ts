import { describe, expect, it } from 'vitest';
import type { AssertionPlan, VariantPlan } from './plan.js';
import { missingAvailabilityFloors } from './rules.js';

const variant = (name: string, expect: 'reproduce' | 'recover'): VariantPlan => ({ name, description: undefined, expect, mitigations: [], params: {} });
const floor = (o: Partial<AssertionPlan> = {}): AssertionPlan => ({
  name: 'availability floor',
  description: undefined,
  query: 'x',
  window: { startMs: 0, endMs: 1000, label: 'whole run' },
  comparator: '>=',
  threshold: 0.99,
  over: 'all',
  recoverWithinMs: undefined,
  expect: {},
  variants: ['baseline', 'mitigated'],
  availability: true,
  ...o,
});

describe('missingAvailabilityFloors', () => {
  const variants = [variant('baseline', 'reproduce'), variant('mitigated', 'recover')];
  it('is satisfied by a floor that holds in every recovering variant', () => {
    expect(missingAvailabilityFloors({ variants, assertions: [floor({ expect: { baseline: 'violated' } })] })).toEqual([]);
  });
  it('names a recovering variant without a floor, or whose floor is expected violated or not evaluated in it', () => {
    for (const assertions of [[], [floor({ availability: false })], [floor({ expect: { mitigated: 'violated' } })], [floor({ variants: ['baseline'] })]]) {
      const w = missingAvailabilityFloors({ variants, assertions });
      expect(w).toHaveLength(1);
      expect(w[0]).toContain('variant "mitigated"');
    }
  });
  it('asks nothing of variants that reproduce', () => {
    expect(missingAvailabilityFloors({ variants: [variant('baseline', 'reproduce')], assertions: [] })).toEqual([]);
  });
});
