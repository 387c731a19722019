import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../scenario/limits.js';
import type { LoadSpec } from '../load-generator.js';
import { describeIssues, fieldOf, LoadSpecSchema, SetRateBody, SetWeightsBody } from './load-api.js';

const spec: LoadSpec = {
  targets: ['http://10.244.0.7:8080', 'http://127.0.0.1:9'],
  rate: 50,
  arrival: 'poisson',
  operations: [
    { name: 'add', method: 'POST', path: '/set', weight: 2, body: '{"value":{seq}}' },
    { name: 'get', method: 'GET', path: '/kv/{key}', weight: 1 },
  ],
  keys: { count: 50, distribution: 'zipf', exponent: 1 },
  timeoutMs: 1000,
  maxInFlight: 100,
  durationMs: 300,
  seed: 11,
  recordHistory: true,
};

/** The fields zod names for a spec changed by `change` (a copy: the fixture stays valid). */
function fieldsOf(change: (s: Record<string, unknown>) => void): string[] {
  const s = structuredClone(spec) as unknown as Record<string, unknown>;
  change(s);
  const r = LoadSpecSchema.safeParse(s);
  if (r.success) return [];
  return describeIssues(r.error).issues.map((i) => i.field);
}

describe('load API schemas', () => {
  it('take the LoadSpec the lab builds, unchanged', () => {
    expect(LoadSpecSchema.parse(spec)).toEqual(spec);
    expect(LoadSpecSchema.parse({ ...spec, indeterminateStatuses: [500] }).indeterminateStatuses).toEqual([500]);
  });

  it.each([
    ['a target that is not an http base URL', (s: Record<string, unknown>) => (s.targets = ['https://x:1']), 'targets[0]'],
    ['no target', (s: Record<string, unknown>) => (s.targets = []), 'targets'],
    ['a method the generator does not send', (s: Record<string, unknown>) => ((s.operations as { method: string }[])[1]!.method = 'PATCH'), 'operations[1].method'],
    ['a path without its slash', (s: Record<string, unknown>) => ((s.operations as { path: string }[])[0]!.path = 'set'), 'operations[0].path'],
    ['two operations of one name', (s: Record<string, unknown>) => ((s.operations as { name: string }[])[1]!.name = 'add'), 'operations'],
    ['every weight 0', (s: Record<string, unknown>) => (s.operations as { weight: number }[]).forEach((o) => (o.weight = 0)), 'operations'],
    ['a rate above the scenario limit', (s: Record<string, unknown>) => (s.rate = LIMITS.rate + 1), 'rate'],
    ['an unbounded load', (s: Record<string, unknown>) => (s.durationMs = 0), 'durationMs'],
    ['a load longer than the limit', (s: Record<string, unknown>) => (s.durationMs = LIMITS.durationMs + 1), 'durationMs'],
    ['a fractional in-flight cap', (s: Record<string, unknown>) => (s.maxInFlight = 1.5), 'maxInFlight'],
    ['a seed beyond a safe integer', (s: Record<string, unknown>) => (s.seed = 2 ** 60), 'seed'],
    ['a key distribution it does not know', (s: Record<string, unknown>) => ((s.keys as { distribution: string }).distribution = 'pareto'), 'keys.distribution'],
    ['an unknown key (another version\'s spec)', (s: Record<string, unknown>) => (s.client = 'raw'), '(body)'],
    ['a missing field', (s: Record<string, unknown>) => delete s.recordHistory, 'recordHistory'],
  ])('refuse %s, naming the field', (_what, change, field) => {
    expect(fieldsOf(change)).toEqual([field]);
  });

  it('describe every issue on one line, field first', () => {
    const r = LoadSpecSchema.safeParse({ ...spec, rate: -1, timeoutMs: 'soon' });
    expect(r.success).toBe(false);
    const { message, issues } = describeIssues(r.error!);
    expect(issues.map((i) => i.field)).toEqual(['rate', 'timeoutMs']);
    expect(message).toMatch(/^rate: .+; timeoutMs: .+$/);
    expect(fieldOf(['operations', 0, 'body'])).toBe('operations[0].body');
    expect(fieldOf([])).toBe('(body)');
  });

  it('check rate and weight changes', () => {
    expect(SetRateBody.safeParse({ rate: 10, rampMs: 0 }).success).toBe(true);
    expect(SetRateBody.safeParse({ rate: 10 }).success).toBe(false);
    expect(SetRateBody.safeParse({ rate: Number.NaN, rampMs: 0 }).success).toBe(false);
    expect(SetWeightsBody.safeParse({ weights: { add: 0, get: 3 } }).success).toBe(true);
    expect(SetWeightsBody.safeParse({ weights: { add: -1 } }).success).toBe(false);
  });
});
