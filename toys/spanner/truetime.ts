/**
 * TrueTime as the Spanner paper defines it (Corbett et al., OSDI 2012, §3): `TT.now()` is an interval
 * `[earliest, latest]` that contains the absolute time, `earliest = wall − ε` and `latest = wall + ε`;
 * `TT.after(t)` is true when t has definitely passed. The interval is only as honest as ε: a clock that is
 * further off than ε makes TrueTime lie, which is what the clock fault exercises.
 */
export interface TTInterval {
  earliest: number;
  latest: number;
}

export class TrueTime {
  constructor(
    /** This node's wall clock in ms since the epoch (`Date.now`, skewed by the OS-level clock fault). */
    private readonly wallNow: () => number,
    /** The uncertainty bound the node assumes, in ms. */
    readonly epsilonMs: number,
  ) {}

  now(): TTInterval {
    const w = this.wallNow();
    return { earliest: w - this.epsilonMs, latest: w + this.epsilonMs };
  }

  /** t has definitely passed. */
  after(t: number): boolean {
    return this.now().earliest > t;
  }

  /** t has definitely not arrived. */
  before(t: number): boolean {
    return this.now().latest < t;
  }

  /** How long commit wait must still wait for `TT.after(ts)`, in ms (0 when it already holds). */
  waitFor(ts: number): number {
    return Math.max(0, ts - this.now().earliest + 1);
  }
}
