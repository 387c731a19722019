/**
 * Which load requests are traced. The decision is a pure function of the run's seed and the request's `seq`, so
 * a replay (`--seed N`) traces the same requests, and it needs no random stream of its own (drawing from the
 * load's stream would change the load itself when the ratio changes).
 */

/** One request in 20 by default: enough traces to look at, a negligible cost on a 2-core machine. */
export const DEFAULT_SAMPLE_RATIO = 0.05;

/** True for about `ratio` of all `seq`s; the same answer for the same (seed, seq) every time. */
export function isTraced(seed: number, seq: number, ratio: number): boolean {
  if (!(ratio > 0)) return false;
  if (ratio >= 1) return true;
  return unitHash(seed, seq) < ratio;
}

/** murmur3's 32-bit finaliser over the seed and the golden-ratio-scrambled seq: uniform in [0, 1). */
export function unitHash(seed: number, seq: number): number {
  let h = (Math.imul(seq >>> 0, 0x9e3779b1) ^ (seed >>> 0)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
