/**
 * Seeded key choosers. A key is an integer in [0, count); with zipf, key 0 is the hottest.
 * Same seed ⇒ same key sequence, so a run replays with `--seed N`.
 */
import { createRng, type Rng } from '../common/rng.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

export type KeyDistribution = 'uniform' | 'zipf';

export interface KeySpec {
  count: number;
  distribution: KeyDistribution;
  /** Zipf exponent s: P(rank k) ∝ 1 / k^s. 0 is uniform; about 1 is the classic web-cache skew. Ignored by uniform. */
  exponent: number;
}

export interface KeyChooser {
  next(): number;
  readonly count: number;
}

const toRng = (rngOrSeed: Rng | number): Rng => (typeof rngOrSeed === 'number' ? createRng(rngOrSeed) : rngOrSeed);

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new LabError(Errors.InvalidField, `key count must be a positive integer, got ${count}`, {
      hint: 'Set workload keys.count to 1 or more.',
    });
  }
}

export function uniformKeys(count: number, rngOrSeed: Rng | number): KeyChooser {
  checkCount(count);
  const rng = toRng(rngOrSeed);
  return { count, next: () => Math.floor(rng.next() * count) };
}

interface ZipfTable {
  cdf: Float64Array;
  /** guide[j] = first index with cdf > j/G: narrows each search to a few neighbouring keys (Chen–Asau guide table). */
  guide: Int32Array;
}

// Tables are pure functions of (count, exponent); several generators in one run share them.
const tableCache = new Map<string, ZipfTable>();
const TABLE_CACHE_LIMIT = 8;
const MAX_GUIDE = 1 << 16;

/** cdf[i] = P(key ≤ i). Built once, O(count); the last entry is exactly 1 so a search always lands. */
export function zipfCdf(count: number, exponent: number): Float64Array {
  return zipfTable(count, exponent).cdf;
}

function zipfTable(count: number, exponent: number): ZipfTable {
  const cacheKey = `${count}:${exponent}`;
  const cached = tableCache.get(cacheKey);
  if (cached) return cached;
  const cdf = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sum += Math.pow(i + 1, -exponent);
    cdf[i] = sum;
  }
  for (let i = 0; i < count; i++) cdf[i]! /= sum;
  cdf[count - 1] = 1;
  const g = Math.min(MAX_GUIDE, 4 * count);
  const guide = new Int32Array(g + 1);
  let i = 0;
  for (let j = 0; j < g; j++) {
    while (cdf[i]! <= j / g) i++;
    guide[j] = i;
  }
  guide[g] = count - 1;
  const table = { cdf, guide };
  if (tableCache.size >= TABLE_CACHE_LIMIT) tableCache.delete(tableCache.keys().next().value!);
  tableCache.set(cacheKey, table);
  return table;
}

export function zipfKeys(count: number, exponent: number, rngOrSeed: Rng | number): KeyChooser {
  checkCount(count);
  if (!Number.isFinite(exponent) || exponent < 0) {
    throw new LabError(Errors.InvalidField, `zipf exponent must be a finite number ≥ 0, got ${exponent}`, {
      hint: 'Use an exponent such as 0.99; 0 means uniform.',
    });
  }
  const rng = toRng(rngOrSeed);
  const { cdf, guide } = zipfTable(count, exponent);
  const g = guide.length - 1;
  return {
    count,
    next: () => {
      const u = rng.next();
      const j = Math.floor(u * g);
      // The answer, the first index with cdf[i] > u, lies in [guide[j], guide[j+1]].
      let lo = guide[j]!;
      let hi = guide[j + 1]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

export function createKeyChooser(spec: KeySpec, rngOrSeed: Rng | number): KeyChooser {
  return spec.distribution === 'zipf'
    ? zipfKeys(spec.count, spec.exponent, rngOrSeed)
    : uniformKeys(spec.count, rngOrSeed);
}
