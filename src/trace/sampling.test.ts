import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLE_RATIO, isTraced, unitHash } from './sampling.js';

const traced = (seed: number, ratio: number, n = 20_000): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((seq) => isTraced(seed, seq, ratio));

describe('isTraced', () => {
  it('picks the same requests for the same seed, other ones for another seed', () => {
    const a = traced(42, 0.05);
    expect(traced(42, 0.05)).toEqual(a);
    const b = new Set(traced(43, 0.05));
    const common = a.filter((s) => b.has(s)).length;
    // Independent picks overlap by about ratio × picks (50 of 1000), not wholesale.
    expect(common).toBeLessThan(a.length * 0.2);
  });

  it('traces about `ratio` of the requests, spread over the run', () => {
    for (const ratio of [0.01, DEFAULT_SAMPLE_RATIO, 0.5]) {
      const n = traced(7, ratio).length;
      expect(n / 20_000).toBeGreaterThan(ratio * 0.85);
      expect(n / 20_000).toBeLessThan(ratio * 1.15);
    }
    // Not bunched: every tenth of the run gets its share.
    const picks = traced(7, 0.05);
    for (let d = 0; d < 10; d++) expect(picks.filter((s) => s > d * 2000 && s <= (d + 1) * 2000).length).toBeGreaterThan(60);
  });

  it('a higher ratio keeps every request a lower one traced (same seed)', () => {
    const low = traced(9, 0.05);
    const high = new Set(traced(9, 0.2));
    expect(low.every((s) => high.has(s))).toBe(true);
  });

  it('0 traces nothing, 1 traces everything', () => {
    expect(traced(1, 0, 1000)).toEqual([]);
    expect(traced(1, 1, 1000).length).toBe(1000);
    expect(traced(1, Number.NaN, 1000)).toEqual([]);
  });

  it('hashes into [0, 1)', () => {
    for (const [seed, seq] of [[0, 0], [4294967295, 4294967295], [1, 2 ** 31]] as const) {
      const u = unitHash(seed, seq);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});
