/**
 * Paxos/Raft leader leases, in two designs.
 *
 * `wall` (the baseline): a follower promises "no other leader until W", W an absolute time on the follower's
 * wall clock (its `now + L`); the leader holds the lease while its own wall clock reads earlier than the
 * promise of a majority. Two clocks are compared, so a leader whose clock is behind believes in its lease
 * for longer than its followers honour it — the assumption "ε is small" is never checked.
 *
 * `monotonic` (the mitigation): only durations are used, each on one node's monotonic clock. The leader's
 * lease runs from when it SENT the heartbeat that a majority acknowledged, for L − ε; a follower's promise
 * runs from when it RECEIVED it, for L, and a voter waits L + ε before it votes for anyone else. Receive
 * follows send, so the leader's lease ends before any promise does, whatever the wall clocks say.
 */
export type LeaseDesign = 'wall' | 'monotonic';

export interface LeaseClocks {
  /** Wall time in ms since the epoch (skewable). */
  wall(): number;
  /** Monotonic ms (never skewed: `performance.now`). */
  mono(): number;
}

/** What a follower tells the leader when it acknowledges a heartbeat. */
export interface Promise_ {
  /** `wall` design: the absolute wall time (follower's clock) until which it will not vote for another. */
  untilWall: number;
}

/** The follower's side: the promise it made, and whether it may vote yet. */
export class FollowerPromise {
  #untilWall = -Infinity;
  #untilMono = -Infinity;

  constructor(
    private readonly design: LeaseDesign,
    private readonly clocks: LeaseClocks,
    private readonly leaseMs: number,
    private readonly epsilonMs: number,
  ) {}

  /** A heartbeat from the current leader arrived: promise again. */
  grant(): Promise_ {
    this.#untilWall = this.clocks.wall() + this.leaseMs;
    this.#untilMono = this.clocks.mono() + this.leaseMs;
    return { untilWall: this.#untilWall };
  }

  /** May this node vote for a new leader now? */
  mayVote(): boolean {
    if (this.design === 'wall') return this.clocks.wall() >= this.#untilWall;
    return this.clocks.mono() >= this.#untilMono + this.epsilonMs;
  }

  /** How long until it may vote, in ms (for timers). */
  remainingMs(): number {
    if (this.design === 'wall') return Math.max(0, this.#untilWall - this.clocks.wall());
    return Math.max(0, this.#untilMono + this.epsilonMs - this.clocks.mono());
  }
}

/** What a lease-validity decision sees (the workshop's `leaseValid`, exercise 7): both designs' facts. */
export interface LeaseFacts {
  /** The wall design's lease: the majority-th earliest promise, an absolute time on the followers' wall clocks. */
  promisedUntilWall: number;
  /** When the leader sent the latest heartbeat round a majority acknowledged, on its own monotonic clock. */
  sentMono: number;
  /** L: how long each promise lasts, from when a follower received the heartbeat. */
  durationMs: number;
}

/** Decides `valid()` instead of the design (a workshop module; its own failure falls back to the design). */
export type LeaseValidity = (now: { wall: number; mono: number }, lease: LeaseFacts, epsilonMs: number, byDesign: boolean) => boolean;

/** The leader's side: its lease, extended by each heartbeat round that a majority acknowledged. */
export class LeaderLease {
  #untilWall = -Infinity;
  #untilMono = -Infinity;
  /** For a `decide` hook: the latest acknowledged round's send time, in either design. */
  #sentMono = -Infinity;
  #promisedWall = -Infinity;

  constructor(
    private readonly design: LeaseDesign,
    private readonly clocks: LeaseClocks,
    private readonly leaseMs: number,
    private readonly epsilonMs: number,
    /** Replicas in the group, the leader included. */
    private readonly groupSize: number,
    private readonly decide?: LeaseValidity,
  ) {}

  /**
   * A heartbeat round sent at `sentMono` was acknowledged: `promises` from the followers that answered
   * (the leader's own promise to itself counts as one more).
   */
  extend(sentMono: number, promises: readonly Promise_[]): boolean {
    const majority = Math.floor(this.groupSize / 2) + 1;
    if (promises.length + 1 < majority) return false;
    if (this.decide) {
      const all = [...promises.map((p) => p.untilWall), this.clocks.wall() + this.leaseMs].sort((a, b) => b - a);
      this.#promisedWall = Math.max(this.#promisedWall, all[majority - 1]!);
      this.#sentMono = Math.max(this.#sentMono, sentMono);
    }
    if (this.design === 'wall') {
      // The majority-th earliest promise, counting the leader's own (its wall now + L).
      const all = [...promises.map((p) => p.untilWall), this.clocks.wall() + this.leaseMs].sort((a, b) => b - a);
      this.#untilWall = Math.max(this.#untilWall, all[majority - 1]!);
    } else {
      this.#untilMono = Math.max(this.#untilMono, sentMono + this.leaseMs - this.epsilonMs);
    }
    return true;
  }

  valid(): boolean {
    const byDesign = this.design === 'wall' ? this.clocks.wall() < this.#untilWall : this.clocks.mono() < this.#untilMono;
    // A revoked (or never extended) lease is not the module's to judge.
    if (!this.decide || this.#sentMono === -Infinity) return byDesign;
    return this.decide({ wall: this.clocks.wall(), mono: this.clocks.mono() }, { promisedUntilWall: this.#promisedWall, sentMono: this.#sentMono, durationMs: this.leaseMs }, this.epsilonMs, byDesign);
  }

  /** Drop the lease at once (stepping down, or evicted for a bad clock). */
  revoke(): void {
    this.#untilWall = -Infinity;
    this.#untilMono = -Infinity;
    this.#sentMono = -Infinity;
    this.#promisedWall = -Infinity;
  }
}
