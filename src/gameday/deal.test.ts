import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenario/load.js';
import { dealIncident, hintsFor, sloAssertions, MIN_FAULT_AT_MS } from './deal.js';

const plan = loadScenario('scenarios/hello-latency.yaml');

describe('dealIncident', () => {
  it('deals the same fault at the same time for a seed, moved from the scenario time, on until the game ends', () => {
    const a = dealIncident(plan, 7);
    expect(dealIncident(plan, 7)).toEqual(a);
    expect(a.step.name).toBe('slow-backend');
    expect(a.step.forMs).toBeUndefined();
    expect(a.description).toBe('latency 800ms±50ms downstream on frontend_to_backend');
    const times = new Set([1, 2, 3, 4, 5, 6].map((s) => dealIncident(plan, s).atMs));
    expect(times.size).toBeGreaterThan(1);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(Math.max(MIN_FAULT_AT_MS, plan.warmupMs));
      expect(t).toBeLessThan(12_000 * 1.5);
    }
  });

  it('refuses a scenario without a fault (exit 2)', () => {
    expect(() => dealIncident({ ...plan, steps: [] }, 1)).toThrow(/has no fault in its timeline/);
  });
});

describe('hints and SLOs', () => {
  it('scores against the assertions the incident breaks, and hints from the symptom to the lesson', () => {
    expect(sloAssertions(plan).map((a) => a.name)).toEqual(['p99 under 500ms during the slow backend']);
    const hints = hintsFor(plan, dealIncident(plan, 1));
    expect(hints).toHaveLength(4);
    expect(hints[0]).toContain('p99 under 500ms');
    expect(hints[1]).toContain('frontend_to_backend');
    expect(hints[3]).toContain(plan.incident.lesson);
  });
});
