/**
 * One replica of a Spanner-like key-value group: a Raft-style replicated log with a leader that holds a lease
 * (Spanner uses Paxos with 10 s leader leases; the election mechanics here follow Raft because it is shorter to
 * write), TrueTime commit timestamps and commit wait, strong reads served by the lease holder, and snapshot reads
 * served by any replica with their staleness. The core owns no timers and no sockets: the node (`replica.ts`)
 * calls `tick()` and wires `transport` to HTTP through Toxiproxy; tests wire both to a simulation.
 *
 * Nothing here knows about faults. A clock fault reaches it only through `clocks.wall()` (libfaketime skews
 * the process's wall clock) and a partition only through `transport` failing.
 */
import { ClockCheck, offsetSample } from './clock-check.js';
import { FollowerPromise, LeaderLease, type LeaseClocks, type LeaseDesign, type LeaseValidity, type Promise_ } from './lease.js';
import { TrueTime } from './truetime.js';

export interface Entry {
  index: number;
  term: number;
  /** null: the no-op a new leader commits to learn what is committed. */
  key: string | null;
  value: string | null;
  /** TrueTime commit timestamp (ms since the epoch, leader's wall clock + ε). */
  ts: number;
}

export interface AppendRequest {
  term: number;
  leader: number;
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commitIndex: number;
  /** Leader's wall clock when it sent this (safe time for snapshot reads). */
  leaderWall: number;
}

export interface AppendReply {
  term: number;
  ok: boolean;
  /** The follower's last log index (the leader backs up `nextIndex` from it when `ok` is false). */
  lastIndex: number;
  promise?: Promise_;
}

export interface VoteRequest {
  term: number;
  candidate: number;
  lastIndex: number;
  lastTerm: number;
  /** Raft's pre-vote (§9.6 of Ongaro's thesis): "would you vote for me?", changing nothing on either side. */
  preVote?: boolean;
}

export interface VoteReply {
  term: number;
  granted: boolean;
}

/** Calls to a peer by replica index; rejects when the network fails or the call times out. */
export interface Transport {
  append(peer: number, req: AppendRequest): Promise<AppendReply>;
  vote(peer: number, req: VoteRequest): Promise<VoteReply>;
  /** The peer's wall clock reading. */
  clock(peer: number): Promise<number>;
}

export interface ReplicaOptions {
  id: number;
  /** Replicas in the group. */
  size: number;
  design: LeaseDesign;
  leaseMs: number;
  /** ε: the clock uncertainty this replica assumes (TrueTime, lease margins, clock check). */
  epsilonMs: number;
  heartbeatMs: number;
  /** Extra random wait before standing for election, so candidates rarely collide. */
  electionJitterMs: number;
  /** Compare clocks with the peers and evict ourselves when ours is off by more than ε. */
  clockCheck: boolean;
  clocks: LeaseClocks;
  /** Uniform [0, 1), seeded. */
  random: () => number;
  transport: Transport;
  events?: Partial<ReplicaEvents>;
  /** Judges the leader's lease instead of the design (the workshop module, exercise 7). */
  leaseValid?: LeaseValidity;
}

/** What the node turns into metrics and log lines. */
export interface ReplicaEvents {
  becameLeader(term: number): void;
  steppedDown(term: number, why: string): void;
  electionStarted(term: number): void;
  evicted(medianOffsetMs: number): void;
  readmitted(): void;
  commitWait(ms: number): void;
}

export type Role = 'follower' | 'candidate' | 'leader';

/** Why a strong operation was refused; `indeterminate` means a write may still take effect. */
export class Refused extends Error {
  constructor(
    readonly reason: 'not-leader' | 'no-lease' | 'evicted' | 'no-quorum' | 'indeterminate',
    readonly leader: number | null,
  ) {
    super(reason);
    this.name = 'Refused';
  }
}

export class ReplicaCore {
  term = 0;
  role: Role = 'follower';
  leader: number | null = null;
  votedFor: number | null = null;
  readonly log: Entry[] = [];
  commitIndex = 0;
  /** Applied versions per key, oldest first (snapshot reads look back in time). */
  readonly store = new Map<string, { value: string; ts: number }[]>();
  evicted = false;
  /** Leader's wall time as of the last append we applied: snapshot reads are safe up to here. */
  safeTime = -Infinity;
  /**
   * When we last heard the leader (our monotonic clock) and how far its clock was then past `safeTime`: the
   * staleness a snapshot read reports is counted from these, never from our own wall clock, so a replica
   * whose wall clock stepped (an evicted one still serves snapshot reads) reports it honestly.
   */
  #safeHeardMono = -Infinity;
  #safeLagMs = 0;

  readonly tt: TrueTime;
  readonly lease: LeaderLease;
  readonly promise: FollowerPromise;
  readonly #clockCheck: ClockCheck;
  readonly #o: ReplicaOptions;
  readonly #events: ReplicaEvents;
  #lastHeardMono: number;
  #electionAfterMs: number;
  #nextHeartbeatMono = 0;
  #nextClockCheckMono = 0;
  #termStartIndex = 0;
  #leaderSinceMono = 0;
  #lastTs = 0;
  #heartbeatInFlight = false;
  #electionInFlight = false;
  readonly #nextIndex: number[];
  readonly #matchIndex: number[];
  readonly #commitWaiters: { index: number; resolve: () => void }[] = [];

  constructor(o: ReplicaOptions) {
    this.#o = o;
    this.#events = { becameLeader() {}, steppedDown() {}, electionStarted() {}, evicted() {}, readmitted() {}, commitWait() {}, ...o.events };
    this.tt = new TrueTime(o.clocks.wall, o.epsilonMs);
    this.lease = new LeaderLease(o.design, o.clocks, o.leaseMs, o.epsilonMs, o.size, o.leaseValid);
    this.promise = new FollowerPromise(o.design, o.clocks, o.leaseMs, o.epsilonMs);
    this.#clockCheck = new ClockCheck(o.epsilonMs, o.heartbeatMs * 8);
    this.#nextIndex = Array.from({ length: o.size }, () => 1);
    this.#matchIndex = Array.from({ length: o.size }, () => 0);
    this.#lastHeardMono = o.clocks.mono();
    // Leader placement: replica 0 (the first region's first replica, Spanner's "default leader") stands first,
    // and the others only after a whole election timeout, so a fresh group elects it unless it is unreachable.
    this.#electionAfterMs = o.id === 0 ? 0 : this.#electionTimeout();
  }

  get lastIndex(): number {
    return this.log.length;
  }

  get lastTerm(): number {
    return this.log.at(-1)?.term ?? 0;
  }

  /** Holds a lease it may serve strong reads under, right now. */
  holdsLease(): boolean {
    return this.role === 'leader' && !this.evicted && this.lease.valid() && this.commitIndex >= this.#termStartIndex;
  }

  #peers(): number[] {
    return Array.from({ length: this.#o.size }, (_, i) => i).filter((i) => i !== this.#o.id);
  }

  #majority(): number {
    return Math.floor(this.#o.size / 2) + 1;
  }

  /** How long a follower waits after it last heard a leader before it stands: a lease, plus seeded jitter. */
  #electionTimeout(): number {
    return this.#o.leaseMs + this.#o.random() * this.#o.electionJitterMs;
  }

  /**
   * After an attempt that won nobody (a pre-vote or vote without a majority): try again soon, after a heartbeat
   * and seeded jitter, not after a whole lease. Safe: what keeps two leaders' leases apart is each voter's
   * promise (it grants nothing while it stands), not the candidate's patience; and a candidate's own promise
   * must have lapsed too before it stands (`tick`).
   */
  #retryTimeout(): number {
    return this.#o.heartbeatMs + this.#o.random() * this.#o.electionJitterMs;
  }

  /** Called often (every few ms) by the node; starts heartbeats, elections and clock checks when due. */
  tick(): void {
    const now = this.#o.clocks.mono();
    if (this.#o.clockCheck && now >= this.#nextClockCheckMono) {
      this.#nextClockCheckMono = now + this.#o.heartbeatMs * 2;
      void this.#checkClock();
    }
    if (this.role === 'leader') {
      // Check quorum (Raft §6.2, etcd's CheckQuorum): a leader whose lease lapsed has lost its majority and
      // steps down, so a cut-off leader refuses writes instead of appending entries that can never commit.
      // It judges "lapsed" by its lease, on the lease's own clock: the flaw of the wall design shows here too.
      if (!this.lease.valid() && now - this.#leaderSinceMono > this.#o.leaseMs) return this.#stepDown(this.term, 'lease lapsed: no majority');
      if (now >= this.#nextHeartbeatMono && !this.#heartbeatInFlight) void this.#heartbeat();
      // While it serves at its own now, the lease holder's safe time keeps up, so that once deposed it still
      // answers snapshot reads at the last time it was current, with their staleness.
      if (this.holdsLease()) this.#heardLeader(this.#o.clocks.wall());
      return;
    }
    if (this.evicted || this.#electionInFlight) return;
    if (now - this.#lastHeardMono >= this.#electionAfterMs && this.promise.mayVote()) void this.#standForElection();
  }

  // ---- clock check -------------------------------------------------------------------------------------

  async #checkClock(): Promise<void> {
    const { clocks } = this.#o;
    await Promise.all(
      this.#peers().map(async (p) => {
        const sentWall = clocks.wall();
        const sentMono = clocks.mono();
        try {
          const peerWall = await this.#o.transport.clock(p);
          const rtt = clocks.mono() - sentMono;
          this.#clockCheck.record(String(p), offsetSample(sentWall, clocks.wall(), peerWall, rtt, clocks.mono()));
        } catch {
          // An unreachable peer tells nothing about our clock.
        }
      }),
    );
    const v = this.#clockCheck.verdict(clocks.mono(), this.#o.size);
    if (v.bad && !this.evicted) {
      this.evicted = true;
      this.#events.evicted(v.medianOffsetMs ?? 0);
      if (this.role === 'leader') this.#stepDown(this.term, 'clock evicted');
    } else if (!v.bad && this.evicted && v.fresh >= this.#majority() - 1) {
      this.evicted = false;
      this.#events.readmitted();
    }
  }

  // ---- elections -----------------------------------------------------------------------------------------

  /**
   * Pre-vote first: a replica cut off from the majority never raises its term, so when the partition heals it
   * cannot depose the majority's leader with a term it inflated while alone.
   */
  async #standForElection(): Promise<void> {
    this.#electionInFlight = true;
    const startedMono = this.#o.clocks.mono();
    this.#lastHeardMono = startedMono;
    this.#electionAfterMs = this.#retryTimeout();
    const term = this.term;
    const pre: VoteRequest = { term: term + 1, candidate: this.#o.id, lastIndex: this.lastIndex, lastTerm: this.lastTerm, preVote: true };
    const granted = await this.#canvass(pre);
    // The pre-vote is only good for the moment it was asked: if meanwhile another candidate won (we heard its
    // append or granted it our vote) or the term moved, standing now would depose a leader just elected with a
    // term the voters already passed (two candidates whose pre-votes overlapped took turns deposing each other).
    const stillAlone = this.role === 'follower' && this.term === term && this.#lastHeardMono === startedMono && !this.evicted;
    if (!granted || !stillAlone) {
      // Leader placement (Spanner's default leader region): while the group has never had a leader, replica 0
      // asks again soon — its peers may still be starting — instead of waiting out a whole election timeout.
      if (this.#o.id === 0 && this.term === 0) this.#electionAfterMs = this.#o.heartbeatMs;
      this.#electionInFlight = false;
      return;
    }
    await this.#runElection();
  }

  /**
   * Asks every peer; true as soon as a majority (with our own vote) granted, false once all answered or failed
   * without one. Not waiting for the peers that do not answer: a cut-off region would hold every pre-vote for a
   * whole RPC timeout, and the longer a pre-vote is open, the likelier another candidate's overlaps it.
   */
  #canvass(req: VoteRequest): Promise<boolean> {
    const peers = this.#peers();
    return new Promise<boolean>((resolve) => {
      let votes = 1;
      let pending = peers.length;
      for (const p of peers) {
        this.#o.transport.vote(p, req).then(
          (r) => {
            if (r.granted && ++votes >= this.#majority()) resolve(true);
            if (--pending === 0) resolve(false);
          },
          () => (--pending === 0 ? resolve(false) : undefined),
        );
      }
    });
  }

  async #runElection(): Promise<void> {
    this.term += 1;
    this.role = 'candidate';
    this.votedFor = this.#o.id;
    this.leader = null;
    const term = this.term;
    this.#events.electionStarted(term);
    this.#lastHeardMono = this.#o.clocks.mono();
    this.#electionAfterMs = this.#retryTimeout();
    let votes = 1;
    const req: VoteRequest = { term, candidate: this.#o.id, lastIndex: this.lastIndex, lastTerm: this.lastTerm };
    try {
      await new Promise<void>((resolve) => {
        let pending = this.#peers().length;
        const done = () => (--pending === 0 ? resolve() : undefined);
        for (const p of this.#peers()) {
          this.#o.transport.vote(p, req).then(
            (r) => {
              if (r.term > this.term) this.#stepDown(r.term, 'higher term in a vote reply');
              if (r.granted && this.term === term && this.role === 'candidate') {
                votes++;
                if (votes >= this.#majority()) {
                  this.#becomeLeader();
                  resolve();
                }
              }
              done();
            },
            () => done(),
          );
        }
      });
    } finally {
      this.#electionInFlight = false;
      if (this.role === 'candidate' && this.term === term) this.role = 'follower';
    }
  }

  #becomeLeader(): void {
    this.role = 'leader';
    this.leader = this.#o.id;
    this.#leaderSinceMono = this.#o.clocks.mono();
    for (const p of this.#peers()) {
      this.#nextIndex[p] = this.lastIndex + 1;
      this.#matchIndex[p] = 0;
    }
    // A no-op of our own term: once it commits, everything before it is known to be committed.
    this.#append(null, null);
    this.#termStartIndex = this.lastIndex;
    this.#nextHeartbeatMono = 0;
    this.#events.becameLeader(this.term);
  }

  #stepDown(term: number, why: string): void {
    const wasLeader = this.role === 'leader';
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.role = 'follower';
    this.lease.revoke();
    if (wasLeader) {
      this.leader = null;
      this.#events.steppedDown(this.term, why);
    }
    this.#lastHeardMono = this.#o.clocks.mono();
  }

  handleVote(req: VoteRequest): VoteReply {
    // Leader stickiness: while our promise to a leader stands, a candidate is not even heard (its higher
    // term would otherwise depose a working leader). A leader refuses too, also during its first lease while
    // its heartbeats are still on the way (etcd's leader ignores votes within an election timeout): a peer whose
    // timer fired before the new leader's first heartbeat reached it would otherwise depose it at once, and two
    // candidates could take turns deposing each other for as long as the inter-region latency allows.
    if (!this.promise.mayVote() || (this.role === 'leader' && (this.lease.valid() || this.#o.clocks.mono() - this.#leaderSinceMono < this.#o.leaseMs))) return { term: this.term, granted: false };
    if (req.preVote) {
      const upToDate = req.lastTerm > this.lastTerm || (req.lastTerm === this.lastTerm && req.lastIndex >= this.lastIndex);
      return { term: this.term, granted: req.term > this.term && upToDate };
    }
    if (req.term > this.term) this.#stepDown(req.term, 'a candidate with a higher term');
    const upToDate = req.lastTerm > this.lastTerm || (req.lastTerm === this.lastTerm && req.lastIndex >= this.lastIndex);
    const granted = req.term === this.term && (this.votedFor === null || this.votedFor === req.candidate) && upToDate;
    if (granted) {
      this.votedFor = req.candidate;
      this.#lastHeardMono = this.#o.clocks.mono();
    }
    return { term: this.term, granted };
  }

  // ---- replication ---------------------------------------------------------------------------------------

  #append(key: string | null, value: string | null): Entry {
    // TrueTime: a commit timestamp no earlier than TT.now().latest, and increasing.
    const ts = Math.max(this.tt.now().latest, this.#lastTs + 1);
    this.#lastTs = ts;
    const e: Entry = { index: this.lastIndex + 1, term: this.term, key, value, ts };
    this.log.push(e);
    this.#matchIndex[this.#o.id] = e.index;
    return e;
  }

  async #heartbeat(): Promise<void> {
    this.#heartbeatInFlight = true;
    const { clocks } = this.#o;
    const sentMono = clocks.mono();
    this.#nextHeartbeatMono = sentMono + this.#o.heartbeatMs;
    const term = this.term;
    const promises: Promise_[] = [];
    try {
      await Promise.all(
        this.#peers().map(async (p) => {
          const prevIndex = this.#nextIndex[p]! - 1;
          const req: AppendRequest = {
            term,
            leader: this.#o.id,
            prevIndex,
            prevTerm: prevIndex > 0 ? this.log[prevIndex - 1]!.term : 0,
            entries: this.log.slice(prevIndex),
            commitIndex: this.commitIndex,
            leaderWall: clocks.wall(),
          };
          let r: AppendReply;
          try {
            r = await this.#o.transport.append(p, req);
          } catch {
            return;
          }
          if (r.term > this.term) return this.#stepDown(r.term, 'higher term in an append reply');
          if (this.role !== 'leader' || this.term !== term) return;
          if (r.ok) {
            this.#matchIndex[p] = Math.max(this.#matchIndex[p]!, prevIndex + req.entries.length);
            this.#nextIndex[p] = this.#matchIndex[p]! + 1;
            if (r.promise) {
              promises.push(r.promise);
              this.lease.extend(sentMono, promises);
            }
            this.#advanceCommit();
          } else {
            this.#nextIndex[p] = Math.max(1, Math.min(this.#nextIndex[p]! - 1, r.lastIndex + 1));
          }
        }),
      );
    } finally {
      this.#heartbeatInFlight = false;
    }
  }

  #advanceCommit(): void {
    const sorted = [...this.#matchIndex].sort((a, b) => b - a);
    const n = sorted[this.#majority() - 1]!;
    // Raft §5.4.2: only entries of the current term commit by counting replicas.
    if (n > this.commitIndex && this.log[n - 1]?.term === this.term) {
      this.commitIndex = n;
      this.#apply();
    }
  }

  #apply(): void {
    for (const e of this.log.slice(0, this.commitIndex)) {
      if (e.key === null || e.value === null) continue;
      const versions = this.store.get(e.key) ?? [];
      if (!versions.some((v) => v.ts === e.ts)) {
        versions.push({ value: e.value, ts: e.ts });
        versions.sort((a, b) => a.ts - b.ts);
        this.store.set(e.key, versions);
      }
    }
    for (let i = this.#commitWaiters.length - 1; i >= 0; i--) {
      if (this.#commitWaiters[i]!.index <= this.commitIndex) this.#commitWaiters.splice(i, 1)[0]!.resolve();
    }
  }

  handleAppend(req: AppendRequest): AppendReply {
    if (req.term < this.term) return { term: this.term, ok: false, lastIndex: this.lastIndex };
    if (req.term > this.term || this.role !== 'follower') this.#stepDown(req.term, 'a leader with this term');
    this.leader = req.leader;
    this.#lastHeardMono = this.#o.clocks.mono();
    this.#electionAfterMs = this.#electionTimeout();
    const promise = this.promise.grant();
    if (req.prevIndex > this.lastIndex || (req.prevIndex > 0 && this.log[req.prevIndex - 1]!.term !== req.prevTerm)) {
      return { term: this.term, ok: false, lastIndex: Math.min(this.lastIndex, req.prevIndex - 1), promise };
    }
    for (const e of req.entries) {
      const mine = this.log[e.index - 1];
      if (mine && mine.term !== e.term) this.log.length = e.index - 1; // a stale tail from a deposed leader
      if (!this.log[e.index - 1]) this.log.push(e);
    }
    const newCommit = Math.min(req.commitIndex, this.lastIndex);
    if (newCommit > this.commitIndex) {
      this.commitIndex = newCommit;
      this.#apply();
    }
    this.#heardLeader(req.leaderWall);
    return { term: this.term, ok: true, lastIndex: this.lastIndex, promise };
  }

  /** The leader's wall clock read `leaderWall` just now: snapshot reads are safe up to it and the last commit. */
  #heardLeader(leaderWall: number): void {
    this.safeTime = Math.max(this.safeTime, Math.min(leaderWall, this.log[this.commitIndex - 1]?.ts ?? leaderWall));
    this.#safeHeardMono = this.#o.clocks.mono();
    this.#safeLagMs = Math.max(0, leaderWall - this.safeTime);
  }

  // ---- client operations ---------------------------------------------------------------------------------

  #mustLead(): void {
    if (this.evicted) throw new Refused('evicted', null);
    if (this.role !== 'leader') throw new Refused('not-leader', this.leader);
  }

  /** A linearizable write: committed by a majority, then commit wait until TT.after(ts) (at least 2ε in all). */
  async write(key: string, value: string, timeoutMs: number): Promise<{ ts: number; commitWaitMs: number }> {
    this.#mustLead();
    const assignedMono = this.#o.clocks.mono();
    const e = this.#append(key, value);
    this.#nextHeartbeatMono = 0; // replicate now, not at the next beat
    this.tick();
    const committed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#commitWaiters.push({ index: e.index, resolve: () => (clearTimeout(timer), resolve(true)) });
    });
    // Not committed in time: it may still commit later (or be truncated): the client cannot know.
    if (!committed) throw new Refused('indeterminate', this.leader);
    // Until TT.after(ts) holds, not just for the computed time: a timer may fire a little early.
    for (let waitMs = this.tt.waitFor(e.ts); waitMs > 0; waitMs = this.tt.waitFor(e.ts)) await new Promise((r) => setTimeout(r, waitMs));
    // Commit wait as the paper counts it: from choosing s until TT.after(s), overlapping replication.
    const commitWaitMs = this.#o.clocks.mono() - assignedMono;
    this.#events.commitWait(commitWaitMs);
    return { ts: e.ts, commitWaitMs };
  }

  /** A strong read: only the lease holder answers, from its committed state. */
  strongRead(key: string): { value: string | null; ts: number | null } {
    this.#mustLead();
    if (!this.holdsLease()) throw new Refused('no-lease', this.leader);
    const v = this.store.get(key)?.at(-1);
    return { value: v?.value ?? null, ts: v?.ts ?? null };
  }

  /**
   * A snapshot read at our safe time: any replica answers, and says how stale the answer may be — the time since
   * it last heard the leader (monotonic) plus how far the leader's clock was then past the safe time. The lease
   * holder answers at its own now (staleness 0). Never heard a leader: staleness unknown (Infinity).
   */
  snapshotRead(key: string): { value: string | null; ts: number | null; stalenessMs: number } {
    const current = this.role === 'leader' && this.holdsLease();
    const safe = current ? this.#o.clocks.wall() : this.safeTime;
    const v = this.store.get(key)?.filter((x) => x.ts <= safe).at(-1);
    const stalenessMs = current ? 0 : Number.isFinite(this.#safeHeardMono) ? this.#o.clocks.mono() - this.#safeHeardMono + this.#safeLagMs : Infinity;
    return { value: v?.value ?? null, ts: v?.ts ?? null, stalenessMs };
  }
}
