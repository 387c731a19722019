/**
 * Spanner evicts machines whose clocks misbehave (OSDI 2012, §3: "a daemon whose local clock ... is
 * evicted"). A node estimates each peer's offset from a round trip (NTP's way: the peer's reading against the
 * midpoint of send and receive on our clock); the estimate is only good to ± rtt/2. A node whose clock
 * disagrees with a majority of its peers by more than ε plus that error evicts itself.
 */
export interface OffsetSample {
  /** Peer's wall reading minus the midpoint of our send and receive wall readings, in ms. */
  offsetMs: number;
  /** The round trip, on our monotonic clock, in ms. */
  rttMs: number;
  /** When measured, monotonic ms. */
  atMono: number;
}

export function offsetSample(sentWall: number, receivedWall: number, peerWall: number, rttMs: number, atMono: number): OffsetSample {
  return { offsetMs: peerWall - (sentWall + receivedWall) / 2, rttMs, atMono };
}

export class ClockCheck {
  readonly #samples = new Map<string, OffsetSample>();

  constructor(
    private readonly epsilonMs: number,
    /** Samples older than this are ignored (a peer we stopped hearing from says nothing about us). */
    private readonly maxAgeMs: number,
  ) {}

  record(peer: string, sample: OffsetSample): void {
    this.#samples.set(peer, sample);
  }

  /**
   * Our clock is bad when a majority of the group's members (peers only) see it off by more than ε + rtt/2.
   * `groupSize` includes this node. Without fresh samples from a majority, nothing is concluded.
   */
  verdict(nowMono: number, groupSize: number): { bad: boolean; medianOffsetMs: number | null; fresh: number } {
    const fresh = [...this.#samples.values()].filter((s) => nowMono - s.atMono <= this.maxAgeMs);
    const majority = Math.floor(groupSize / 2) + 1;
    if (fresh.length === 0) return { bad: false, medianOffsetMs: null, fresh: 0 };
    const sorted = fresh.map((s) => s.offsetMs).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const disagreeing = fresh.filter((s) => Math.abs(s.offsetMs) > this.epsilonMs + s.rttMs / 2).length;
    // A majority of the group sees our clock off: we are the odd one out (one bad peer cannot evict us).
    return { bad: disagreeing >= majority, medianOffsetMs: median, fresh: fresh.length };
  }
}
