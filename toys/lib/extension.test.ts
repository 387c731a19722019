import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ToyConfigError } from './config.js';
import { Checks, compileExtension, type ExtensionSpec } from './extension.js';
import { createRng } from './rng.js';

const SPEC: ExtensionSpec = {
  what: 'the test toy',
  functions: { delay: { required: true, check: Checks.nonNegativeNumber }, maybe: { required: false, check: Checks.boolean } },
};

function load(code: string, callTimeoutMs = 100) {
  const registry = new Registry();
  const logged: string[] = [];
  const ext = compileExtension('m.cjs', code, SPEC, { random: createRng(1).next, registry, log: (m) => logged.push(m), callTimeoutMs, loadTimeoutMs: 50 });
  const count = async (outcome: string) => (await registry.getSingleMetric('toy_extension_calls_total')!.get()).values.filter((v) => v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);
  return { ext, logged, count };
}

describe('a workshop module inside a toy', () => {
  it('calls an exported function and returns what it returns', async () => {
    const { ext, count } = load('exports.delay = function (attempt) { return attempt * 10; };');
    expect(ext.call('delay', [3], -1)).toBe(30);
    expect(await count('ok')).toBe(1);
  });

  it('a throw and a wrong type are counted and give the fallback (a missing optional function gives it uncounted), never an exception', async () => {
    const { ext, logged, count } = load('exports.delay = function (a) { if (a === 1) throw new TypeError("boom"); return "soon"; };');
    expect(ext.call('delay', [1], 7)).toBe(7);
    expect(ext.call('delay', [2], 7)).toBe(7);
    expect(ext.call('maybe', [], false)).toBe(false);
    expect(await count('threw')).toBe(1);
    expect(await count('invalid')).toBe(1);
    expect(await count('ok')).toBe(0);
    expect(logged[0]).toContain('delay() threw TypeError: boom');
    expect(logged[1]).toContain('returned "soon", expected a finite number >= 0');
  });

  it('a call that never returns is cut after the time limit; after three the function is no longer called', async () => {
    const { ext, logged, count } = load('exports.delay = function () { for (;;) {} };', 20);
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect(ext.call('delay', [], 5)).toBe(5);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await count('timeout')).toBe(5);
    expect(logged.filter((l) => l.includes('ran longer than 20 ms'))).toHaveLength(3);
    expect(logged[2]).toContain('stops calling delay()');
  });

  it('Math.random inside the module is the toy\'s seeded RNG', () => {
    const a = load('exports.delay = function () { return Math.random() * 1000; };').ext;
    const b = load('exports.delay = function () { return Math.random() * 1000; };').ext;
    const xs = [1, 2, 3].map(() => a.call('delay', [], 0));
    expect([1, 2, 3].map(() => b.call('delay', [], 0))).toEqual(xs);
    expect(xs[0]).toBeCloseTo(createRng(1).next() * 1000, 9);
  });

  it('a module that fails to load, or lacks a required function, is refused at start naming it', () => {
    expect(() => load('throw new Error("at load");')).toThrow(ToyConfigError);
    expect(() => load('throw new Error("at load");')).toThrow(/module m\.cjs failed to load: Error: at load/);
    expect(() => load('exports.maybe = function () { return true; };')).toThrow(/must export function delay \(it exports: maybe\)/);
    expect(() => load('while (true) {}', 20)).toThrow(/failed to load/);
  });
});
