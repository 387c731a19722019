/**
 * The controller's decisions, as pure functions over what it reads from the coordinator:
 * partition assignment, the first leader, and re-election when a leader's broker is gone.
 * - Clean election: the first replica (in assignment order) that is in the ISR and alive. The new ISR is the
 *   old ISR minus dead brokers, so every acknowledged record (held by the whole ISR) survives.
 * - Unclean election (`unclean.leader.election.enable`, on by default until Kafka 0.11): when no ISR member
 *   is alive, the first live replica leads with whatever log it has, and the ISR restarts as just it.
 * - Otherwise the partition goes offline (leader -1) and keeps its last ISR, waiting for a member to return.
 */

export interface PartitionStateData {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Epoch of the controller that wrote this state (the leader keeps it when it changes the ISR). */
  controllerEpoch: number;
}

export type ElectionKind = 'clean' | 'unclean' | 'offline';

export type ElectionResult = { changed: false } | { changed: true; kind: ElectionKind; next: PartitionStateData };

/** Replicas of partition p: the brokers rotated by p, so the preferred (first) leaders spread out. */
export function assignReplicas(partition: number, brokers: readonly number[]): number[] {
  const n = brokers.length;
  return Array.from({ length: n }, (_, i) => brokers[(partition + i) % n]!);
}

/** The state a controller writes when it creates a partition: the first live replica leads, live replicas are in sync. */
export function initialState(replicas: readonly number[], live: ReadonlySet<number>, controllerEpoch: number): PartitionStateData | undefined {
  const alive = replicas.filter((r) => live.has(r));
  if (alive.length === 0) return undefined;
  return { leader: alive[0]!, leaderEpoch: 0, isr: alive, controllerEpoch };
}

export function electLeader(
  state: PartitionStateData,
  replicas: readonly number[],
  live: ReadonlySet<number>,
  opts: { uncleanAllowed: boolean; controllerEpoch: number },
): ElectionResult {
  if (state.leader >= 0 && live.has(state.leader)) return { changed: false };
  const base = { leaderEpoch: state.leaderEpoch + 1, controllerEpoch: opts.controllerEpoch };
  const clean = replicas.filter((r) => state.isr.includes(r) && live.has(r));
  if (clean.length > 0) {
    return { changed: true, kind: 'clean', next: { ...base, leader: clean[0]!, isr: state.isr.filter((r) => live.has(r)) } };
  }
  if (opts.uncleanAllowed) {
    const any = replicas.filter((r) => live.has(r));
    if (any.length > 0) return { changed: true, kind: 'unclean', next: { ...base, leader: any[0]!, isr: [any[0]!] } };
  }
  if (state.leader === -1) return { changed: false };
  // No eligible leader: offline. The ISR keeps its last member(s), the only ones allowed back as leader.
  return { changed: true, kind: 'offline', next: { ...base, leader: -1, isr: [...state.isr] } };
}

/** Broker id from a node name like `broker-2`; falls back to the 1-based index. */
export function brokerIdOf(name: string, index: number): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : index;
}

/**
 * The lab lists a group's peers in index order without the node itself, so broker k's peers are
 * [1..n] without k. Returns broker id → peer slot.
 */
export function peerSlots(selfId: number, peerCount: number): Map<number, number> {
  const ids = Array.from({ length: peerCount + 1 }, (_, i) => i + 1).filter((id) => id !== selfId);
  return new Map(ids.map((id, slot) => [id, slot]));
}
