/**
 * The `scale` step kind: its schema (bad input names file, line and field), its plan (spare instances: planned,
 * not started, nobody's peer, not a scrape target until started), its schedule (only in the variants it names,
 * kept in a control run) and what it starts and stops.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validBase, validCluster } from '../../test/fixtures/invalid-scenarios.js';
import { LabError } from '../errors/lab-error.js';
import { loadScenario } from '../scenario/load.js';
import { scaleGoal, scaledTargets, scalePlan } from './scale-step.js';
import { scheduleActions } from './timeline.js';
import { buildAddresses, peersFor } from './topology.js';
import { startPartWatch, type WatchClock } from './part-watch.js';
import { variantTimeline } from '../report/html/model.js';
import { fixture } from '../report/html/testing.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'cluster.yaml'), validCluster);

const withScale = (step: string) => validBase.replace('timeline:\n', `timeline:\n${step}`);
const PRE_SCALE = `  - name: pre-scale
    at: 5s
    for: 20s
    variants: [mitigated]
    scale: { group: backend, to: 3 }
`;

function load(name: string, text: string) {
  const f = path.join(dir, `${name}.yaml`);
  writeFileSync(f, text);
  return loadScenario(f);
}

function failure(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LabError) return e.details.length === 1 ? e.details[0]! : e;
    throw e;
  }
  throw new Error('expected a LabError, but it loaded');
}

describe('scale steps in a scenario', () => {
  it('plan spare instances beyond the replicas, and the step', () => {
    const plan = load('ok', withScale(PRE_SCALE));
    expect(plan.nodes.filter((n) => n.group === 'backend').map((n) => [n.name, n.spare ?? false])).toEqual([
      ['backend', false],
      ['backend-2', true],
      ['backend-3', true],
    ]);
    expect(plan.steps[0]).toMatchObject({ name: 'pre-scale', atMs: 5000, forMs: 20_000, scale: { group: 'backend', to: 3 }, variants: ['mitigated'], inControl: true });
  });

  it('spares are nobody\'s configured peer and no scrape target until a step starts them', () => {
    const plan = load('peers', withScale(PRE_SCALE));
    const ports = { nodes: new Map(plan.nodes.flatMap((n, i) => n.ports.map((p) => [`${n.name}/${p}`, 20_000 + i] as const))), proxies: new Map(plan.links.map((l, i) => [l.name, 30_000 + i])) };
    const addresses = buildAddresses(plan, ports, { nodeAddress: (_n, p) => `127.0.0.1:${p}`, proxyAddress: (p) => `127.0.0.1:${p}`, proxyListenAddress: (p) => `127.0.0.1:${p}` }, '127.0.0.1:9', { innerAddress: '127.0.0.1:8474', metricsPath: '/metrics' });
    expect(addresses.targets.map((t) => t.labels['node']).filter(Boolean)).toEqual(['backend', 'frontend']);
    const peers = peersFor(plan, 'frontend', addresses.innerAddrOf, addresses.innerProxyAddr);
    expect(Object.values(peers).flat()).toHaveLength(1);
    // A spare's own config names the seed instances, so it can join them.
    expect(peersFor(plan, 'backend-3', addresses.innerAddrOf, addresses.innerProxyAddr)).toHaveProperty('frontend');
    const running = new Set(['backend', 'frontend', 'backend-2']);
    expect(scaledTargets(addresses.targets, plan.nodes, (n) => running.has(n), addresses.innerAddrOf).map((t) => t.labels['node'] ?? t.labels['job'])).toEqual(['lab', 'toxiproxy', 'backend', 'backend-2', 'frontend']);
  });

  it('run only in the variants they name; a control run keeps them unless they say drop', () => {
    const plan = load('sched', withScale(PRE_SCALE));
    expect(scheduleActions(plan.steps, { control: false, variant: 'baseline' }).map((a) => a.step.name)).toEqual(['slow', 'slow']);
    expect(scheduleActions(plan.steps, { control: false, variant: 'mitigated' }).map((a) => `${a.kind} ${a.step.name}`)).toEqual(['apply pre-scale', 'apply slow', 'heal slow', 'heal pre-scale']);
    expect(scheduleActions(plan.steps, { control: true, variant: 'mitigated' }).map((a) => `${a.kind} ${a.step.name}`)).toEqual(['apply pre-scale', 'heal pre-scale']);
    const dropped = load('drop', withScale(PRE_SCALE.replace('variants: [mitigated]', 'control: drop')));
    expect(scheduleActions(dropped.steps, { control: true, variant: 'baseline' })).toEqual([]);
  });

  it.each([
    ['a group that does not exist', PRE_SCALE.replace('group: backend', 'group: db'), 'CHAOSLAB_UNKNOWN_REFERENCE', 'timeline[0].scale.group'],
    ['a variant that does not exist', PRE_SCALE.replace('[mitigated]', '[mitigatd]'), 'CHAOSLAB_UNKNOWN_REFERENCE', 'timeline[0].variants[0]'],
    ['to: 0', PRE_SCALE.replace('to: 3', 'to: 0'), 'CHAOSLAB_INVALID_FIELD', 'timeline[0].scale.to'],
    ['to: 2.5', PRE_SCALE.replace('to: 3', 'to: 2.5'), 'CHAOSLAB_INVALID_FIELD', 'timeline[0].scale.to'],
    ['a scale and a load in one step', PRE_SCALE.replace('    scale:', '    load: { multiply: 2 }\n    scale:'), 'CHAOSLAB_INVALID_FIELD', 'timeline[0]'],
    ['an unknown key', PRE_SCALE.replace('to: 3', 'to: 3, drain: true'), 'CHAOSLAB_UNKNOWN_KEY', 'timeline[0].scale.drain'],
  ])('%s is an input error naming file, line and field (exit 2)', (_name, step, code, field) => {
    const e = failure(() => load(`bad-${field.replace(/\W+/g, '-')}-${code}`, withScale(step)));
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(2);
    expect(e.location?.field).toBe(field);
    expect(e.location?.file).toMatch(/\.yaml$/);
    expect(e.location?.line).toBeGreaterThan(0);
  });
});

describe('what a scale step starts and stops', () => {
  const nodes = ['geo-3', 'geo-1', 'geo-2', 'geo-4'].map((name) => ({ name, index: Number(name.slice(-1)) }) as never as import('../scenario/plan.js').NodeInstance);
  it('starts the lowest-numbered instances not running, stops the highest', () => {
    const running = new Set(['geo-1', 'geo-2']);
    const up = scalePlan(nodes, (n) => running.has(n), 4);
    expect([up.start.map((n) => n.name), up.stop]).toEqual([['geo-3', 'geo-4'], []]);
    const all = new Set(['geo-1', 'geo-2', 'geo-3', 'geo-4']);
    const down = scalePlan(nodes, (n) => all.has(n), 2);
    expect([down.start, down.stop.map((n) => n.name)]).toEqual([[], ['geo-3', 'geo-4']]);
    expect(scalePlan(nodes, (n) => all.has(n), 4)).toEqual({ start: [], stop: [] });
  });

  it('goes to `to` when applied and back to the size before the step at its heal', () => {
    expect(scaleGoal('apply', 4, undefined, 2)).toBe(4);
    expect(scaleGoal('heal', 4, 2, 4)).toBe(2);
    // Scaled in below the replicas (2 → 1), the heal goes back up to 2, not to the step's `to`.
    expect(scaleGoal('heal', 1, 2, 1)).toBe(2);
    // A heal whose apply never ran (its size unknown) changes nothing.
    expect(scaleGoal('heal', 4, undefined, 3)).toBe(3);
  });
});

describe('the part watch and scaled instances', () => {
  const clock: WatchClock & { tick(): void } = (() => {
    let fn = () => {};
    return { now: () => 0, every: (_ms, tick) => ((fn = tick), () => {}), tick: () => fn() };
  })();

  it('watches an added instance, and a removed one may stop', () => {
    const a = { name: 'geo-3', pid: 1, exitStatus: undefined as undefined | { code: number; signal: null } };
    const b = { name: 'geo-4', pid: 2, exitStatus: undefined as undefined | { code: number; signal: null } };
    const watch = startPartWatch({ variant: 'v', nodes: [], parts: [], clock });
    watch.add(a);
    watch.add(b);
    watch.remove('geo-4');
    b.exitStatus = { code: 0, signal: null };
    clock.tick();
    expect(watch.failure).toBeUndefined();
    a.exitStatus = { code: 1, signal: null };
    clock.tick();
    expect(watch.failure?.message).toMatch(/geo-3 exited/);
    watch.stop();
  });
});

describe('the report', () => {
  it('shows a scale step on the load row of the variant\'s timeline', () => {
    const { result, journal } = fixture();
    const v = result.variants[0]!;
    const at = journal[0]!.at;
    const scale = { kind: 'scale', t: 9000, at, variant: v.name, step: 'pre-scale', action: 'apply', group: 'geo-index', from: 2, to: 4, scheduledMs: 4000, actualMs: 4002, started: ['geo-index-3', 'geo-index-4'], stopped: [], readyMs: 900 };
    expect(variantTimeline(v, [...journal, scale]).loadChanges).toContainEqual({ step: 'pre-scale', action: 'geo-index → 4', rate: null, atSec: 4.002 });
  });
});
