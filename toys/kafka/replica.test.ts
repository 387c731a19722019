import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PartitionReplica, type CommitOutcome, type PartitionState } from './replica.js';

let now = 0;
const clock = { now: () => now };
const REPLICAS = [1, 2, 3];

function replicas(): Map<number, PartitionReplica> {
  return new Map(REPLICAS.map((id) => [id, new PartitionReplica(0, id, REPLICAS, clock)]));
}

function state(leader: number, leaderEpoch: number, isr: number[], stateVersion = leaderEpoch): PartitionState {
  return { leader, leaderEpoch, isr, stateVersion };
}

/** One fetch round trip from follower `id` to its leader, as the broker's fetcher does it. */
function fetchOnce(rs: Map<number, PartitionReplica>, id: number): void {
  const f = rs.get(id)!;
  const leader = rs.get(f.leaderId)!;
  const r = leader.handleFetch(id, f.leo);
  if (r.ok) f.applyFetched(r.records, r.hw);
  else if (r.error === 'OffsetOutOfRange') f.handleOffsetOutOfRange(r.leo);
}

function replicate(rs: Map<number, PartitionReplica>, ids: number[], rounds = 2): void {
  for (let i = 0; i < rounds; i++) for (const id of ids) fetchOnce(rs, id);
}

async function produce(leader: PartitionReplica, value: number, minIsr: number, settle: () => void): Promise<CommitOutcome | 'NotLeader' | 'NotEnoughReplicas'> {
  const a = leader.append(value, minIsr);
  if (!a.ok) return a.error;
  const p = leader.waitForCommit(a.offset, minIsr, 1000);
  settle();
  await vi.advanceTimersByTimeAsync(0);
  return Promise.race([p, vi.advanceTimersByTimeAsync(1000).then(() => p)]);
}

beforeEach(() => {
  vi.useFakeTimers();
  now = 0;
});
afterEach(() => vi.useRealTimers());

describe('replication and the high watermark', () => {
  it('commits a record only when every in-sync replica has fetched past it', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    const a = leader.append(10, 1);
    expect(a).toEqual({ ok: true, offset: 0 });
    let outcome: CommitOutcome | undefined;
    void leader.waitForCommit(0, 1, 1000).then((o) => (outcome = o));
    fetchOnce(rs, 2); // 2 fetched the record, but the leader learns that only at 2's next fetch
    fetchOnce(rs, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(leader.hw).toBe(0);
    expect(outcome).toBeUndefined();
    fetchOnce(rs, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toBeUndefined(); // 3 has not reported yet
    fetchOnce(rs, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(leader.hw).toBe(1);
    expect(outcome).toBe('committed');
    // Followers learn the HW on their next fetch.
    replicate(rs, [2, 3], 1);
    expect(rs.get(2)!.hw).toBe(1);
    expect(rs.get(2)!.readCommitted(0).map((r) => r.value)).toEqual([10]);
  });

  it('times out an ack that the ISR never confirms (indeterminate)', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const o = await produce(rs.get(1)!, 1, 1, () => undefined);
    expect(o).toBe('timeout');
  });

  it('refuses appends on a follower (NotLeader) and below min ISR (NotEnoughReplicas)', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1]));
    expect(rs.get(2)!.append(1, 1)).toEqual({ ok: false, error: 'NotLeader' });
    expect(rs.get(1)!.append(1, 2)).toEqual({ ok: false, error: 'NotEnoughReplicas' });
    expect(rs.get(1)!.leo).toBe(0);
  });

  it('answers a fetch beyond its log end with OffsetOutOfRange', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    expect(rs.get(1)!.handleFetch(2, 5)).toEqual({ ok: false, error: 'OffsetOutOfRange', leo: 0 });
  });

  it('wakes a long-polling fetch when a record is appended', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    let woke = false;
    void rs.get(1)!.waitForData(0, 500).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(woke).toBe(false);
    rs.get(1)!.append(1, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
  });
});

describe('ISR shrink and expansion', () => {
  it('reports a follower that stopped fetching as lagging after lagMaxMs, not one fetching under steady load', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    for (let t = 0; t < 40; t++) {
      now += 100;
      leader.append(t, 1);
      // 2 keeps fetching but is always a record behind (the next one arrives between fetches); 3 is cut off.
      fetchOnce(rs, 2);
    }
    expect(leader.laggingReplicas(2000)).toEqual([3]);
    leader.setIsr([1, 2], 2);
    expect(leader.isr).toEqual([1, 2]);
  });

  it('a shrunk ISR of the leader alone commits at once (min ISR 1) or answers NotEnoughReplicas (min ISR 2)', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    leader.setIsr([1], 2);
    expect(await produce(leader, 1, 1, () => undefined)).toBe('committed');
    expect(await produce(leader, 2, 2, () => undefined)).toBe('NotEnoughReplicas');
  });

  it('a pending produce whose ISR shrinks below min ISR is indeterminate, not acknowledged', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    leader.append(1, 2);
    const p = leader.waitForCommit(0, 2, 1000);
    leader.setIsr([1], 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(await p).toBe('not-enough-replicas-after-append');
  });

  it('proposes a follower for the ISR once it fetched up to the HW recently', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2]));
    const leader = rs.get(1)!;
    leader.append(1, 1);
    replicate(rs, [2], 2);
    expect(leader.caughtUpReplicas(2000)).toEqual([]);
    replicate(rs, [3], 2);
    expect(leader.caughtUpReplicas(2000)).toEqual([3]);
    // A follower heard from long ago is not proposed even if its last offset matched.
    now += 5000;
    expect(leader.caughtUpReplicas(2000)).toEqual([]);
  });

  it('ignores an ISR-only update older than what it knows', () => {
    const r = new PartitionReplica(0, 1, REPLICAS, clock);
    r.apply(state(1, 1, [1, 2, 3], 1));
    r.setIsr([1, 2], 2);
    expect(r.apply(state(1, 1, [1, 2, 3], 1))).toBe('unchanged');
    expect(r.isr).toEqual([1, 2]);
    expect(r.apply(state(1, 1, [1, 2, 3], 3))).toBe('isr-updated');
  });
});

describe('leader changes', () => {
  it('a new follower truncates to its HW; a follower ahead of its new leader truncates to the leader LEO', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    for (let i = 0; i < 5; i++) leader.append(i, 1);
    replicate(rs, [2, 3], 3);
    expect(rs.get(2)!.hw).toBe(5);
    // 3 falls behind at 5; 2 gets 3 more records that are not committed.
    for (let i = 5; i < 8; i++) leader.append(i, 1);
    fetchOnce(rs, 2);
    expect(rs.get(2)!.leo).toBe(8);
    expect(rs.get(2)!.hw).toBe(5);
    // Leader change to 3: 2 becomes its follower and drops what is above its HW.
    rs.get(3)!.apply(state(3, 2, [2, 3]));
    expect(rs.get(2)!.apply(state(3, 2, [2, 3]))).toBe('became-follower');
    expect(rs.get(2)!.leo).toBe(5);
    // 1 (the old leader) follows too: its HW was 5, so it keeps 5 of its 8.
    rs.get(1)!.apply(state(3, 2, [2, 3]));
    expect(rs.get(1)!.leo).toBe(5);
  });

  it('a follower whose log is longer than its leader is cut to the leader LEO, committed records included', () => {
    const rs = replicas();
    // 2 led alone and committed 8 records nobody else has (an ISR of one).
    rs.get(2)!.apply(state(2, 1, [2]));
    for (let i = 0; i < 8; i++) rs.get(2)!.append(100 + i, 1);
    expect(rs.get(2)!.hw).toBe(8);
    // A stale command makes 3 (empty log) the leader and 2 its follower: 2 keeps its HW of 8...
    rs.get(3)!.apply(state(3, 2, [3, 2]));
    rs.get(2)!.apply(state(3, 2, [3, 2]));
    expect(rs.get(2)!.leo).toBe(8);
    // ...until its first fetch says the leader ends at 0.
    fetchOnce(rs, 2);
    expect(rs.get(2)!.leo).toBe(0);
    expect(rs.get(2)!.handleOffsetOutOfRange(0)).toBe(0);
  });

  it('a leader that becomes a follower fails its pending produces as indeterminate', async () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    leader.append(1, 1);
    const p = leader.waitForCommit(0, 1, 1000);
    leader.apply(state(2, 2, [2, 3]));
    expect(await p).toBe('not-leader');
  });

  it('goes offline on leader -1 and serves nothing', () => {
    const r = new PartitionReplica(0, 1, REPLICAS, clock);
    r.apply(state(1, 1, [1]));
    expect(r.apply(state(-1, 2, [1]))).toBe('went-offline');
    expect(r.append(1, 1)).toEqual({ ok: false, error: 'NotLeader' });
    expect(r.handleFetch(2, 0)).toEqual({ ok: false, error: 'NotLeader' });
  });
});

describe('the Jepsen 2013 sequence, in memory', () => {
  /**
   * Followers cut off → ISR shrinks to the leader → the leader acknowledges alone → the leader is lost and a
   * replica outside the ISR is elected. Returns which acknowledged values the new leader's log lacks.
   */
  async function jepsen(minIsr: number, unclean: boolean): Promise<{ acked: number[]; lost: number[]; refused: number }> {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(1, 1, [1, 2, 3]));
    const leader = rs.get(1)!;
    const acked: number[] = [];
    let refused = 0;
    let v = 0;
    const send = async (settle: () => void) => {
      const value = v++;
      const o = await produce(leader, value, minIsr, settle);
      if (o === 'committed') acked.push(value);
      else refused++;
    };
    for (let i = 0; i < 5; i++) await send(() => replicate(rs, [2, 3], 2));
    // Partition the followers off: after the lag limit the leader drops them from the ISR.
    now += 3000;
    expect(leader.laggingReplicas(2000)).toEqual([2, 3]);
    leader.setIsr([1], 2);
    for (let i = 0; i < 5; i++) await send(() => undefined);
    // The leader loses the coordinator: its session expires and the controller elects a live replica.
    if (!unclean) return { acked, lost: [], refused };
    rs.get(2)!.apply(state(2, 2, [2], 3));
    rs.get(3)!.apply(state(2, 2, [2], 3));
    rs.get(1)!.apply(state(2, 2, [2], 3));
    replicate(rs, [3, 1], 2);
    const present = new Set(rs.get(2)!.log.map((r) => r.value));
    return { acked, lost: acked.filter((x) => !present.has(x)), refused };
  }

  it('min ISR 1 + unclean election: acknowledged writes are lost', async () => {
    const r = await jepsen(1, true);
    expect(r.acked).toHaveLength(10);
    expect(r.lost).toEqual([5, 6, 7, 8, 9]);
  });

  it('min ISR 2: the lone leader refuses instead of acknowledging', async () => {
    const r = await jepsen(2, false);
    expect(r.acked).toEqual([0, 1, 2, 3, 4]);
    expect(r.refused).toBe(5);
  });
});

describe('leader-epoch truncation (KIP-101 / KIP-320)', () => {
  /** Like fetchOnce, but the follower names the epoch of its last record and cuts where the leader says. */
  function fetchWithEpoch(rs: Map<number, PartitionReplica>, id: number): void {
    const f = rs.get(id)!;
    const r = rs.get(f.leaderId)!.handleFetch(id, f.leo, f.lastEpoch);
    if (r.ok) f.applyFetched(r.records, r.hw);
    else if (r.error === 'Diverging') f.truncateTo(r.truncateTo);
    else if (r.error === 'OffsetOutOfRange') f.handleOffsetOutOfRange(r.leo);
  }

  it('an old lone leader that comes back as a follower replaces its unacknowledged tail with the new leader’s records', () => {
    const rs = replicas();
    for (const r of rs.values()) r.apply(state(2, 0, [2, 3, 1]));
    const old = rs.get(2)!;
    for (let v = 0; v < 3; v++) old.append(v, 1);
    replicate(rs, [3, 1]);
    // broker-2 alone in its ISR appends two records nobody else gets (refused or unacknowledged at min ISR 2).
    old.setIsr([2], 1);
    old.append(100, 1);
    old.append(101, 1);
    // broker-3 is elected (epoch 1) and acknowledges three new records with broker-1.
    for (const id of [3, 1]) rs.get(id)!.apply(state(3, 1, [3, 1], 2));
    for (let v = 10; v < 13; v++) rs.get(3)!.append(v, 2);
    replicate(rs, [1]);
    old.apply(state(3, 1, [3, 1], 3));
    // Kafka 0.8's rule (truncate to the HW, fetch from the LEO) would keep 100 and 101 where 10 and 11 are.
    for (let i = 0; i < 4; i++) fetchWithEpoch(rs, 2);
    expect(old.log.map((r) => r.value)).toEqual(rs.get(3)!.log.map((r) => r.value));
    expect(old.log.map((r) => r.value)).toEqual([0, 1, 2, 10, 11, 12]);
  });
});
