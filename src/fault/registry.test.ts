import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyFault, describeFault, Fault, faultClaims, faultKinds, faultTargets, isFaultType, isInstantFault, type FaultSpec, type FaultType } from './registry.js';
import { FakeNode, FakeToxiproxy, fakeApplyContext, meshLinks } from './testing.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const types = Object.keys(faultKinds) as FaultType[];

/** A few resolved specs, one of each family (toxic, proxy, cut, node). Each kind's own test covers the rest. */
const examples: FaultSpec[] = [
  { type: 'latency', links: ['a_to_b'], latencyMs: 800, jitterMs: 50, stream: 'downstream', toxicity: 1 },
  { type: 'down', links: ['a_to_b'] },
  { type: 'partition', groups: [['a'], ['b']], oneWay: false, mode: 'blackhole' },
  { type: 'kill', nodes: ['a'], signal: 'SIGKILL' },
  { type: 'pause', nodes: ['a'] },
  { type: 'restart', nodes: ['a'] },
];

describe('the fault registry', () => {
  it('has every kind, each with schema, resolve, describe, targets, claims and apply', () => {
    expect(types).toEqual(['latency', 'bandwidth', 'timeout', 'reset_peer', 'slow_close', 'slicer', 'limit_data', 'down', 'partition', 'kill', 'restart', 'pause', 'clock']);
    for (const t of types) {
      const k = faultKinds[t];
      expect(k.schema, t).toBeInstanceOf(z.ZodObject);
      for (const f of ['resolve', 'describe', 'targets', 'claims', 'apply'] as const) expect(typeof k[f], `${t}.${f}`).toBe('function');
    }
    expect(isFaultType('latency')).toBe(true);
    expect(isFaultType('toString')).toBe(false);
  });

  it("each kind's key is the `type` its schema accepts", () => {
    for (const t of types) {
      const shape = faultKinds[t].schema.shape as { type: z.ZodLiteral };
      expect([...shape.type.values], t).toEqual([t]);
    }
  });

  it('every field of every kind has a description (the editor shows it on hover)', () => {
    for (const t of types) {
      for (const [field, schema] of Object.entries(faultKinds[t].schema.shape as Record<string, z.ZodType>)) {
        expect(schema.description, `${t}.${field}`).toBeTruthy();
      }
    }
  });

  it('describes, targets and claims through the kinds', () => {
    expect(examples.map(describeFault)).toEqual([
      'latency 800ms±50ms downstream on a_to_b',
      'down on a_to_b',
      'partition [a] | [b] (blackhole)',
      'kill (SIGKILL) a',
      'pause a',
      'restart a',
    ]);
    expect(examples.map(faultTargets)).toEqual([['a_to_b'], ['a_to_b'], ['a', 'b'], ['a'], ['a'], ['a']]);
    expect(examples.map((e) => faultClaims(e, meshLinks(['a', 'b'])))).toEqual([
      ['link:a_to_b'],
      ['link:a_to_b'],
      ['link:a_to_b', 'link:b_to_a'],
      ['node:a'],
      ['node:a'],
      ['node:a'],
    ]);
    expect(examples.filter(isInstantFault).map((e) => e.type)).toEqual(['restart']);
  });

  it('applies through the kinds and returns a healer that is idempotent and safe to call concurrently', async () => {
    const links = meshLinks(['a', 'b']);
    for (const spec of examples) {
      const tp = new FakeToxiproxy(links.map((l) => l.name));
      const a = new FakeNode('a');
      const heal = await applyFault(spec, fakeApplyContext({ toxiproxy: tp, links, nodes: new Map([['a', a]]) }));
      expect(tp.calls.length + a.calls.length, spec.type).toBeGreaterThan(0);
      await Promise.all([heal(), heal()]);
      await heal();
      expect(tp.clean, spec.type).toBe(true);
      // kill heals by one restart, pause by one resume: never twice
      expect(a.calls.filter((c) => c === 'resume' || c === 'restart').length, spec.type).toBe(spec.type === 'kill' || spec.type === 'pause' || spec.type === 'restart' ? 1 : 0);
    }
  });

  it('builds the scenario schema\'s `fault:` union, which parses the YAML users write', () => {
    expect(Fault.parse({ type: 'partition', groups: [['broker-1'], ['coordinator']], mode: 'blackhole' })).toMatchObject({ type: 'partition', oneWay: false });
    const bad = Fault.safeParse({ type: 'latncy', links: 'a_to_b' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('"latency"');
  });

  it("every kind has its row in the README's table of fault types", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => /^\s*\| `[a-z_]+`/.test(l)).join('\n');
    for (const t of types) expect(rows, `README lists ${t}`).toContain(`\`${t}\``);
  });
});
