import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenario/load.js';
import { dashboardFor, upPlan } from './game-day.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('upPlan', () => {
  const full = loadScenario(path.join(root, 'scenarios', 'hello-latency.yaml'));

  it('keeps one variant and its base load, drops the timeline, the assertions and the checker', () => {
    const p = upPlan(full, 'mitigated', 60_000);
    expect(p.variants.map((v) => v.name)).toEqual(['mitigated']);
    expect(p.variants[0]!.params).toEqual(full.variants.find((v) => v.name === 'mitigated')!.params);
    expect(p.steps).toEqual([]);
    expect(p.assertions).toEqual([]);
    expect(p.checker).toBeUndefined();
    expect(p.durationMs).toBe(60_000);
    expect(p.workload.rate).toBe(full.workload.rate);
    expect(p.workload.history).toBe(false);
    expect(p.nodes).toBe(full.nodes);
  });

  it('without --load, has no load at all (duration 0)', () => {
    expect(upPlan(full, 'baseline', 0).durationMs).toBe(0);
  });
});

describe('dashboardFor', () => {
  it("names the dashboard of the scenario's cluster", () => {
    expect(dashboardFor({ clusterFile: '/x/clusters/hello.yaml' })).toBe('dashboards/hello.json');
    expect(dashboardFor({ clusterFile: 'clusters/dynamo-kv.yml' })).toBe('dashboards/dynamo-kv.json');
  });
});
