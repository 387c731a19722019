/**
 * One partition's replica on one broker, with Kafka 0.8's replication rules (the ones Jepsen tested in 2013):
 * - the leader appends; followers pull with fetch requests; a fetch at offset N tells the leader the
 *   follower holds everything below N;
 * - the high watermark (HW) is the lowest log end offset (LEO) among the in-sync replicas (ISR); a record
 *   below the HW is committed, and an `acks=all` produce is answered once its record is committed;
 * - a follower that has not caught up for `lagMaxMs` is dropped from the ISR by the leader (the broker
 *   writes the new ISR to the coordinator first, then calls `setIsr`), so a lone leader commits alone;
 * - `min.insync.replicas` refuses appends while the ISR is smaller (NotEnoughReplicas);
 * - a replica that becomes a follower truncates its log to its own HW and fetches from the new leader; if
 *   it is ahead of the leader it truncates to the leader's LEO (OffsetOutOfRange). Nothing checks that the
 *   records below the cut match the leader's: pre-KIP-101 Kafka did not either, which is how a follower of a
 *   stale leader, or an unclean leader, silently drops acknowledged records.
 * Pure state plus timers for the waits; the broker node owns the network and the coordinator.
 */

export type RecordValue = number | string;

export interface LogRecord {
  offset: number;
  value: RecordValue;
  /** Leader epoch under which the leader appended it. */
  leaderEpoch: number;
}

export type Role = 'leader' | 'follower' | 'none';

/** What a LeaderAndIsr command says about one partition (also its coordinator state). */
export interface PartitionState {
  /** -1: no leader (offline). */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Coordinator version of the partition's state node; orders ISR-only updates. */
  stateVersion: number;
}

export type AppendResult = { ok: true; offset: number } | { ok: false; error: 'NotLeader' | 'NotEnoughReplicas' };

/**
 * - committed: below the HW with enough in-sync replicas (acknowledged);
 * - not-enough-replicas-after-append, timeout, not-leader: the record may or may not survive (indeterminate).
 */
export type CommitOutcome = 'committed' | 'not-enough-replicas-after-append' | 'timeout' | 'not-leader';

export type FetchResult =
  | { ok: true; records: LogRecord[]; hw: number; leo: number }
  | { ok: false; error: 'NotLeader' }
  | { ok: false; error: 'OffsetOutOfRange'; leo: number }
  | { ok: false; error: 'Diverging'; truncateTo: number }
  | { ok: false; error: 'UnknownReplica' };

export type ApplyOutcome = 'became-leader' | 'became-follower' | 'went-offline' | 'isr-updated' | 'unchanged';

interface FollowerState {
  /** Known LEO (the last fetch offset); undefined until the follower fetches from this leader. */
  leo: number | undefined;
  lastCaughtUpMs: number;
  /** Leader LEO and time at the previous fetch: Kafka's rule for "caught up" under a steady stream. */
  lastFetchLeaderLeo: number;
  lastFetchMs: number;
}

interface CommitWaiter {
  offset: number;
  value: RecordValue;
  minIsr: number;
  resolve: (o: CommitOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface DataWaiter {
  from: number;
  resolve: () => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ReplicaOptions {
  now: () => number;
  /** Records per fetch reply. */
  maxFetchRecords?: number;
}

export class PartitionReplica {
  role: Role = 'none';
  leaderId = -1;
  leaderEpoch = -1;
  isr: number[] = [];
  stateVersion = -1;
  hw = 0;
  readonly log: LogRecord[] = [];
  readonly #followers = new Map<number, FollowerState>();
  readonly #commitWaiters = new Set<CommitWaiter>();
  readonly #dataWaiters = new Set<DataWaiter>();
  readonly #now: () => number;
  readonly #maxFetch: number;

  constructor(
    readonly partition: number,
    readonly brokerId: number,
    readonly replicas: readonly number[],
    opts: ReplicaOptions,
  ) {
    this.#now = opts.now;
    this.#maxFetch = opts.maxFetchRecords ?? 500;
  }

  get leo(): number {
    return this.log.length;
  }

  // ------------------------------------------------------------------ commands from the controller

  /** Applies a partition state the broker has accepted. Staleness checks (fencing) are the caller's. */
  apply(state: PartitionState): ApplyOutcome {
    if (state.leader === this.brokerId) {
      if (this.role !== 'leader' || this.leaderEpoch !== state.leaderEpoch) {
        this.#becomeLeader(state);
        return 'became-leader';
      }
    } else if (state.leader < 0) {
      if (this.role !== 'none' || this.leaderEpoch !== state.leaderEpoch) {
        this.#stopLeading('not-leader');
        this.role = 'none';
        this.leaderId = -1;
        this.leaderEpoch = state.leaderEpoch;
        this.isr = [...state.isr];
        this.stateVersion = state.stateVersion;
        return 'went-offline';
      }
    } else if (this.role !== 'follower' || this.leaderId !== state.leader || this.leaderEpoch !== state.leaderEpoch) {
      this.#becomeFollower(state);
      return 'became-follower';
    }
    // Same leader, same epoch: only the ISR can change, and only forward in the coordinator's order.
    if (state.stateVersion > this.stateVersion) {
      this.stateVersion = state.stateVersion;
      if (!sameSet(this.isr, state.isr)) {
        this.#setIsrInternal(state.isr);
        return 'isr-updated';
      }
    }
    return 'unchanged';
  }

  #becomeLeader(state: PartitionState): void {
    const wasLeader = this.role === 'leader';
    this.role = 'leader';
    this.leaderId = this.brokerId;
    this.leaderEpoch = state.leaderEpoch;
    this.stateVersion = state.stateVersion;
    this.isr = [...state.isr];
    const now = this.#now();
    this.#followers.clear();
    for (const r of this.replicas) {
      if (r === this.brokerId) continue;
      // ISR members get a grace period from now; the others must fetch and catch up to get in.
      this.#followers.set(r, { leo: undefined, lastCaughtUpMs: this.isr.includes(r) ? now : 0, lastFetchLeaderLeo: this.leo, lastFetchMs: now });
    }
    // A re-elected leader keeps its pending produces: their records are still in its log.
    if (!wasLeader) this.#stopLeading('not-leader');
    this.#advanceHw();
    this.#wakeFetchers();
  }

  #becomeFollower(state: PartitionState): void {
    this.#stopLeading('not-leader');
    this.role = 'follower';
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.stateVersion = state.stateVersion;
    this.isr = [...state.isr];
    this.#followers.clear();
    // Kafka 0.8: a new follower drops whatever it holds above its HW, then fetches from the leader.
    this.truncateTo(this.hw);
    this.#wakeFetchers();
  }

  #stopLeading(outcome: CommitOutcome): void {
    for (const w of this.#commitWaiters) {
      clearTimeout(w.timer);
      w.resolve(outcome);
    }
    this.#commitWaiters.clear();
  }

  // ------------------------------------------------------------------ leader: produce

  append(value: RecordValue, minIsr: number): AppendResult {
    if (this.role !== 'leader') return { ok: false, error: 'NotLeader' };
    if (this.isr.length < minIsr) return { ok: false, error: 'NotEnoughReplicas' };
    const offset = this.leo;
    this.log.push({ offset, value, leaderEpoch: this.leaderEpoch });
    this.#advanceHw();
    this.#wakeFetchers();
    return { ok: true, offset };
  }

  /** Resolves when the record at `offset` is committed, or with why it may not be. */
  waitForCommit(offset: number, minIsr: number, timeoutMs: number): Promise<CommitOutcome> {
    const value = this.log[offset]?.value;
    if (this.role !== 'leader' || value === undefined) return Promise.resolve('not-leader');
    return new Promise((resolve) => {
      const w: CommitWaiter = {
        offset,
        value,
        minIsr,
        resolve,
        timer: setTimeout(() => {
          this.#commitWaiters.delete(w);
          resolve('timeout');
        }, timeoutMs),
      };
      this.#commitWaiters.add(w);
      this.#settleCommits();
    });
  }

  #settleCommits(): void {
    for (const w of this.#commitWaiters) {
      if (w.offset >= this.hw) continue;
      clearTimeout(w.timer);
      this.#commitWaiters.delete(w);
      // The slot must still hold this produce's record (it always does unless the log was cut under it).
      if (this.log[w.offset]?.value !== w.value) w.resolve('not-leader');
      else w.resolve(this.isr.length >= w.minIsr ? 'committed' : 'not-enough-replicas-after-append');
    }
  }

  // ------------------------------------------------------------------ leader: replication

  /**
   * `lastFetchedEpoch` (KIP-101 / KIP-320, optional): the leader epoch of the follower's last record. When the
   * leader's record before `fetchOffset` has another epoch, the logs diverged there: the answer is where the
   * follower must cut (the end of that epoch in the leader's log), instead of silently continuing after a
   * record the leader never had.
   */
  handleFetch(replicaId: number, fetchOffset: number, lastFetchedEpoch?: number): FetchResult {
    if (this.role !== 'leader') return { ok: false, error: 'NotLeader' };
    const st = this.#followers.get(replicaId);
    if (!st) return { ok: false, error: 'UnknownReplica' };
    if (fetchOffset > this.leo) return { ok: false, error: 'OffsetOutOfRange', leo: this.leo };
    if (lastFetchedEpoch !== undefined && fetchOffset > 0 && this.log[fetchOffset - 1]!.leaderEpoch !== lastFetchedEpoch) {
      let epochEnd = this.log.findIndex((r) => r.leaderEpoch > lastFetchedEpoch);
      if (epochEnd < 0) epochEnd = this.leo;
      return { ok: false, error: 'Diverging', truncateTo: Math.min(epochEnd, fetchOffset - 1) };
    }
    const now = this.#now();
    if (fetchOffset >= this.leo) st.lastCaughtUpMs = now;
    else if (fetchOffset >= st.lastFetchLeaderLeo) st.lastCaughtUpMs = Math.max(st.lastCaughtUpMs, st.lastFetchMs);
    st.lastFetchLeaderLeo = this.leo;
    st.lastFetchMs = now;
    st.leo = fetchOffset;
    this.#advanceHw();
    return { ok: true, records: this.log.slice(fetchOffset, fetchOffset + this.#maxFetch), hw: this.hw, leo: this.leo };
  }

  /** Long-poll support: resolves when the log grows past `from`, the role changes, or after `maxWaitMs`. */
  waitForData(from: number, maxWaitMs: number): Promise<void> {
    if (this.leo > from || this.role !== 'leader' || maxWaitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const w: DataWaiter = {
        from,
        resolve,
        timer: setTimeout(() => {
          this.#dataWaiters.delete(w);
          resolve();
        }, maxWaitMs),
      };
      this.#dataWaiters.add(w);
    });
  }

  #wakeFetchers(): void {
    for (const w of this.#dataWaiters) {
      if (this.leo > w.from || this.role !== 'leader') {
        clearTimeout(w.timer);
        this.#dataWaiters.delete(w);
        w.resolve();
      }
    }
  }

  #advanceHw(): void {
    if (this.role !== 'leader') return;
    let hw = this.leo;
    for (const r of this.isr) {
      if (r === this.brokerId) continue;
      const leo = this.#followers.get(r)?.leo;
      // An in-sync follower not yet heard from holds the HW where it is.
      if (leo === undefined) return;
      hw = Math.min(hw, leo);
    }
    // The HW never moves back on a leader.
    if (hw > this.hw) this.hw = hw;
    this.#settleCommits();
  }

  /** ISR members that have not caught up within `lagMaxMs` (the leader proposes dropping them). */
  laggingReplicas(lagMaxMs: number): number[] {
    if (this.role !== 'leader') return [];
    const now = this.#now();
    return this.isr.filter((r) => r !== this.brokerId && now - (this.#followers.get(r)?.lastCaughtUpMs ?? 0) > lagMaxMs);
  }

  /** Replicas outside the ISR that recently caught up to the HW (the leader proposes adding them). */
  caughtUpReplicas(lagMaxMs: number): number[] {
    if (this.role !== 'leader') return [];
    const now = this.#now();
    return this.replicas.filter((r) => {
      if (r === this.brokerId || this.isr.includes(r)) return false;
      const st = this.#followers.get(r);
      return st !== undefined && st.leo !== undefined && st.leo >= this.hw && now - st.lastCaughtUpMs <= lagMaxMs;
    });
  }

  /** After the broker wrote a new ISR to the coordinator (its version is the new state version). */
  setIsr(isr: number[], stateVersion: number): void {
    this.stateVersion = stateVersion;
    this.#setIsrInternal(isr);
  }

  #setIsrInternal(isr: number[]): void {
    const before = new Set(this.isr);
    this.isr = [...isr];
    if (this.role === 'leader') {
      const now = this.#now();
      for (const r of isr) {
        const st = this.#followers.get(r);
        // A member that just joined gets the same grace as at election: it is not dropped before it could fetch.
        if (st && !before.has(r)) st.lastCaughtUpMs = Math.max(st.lastCaughtUpMs, now);
      }
    }
    this.#advanceHw();
  }

  // ------------------------------------------------------------------ follower side

  /** Appends what the leader sent. Records must continue the log; anything else is ignored. */
  applyFetched(records: readonly LogRecord[], leaderHw: number): number {
    if (this.role !== 'follower') return 0;
    let appended = 0;
    for (const r of records) {
      if (r.offset !== this.leo) continue;
      this.log.push({ offset: r.offset, value: r.value, leaderEpoch: r.leaderEpoch });
      appended++;
    }
    this.hw = Math.min(leaderHw, this.leo);
    return appended;
  }

  /** The leader's log is shorter than ours: cut ours to its end (Kafka 0.8's OffsetOutOfRange handling). */
  handleOffsetOutOfRange(leaderLeo: number): number {
    if (this.role !== 'follower' || leaderLeo >= this.leo) return 0;
    const dropped = this.leo - leaderLeo;
    this.truncateTo(leaderLeo);
    return dropped;
  }

  /** The leader epoch of the last record (what a KIP-101 follower sends with its fetch). */
  get lastEpoch(): number | undefined {
    return this.log[this.log.length - 1]?.leaderEpoch;
  }

  truncateTo(offset: number): number {
    const dropped = Math.max(0, this.leo - offset);
    if (dropped > 0) this.log.length = offset;
    if (this.hw > this.leo) this.hw = this.leo;
    return dropped;
  }

  // ------------------------------------------------------------------ consumers

  /** Committed records from `from` (what a consumer may read). */
  readCommitted(from: number, max = Number.POSITIVE_INFINITY): LogRecord[] {
    return this.log.slice(from, Math.min(this.hw, from + max));
  }

  /** Cancels every timer (shutdown). */
  close(): void {
    this.#stopLeading('not-leader');
    for (const w of this.#dataWaiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.#dataWaiters.clear();
  }
}

export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
