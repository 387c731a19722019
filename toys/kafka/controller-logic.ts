/**
 * The controller's decisions, as pure functions over what it reads from the coordinator:
 * partition assignment, the first leader, and re-election when a leader's broker is gone.
 * - Clean election: the first replica (in assignment order) that is in the ISR and alive. The new ISR is the
 *   old ISR minus dead brokers, so every acknowledged record (held by the whole ISR) survives.
 * - Unclean election (`unclean.leader.election.enable`, on by default until Kafka 0.11): when no ISR member
 *   is alive, the first live replica leads with whatever log it has, and the ISR restarts as just it.
 * - Eligible leader replicas (KIP-966, `eligibleLeaderReplicas`): when no ISR member is alive, a live replica in
 *   the ELR leads. A replica joins the ELR when an ISR shrink leaves fewer than min.insync.replicas in sync:
 *   from then on nothing can be acknowledged (a write needs min.insync.replicas), so it holds every
 *   acknowledged record. The new leader starts with ISR [itself]; the others stay eligible.
 * - Otherwise the partition goes offline (leader -1) and keeps its last ISR, waiting for a member to return.
 * - Preferred leader (auto.leader.rebalance.enable): a live leader that is not the partition's first replica
 *   hands leadership back to it once it is alive and in the ISR, so leaders stay spread over the brokers.
 */

export interface PartitionStateData {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Epoch of the controller that wrote this state (the leader keeps it when it changes the ISR). */
  controllerEpoch: number;
  /** Eligible leader replicas (KIP-966): out of the ISR, but they hold every acknowledged record. */
  elr?: number[];
}

export type ElectionKind = 'clean' | 'eligible' | 'unclean' | 'offline' | 'preferred';

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
  opts: { uncleanAllowed: boolean; controllerEpoch: number; eligibleLeaderReplicas?: boolean; preferredLeader?: boolean },
): ElectionResult {
  const elr = state.elr ?? [];
  const withElr = (x: Omit<PartitionStateData, 'elr'>, e: number[]): PartitionStateData => (e.length > 0 ? { ...x, elr: e } : x);
  const base = { leaderEpoch: state.leaderEpoch + 1, controllerEpoch: opts.controllerEpoch };
  if (state.leader >= 0 && live.has(state.leader)) {
    const preferred = replicas[0]!;
    if (opts.preferredLeader && state.leader !== preferred && live.has(preferred) && state.isr.includes(preferred)) {
      return { changed: true, kind: 'preferred', next: withElr({ ...base, leader: preferred, isr: [...state.isr] }, elr) };
    }
    return { changed: false };
  }
  const clean = replicas.filter((r) => state.isr.includes(r) && live.has(r));
  if (clean.length > 0) {
    return { changed: true, kind: 'clean', next: withElr({ ...base, leader: clean[0]!, isr: state.isr.filter((r) => live.has(r)) }, elr) };
  }
  if (opts.eligibleLeaderReplicas) {
    const eligible = replicas.filter((r) => elr.includes(r) && live.has(r));
    if (eligible.length > 0) {
      const leader = eligible[0]!;
      return { changed: true, kind: 'eligible', next: withElr({ ...base, leader, isr: [leader] }, elr.filter((r) => r !== leader)) };
    }
  }
  if (opts.uncleanAllowed) {
    const any = replicas.filter((r) => live.has(r));
    if (any.length > 0) return { changed: true, kind: 'unclean', next: { ...base, leader: any[0]!, isr: [any[0]!] } };
  }
  if (state.leader === -1) return { changed: false };
  // No eligible leader: offline. The ISR keeps its last member(s), the only ones allowed back as leader.
  return { changed: true, kind: 'offline', next: withElr({ ...base, leader: -1, isr: [...state.isr] }, elr) };
}

/**
 * The ELR after the leader changes the ISR from `oldIsr` to `newIsr` (KIP-966): replicas removed while fewer than
 * `minIsr` stay in sync join it (nothing can be acknowledged without them from then on); members back in the ISR
 * leave it; once the ISR has `minIsr` members again the ELR is empty.
 */
export function nextElr(oldIsr: readonly number[], newIsr: readonly number[], elr: readonly number[], minIsr: number): number[] {
  if (newIsr.length >= minIsr) return [];
  const removed = oldIsr.filter((r) => !newIsr.includes(r));
  return [...new Set([...elr, ...removed])].filter((r) => !newIsr.includes(r));
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
