import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../common/duration.js';
import { LabError } from '../errors/lab-error.js';
import type { AssertionResult, VariantResult } from '../run/result.js';
import { loadScenario } from '../scenario/load.js';
import { dealIncident, sloAssertions } from './deal.js';
import { compareWithPar, parDoc, parMitigation, parOf, parPlan, parPoint, parseSweep, parLeadMs, parTailMs, readParFile, type ParPoint } from './par.js';
import { parHtml, parSvg, niceMax } from './par-chart.js';
import type { Score } from './score.js';

const fixture = path.resolve(import.meta.dirname, '../../test/fixtures/scenarios/hello-short.yaml');
const plan = loadScenario(fixture);
const t0 = 1_700_000_000_000;

describe('parPlan', () => {
  it('replays the dealt fault to the end, with one variant per sweep time whose only other step is the mitigation push', () => {
    const mit = parMitigation(plan);
    expect(mit.names).toEqual(['timeout-and-fallback']);
    const deal = dealIncident(plan, 3);
    const { plan: p } = parPlan(plan, 3, [1000, 4000], mit);
    expect(p.variants.map((v) => v.name)).toEqual(['mitigate-at-1s', 'mitigate-at-4s']);
    // Every variant runs the baseline's parameters: the mitigation comes only by the push.
    for (const v of p.variants) expect(v.params).toEqual(plan.variants.find((x) => x.name === 'baseline')!.params);
    // hello-short's SLO reads rate(…[2s]): the tail is 5 s of hold after max(4 s, 2 × 2 s).
    expect(parTailMs(sloAssertions(plan))).toBe(9000);
    expect(parTailMs([{ query: 'rate(x[10s]) / rate(y[500ms])' }])).toBe(25_000);
    // A dealt fault already comes after the first scrape: no lead; an earlier one would get load before it.
    expect(parLeadMs(deal)).toBe(0);
    expect(parLeadMs({ atMs: 2000 })).toBe(4000);
    const at = parLeadMs(deal) + deal.atMs;
    expect(p.durationMs).toBe(at + 4000 + 9000);
    const fault = p.steps.filter((s) => s.fault);
    expect(fault).toHaveLength(1);
    expect(fault[0]).toMatchObject({ name: deal.step.name, atMs: at, forMs: undefined });
    const pushes = p.steps.filter((s) => s.action);
    expect(pushes.map((s) => [s.atMs, s.variants])).toEqual([
      [at + 1000, ['mitigate-at-1s']],
      [at + 4000, ['mitigate-at-4s']],
    ]);
    expect(pushes[0]!.action).toMatchObject({ method: 'POST', path: '/admin/params', instances: ['frontend'] });
    expect(JSON.parse(pushes[0]!.action!.body!.text)).toEqual(plan.cluster.mitigations['timeout-and-fallback']!.set['frontend']);
    // The SLO judged over the whole replay, and the budget's three totals at its end.
    expect(p.assertions.map((a) => a.name)).toEqual(['p99 under 500ms during the slow backend', 'par budget: total', 'par budget: failed', 'par budget: tooSlow']);
    expect(p.assertions[0]!.window).toMatchObject({ startMs: 0, endMs: p.durationMs });
    expect(p.assertions[1]!.query).toContain(`[${Math.ceil(p.durationMs / 1000)}s]`);
  });

  it('names a mitigation the cluster does not have as bad input', () => {
    expect(() => parMitigation(plan, 'nope')).toThrow(LabError);
  });
});

/** A replay's result: fault on at 5 s, the push at `pushMs`, p99 broken from 6 s until `healMs`, 50 req/s. */
function replay(pushMs: number, healMs: number | null, endS = 30, bad = 100): VariantResult {
  const sec = (ms: number) => (t0 + ms) / 1000;
  const p99 = Array.from({ length: endS + 1 }, (_, s): [number, number] => [sec(s * 1000), s * 1000 >= 6000 && (healMs === null || s * 1000 < healMs) ? 0.8 : 0.05]);
  const a = (name: string, condition: string, points: [number, number][]): AssertionResult => ({
    name,
    query: 'q',
    window: { label: 'w', startMs: 0, endMs: endS * 1000 },
    condition,
    over: 'all',
    expected: 'holds',
    outcome: 'holds',
    passed: true,
    observed: { samples: points.length, min: null, max: null, mean: null, last: points.at(-1)?.[1] ?? null },
    reason: '',
    series: [{ labels: {}, points }],
  });
  return {
    name: `mitigate-at-${(pushMs - 5000) / 1000}s`,
    expect: 'recover',
    mitigations: [],
    params: {},
    status: 'completed',
    passed: true,
    t0,
    faults: [{ step: 'slow-backend', description: 'latency', scheduledMs: 5000, appliedMs: 5000, healScheduledMs: null, healedMs: null }],
    actions: [{ step: 'push', description: 'POST', scheduledMs: pushMs, actualMs: pushMs, doneMs: pushMs + 5, calls: [{ node: 'frontend', status: 200 }] }],
    load: null,
    assertions: [a('p99', '< 0.5', p99), a('par budget: total', '>= 0', [[sec(endS * 1000), 1500.4]]), a('par budget: failed', '>= 0', [[sec(endS * 1000), 0]]), a('par budget: tooSlow', '>= 0', [[sec(endS * 1000), bad]])],
  };
}

describe('parPoint', () => {
  it('scores a replay like a game: TTM from the fault to the SLO holding for good, the budget from the totals', () => {
    const p = parPoint(replay(7000, 10_000), 2000, 0.99);
    expect(p).toMatchObject({ atSeconds: 2, faultStartMs: 5000, mitigatedMs: 7000, firstSignalMs: 6000, recoveredMs: 10_000, recovered: true, ttmSeconds: 5, totalRequests: 1500, badRequests: 100 });
    expect(p.errorBudgetBurned).toBeCloseTo(100 / 15, 2);
    // Prometheus counted fewer than the load sent (a late first scrape): the budget is out of the nominal count.
    expect(parPoint(replay(7000, 10_000), 2000, 0.99, 2000)).toMatchObject({ totalRequests: 1500, badRequests: 100, errorBudgetBurned: 5 });
  });

  it('never recovers before the push, and does not recover while the SLO is still broken at the end', () => {
    // The SLO never broke: TTM is the push's time, not the first good sample's.
    expect(parPoint(replay(8000, 0), 3000, 0.99)).toMatchObject({ firstSignalMs: null, recoveredMs: 8000, ttmSeconds: 3, recovered: true });
    expect(parPoint(replay(7000, null), 2000, 0.99)).toMatchObject({ recovered: false, recoveredMs: null, ttmSeconds: null });
    // Broken too close to the end (less than the 5 s hold): not yet.
    expect(parPoint(replay(7000, 27_000), 2000, 0.99)).toMatchObject({ recovered: false });
  });

  it('says when the push failed', () => {
    const r = replay(7000, 10_000);
    r.actions![0]!.error = 'frontend: answered 500';
    expect(parPoint(r, 2000, 0.99)).toMatchObject({ recovered: false, mitigatedMs: null, error: 'frontend: answered 500' });
  });
});

const point = (atSeconds: number, recovered: boolean, ttmSeconds: number | null, badRequests: number): ParPoint => ({ atSeconds, variant: `mitigate-at-${atSeconds}s`, faultStartMs: 5000, mitigatedMs: 5000 + atSeconds * 1000, firstSignalMs: 6000, recoveredMs: recovered ? 5000 + ttmSeconds! * 1000 : null, recovered, ttmSeconds, totalRequests: 1500, badRequests, errorBudgetBurned: badRequests / 15 });

describe('par', () => {
  it('is the earliest sweep time that recovers', () => {
    expect(parOf([point(20, true, 24, 900), point(5, false, null, 1500), point(10, true, 13, 500)])).toEqual({ atSeconds: 10, ttmSeconds: 13, badRequests: 500, errorBudgetBurned: 500 / 15 });
    expect(parOf([point(5, false, null, 1500)])).toBeNull();
  });

  const doc = parDoc({
    scenario: 'hello-short',
    mitigation: ['timeout-and-fallback'],
    sloTarget: 0.99,
    sweepMs: [5000, 10_000],
    durationMs: 40_000,
    seeds: [
      { seed: 1, fault: { step: 'slow-backend', description: 'latency', atMs: 5000 }, runDir: 'r1', points: [point(5, true, 8, 200), point(10, true, 13, 450)] },
      { seed: 2, fault: { step: 'slow-backend', description: 'latency', atMs: 4000 }, runDir: 'r2', points: [point(5, true, 9, 300), point(10, true, 14, 500)] },
      { seed: 3, fault: { step: 'slow-backend', description: 'latency', atMs: 4000 }, runDir: 'r3', points: [point(5, false, null, 900), point(10, false, null, 1000)] },
    ],
  });
  const score = (seed: number, ttmSeconds: number | null, bad: number): Pick<Score, 'scenario' | 'seed' | 'ttmSeconds' | 'errorBudget'> => ({ scenario: 'hello-short', seed, ttmSeconds, errorBudget: { total: 3000, bad, failed: 0, tooSlow: bad, target: 0.99, burned: bad / 30, queries: {} } });

  it('medians over the seeds that reached par', () => {
    expect(doc.median).toEqual({ ttmSeconds: 8.5, badRequests: 250, errorBudgetBurned: 250 / 15 });
    expect(doc.seeds.map((s) => s.par?.atSeconds ?? null)).toEqual([5, 5, null]);
  });

  it("compares a game with its seed's par, else with the median", () => {
    expect(compareWithPar(score(1, 22, 420), doc, 'par.json')).toMatchObject({ available: true, basis: 'seed', seed: 1, parTtmSeconds: 8, parBadRequests: 200, budgetTimesPar: 2.1, ttmOverParSeconds: 14, summary: 'budget 2.1× par, TTM +14 s' });
    expect(compareWithPar(score(7, 8, 250), doc, 'par.json')).toMatchObject({ basis: 'median', seed: null, budgetTimesPar: 1, ttmOverParSeconds: -0.5 });
    expect(compareWithPar(score(1, null, 900), doc, 'par.json')).toMatchObject({ ttmOverParSeconds: null, summary: 'budget 4.5× par, not recovered (par TTM 8 s)' });
    expect(compareWithPar({ ...score(1, 1, 1), scenario: 'other' }, doc, 'par.json')).toMatchObject({ available: false });
    const none = parDoc({ scenario: 'hello-short', mitigation: [], sloTarget: 0.99, sweepMs: [5000], durationMs: 1, seeds: [doc.seeds[2]!] });
    expect(compareWithPar(score(3, 1, 1), none, 'par.json')).toMatchObject({ available: false, why: expect.stringContaining('no par') });
  });

  it('reads par.json back, and names the field of a broken one', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'par-'));
    const good = path.join(dir, 'par.json');
    writeFileSync(good, JSON.stringify(doc));
    expect(readParFile(good)).toEqual(doc);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...doc, seeds: [{ ...doc.seeds[0], points: 'x' }] }));
    expect(() => readParFile(bad)).toThrow(/bad\.json: field seeds\.0\.points/);
    expect(() => readParFile(path.join(dir, 'none.json'))).toThrow(/no such file/);
  });

  it('parses the sweep: sorted, at most 10 minutes, no duplicates', () => {
    expect(parseSweep('20s,5s,10s', parseDuration)).toEqual([5000, 10_000, 20_000]);
    expect(parseSweep('0', parseDuration)).toEqual([0]);
    for (const bad of ['5', '5s,5s', '11m', 'x']) expect(() => parseSweep(bad, parseDuration)).toThrow(LabError);
  });

  it('draws each seed through its sweep times, par ringed, the unrecovered on the right edge', () => {
    const svg = parSvg(doc);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/class="point par"/g)).toHaveLength(2);
    expect(svg.match(/class="point unrecovered"/g)).toHaveLength(2);
    expect(svg).toContain('at 5 s (par)');
    // The earlier push sits lower and to the left on seed 1's line (8 s, 200) vs (13 s, 450).
    const xy = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)][0]![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(xy[0]![0]!).toBeLessThan(xy[1]![0]!);
    expect(xy[0]![1]!).toBeGreaterThan(xy[1]![1]!); // SVG y grows downwards
    expect(parHtml(doc)).toContain('<tr class="par"><td>1</td><td>5 s</td>');
    expect(niceMax(13.2)).toBe(20);
    expect(niceMax(0.31)).toBe(0.5);
  });
});
