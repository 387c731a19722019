/**
 * Seeded randomness for toys. A copy of the lab's mulberry32 (toys must not import from src/):
 * every random choice a toy makes derives from `config.seed`, so `--seed N` replays it.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  /** A new independent stream, derived deterministically from this seed and a label. */
  fork(label: string): Rng;
  readonly seed: number;
}

function hash32(s: string): number {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed: seed >>> 0,
    next,
    int: (max) => Math.floor(next() * max),
    fork: (label) => createRng((hash32(label) ^ Math.imul(seed >>> 0, 2654435761)) >>> 0),
  };
}
