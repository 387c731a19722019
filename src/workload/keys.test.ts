import { describe, expect, it } from 'vitest';
import { createRng } from '../common/rng.js';
import { createKeyChooser, uniformKeys, zipfCdf, zipfKeys } from './keys.js';

const draw = (next: () => number, n: number): number[] => Array.from({ length: n }, next);

describe('key choosers', () => {
  it('same seed gives the same keys, another seed other keys', () => {
    const spec = { count: 1000, distribution: 'zipf', exponent: 0.99 } as const;
    const a = createKeyChooser(spec, 7);
    const b = createKeyChooser(spec, createRng(7));
    const c = createKeyChooser(spec, 8);
    const ka = draw(a.next, 200);
    expect(draw(b.next, 200)).toEqual(ka);
    expect(draw(c.next, 200)).not.toEqual(ka);
  });

  it('uniform keys stay in range and spread evenly', () => {
    const k = uniformKeys(10, 1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[k.next()]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('zipf puts the expected share on the top key', () => {
    const n = 100;
    const s = 1.0;
    let h = 0;
    for (let i = 1; i <= n; i++) h += 1 / i ** s;
    const k = zipfKeys(n, s, 42);
    const draws = 200_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) counts[k.next()]!++;
    // P(top) = 1/H(100,1) ≈ 0.193; P(rank 2) is half of it.
    expect(counts[0]! / draws).toBeCloseTo(1 / h, 2);
    expect(counts[1]! / counts[0]!).toBeCloseTo(0.5, 1);
    expect(Math.max(...counts)).toBe(counts[0]);
  });

  it('zipf with exponent 0 is uniform, and the CDF ends at exactly 1', () => {
    const cdf = zipfCdf(4, 0);
    expect([...cdf]).toEqual([0.25, 0.5, 0.75, 1]);
    expect(zipfCdf(1000, 1.2)[999]).toBe(1);
  });

  it('the guide-table lookup picks the same key as a plain search of the CDF', () => {
    const count = 100_000;
    const k = zipfKeys(count, 0.99, 9);
    const cdf = zipfCdf(count, 0.99);
    const rng = createRng(9); // the chooser's stream, replayed
    let mismatches = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = rng.next();
      let lo = 0;
      let hi = count - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      if (k.next() !== lo) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('refuses bad parameters with a LabError', () => {
    expect(() => uniformKeys(0, 1)).toThrow(/positive integer/);
    expect(() => zipfKeys(10, -1, 1)).toThrow(/exponent/);
  });
});
