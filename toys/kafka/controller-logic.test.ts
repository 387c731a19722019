import { describe, expect, it } from 'vitest';
import { assignReplicas, brokerIdOf, electLeader, initialState, nextElr, peerSlots, type PartitionStateData } from './controller-logic.js';

const live = (...ids: number[]) => new Set(ids);
const st = (leader: number, isr: number[], leaderEpoch = 3): PartitionStateData => ({ leader, leaderEpoch, isr, controllerEpoch: 1 });

describe('assignment and the first state', () => {
  it('rotates replicas so preferred leaders spread over the brokers', () => {
    expect(assignReplicas(0, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(assignReplicas(1, [1, 2, 3])).toEqual([2, 3, 1]);
    expect(assignReplicas(4, [1, 2, 3])).toEqual([2, 3, 1]);
  });

  it('makes the first live replica leader and the live replicas the ISR', () => {
    expect(initialState([2, 3, 1], live(1, 2, 3), 1)).toEqual({ leader: 2, leaderEpoch: 0, isr: [2, 3, 1], controllerEpoch: 1 });
    expect(initialState([2, 3, 1], live(1, 3), 1)).toEqual({ leader: 3, leaderEpoch: 0, isr: [3, 1], controllerEpoch: 1 });
    expect(initialState([2, 3, 1], live(), 1)).toBeUndefined();
  });
});

describe('electLeader', () => {
  const opts = (uncleanAllowed: boolean) => ({ uncleanAllowed, controllerEpoch: 7 });

  it('leaves a partition whose leader is alive alone', () => {
    expect(electLeader(st(1, [1, 2, 3]), [1, 2, 3], live(1, 2), opts(true))).toEqual({ changed: false });
  });

  it('elects the first live ISR member in assignment order and drops dead brokers from the ISR', () => {
    const r = electLeader(st(1, [1, 3, 2]), [1, 2, 3], live(2, 3), opts(false));
    expect(r).toEqual({ changed: true, kind: 'clean', next: { leader: 2, leaderEpoch: 4, isr: [3, 2], controllerEpoch: 7 } });
  });

  it('with only the dead leader in the ISR: unclean election picks a live replica outside the ISR', () => {
    const r = electLeader(st(2, [2]), [2, 3, 1], live(1, 3), opts(true));
    expect(r).toEqual({ changed: true, kind: 'unclean', next: { leader: 3, leaderEpoch: 4, isr: [3], controllerEpoch: 7 } });
  });

  it('with unclean election off: the partition goes offline and keeps its ISR', () => {
    const r = electLeader(st(2, [2]), [2, 3, 1], live(1, 3), opts(false));
    expect(r).toEqual({ changed: true, kind: 'offline', next: { leader: -1, leaderEpoch: 4, isr: [2], controllerEpoch: 7 } });
    // Offline stays offline (no new write) until an ISR member is back...
    expect(electLeader(st(-1, [2], 4), [2, 3, 1], live(1, 3), opts(false))).toEqual({ changed: false });
    // ...and then that member leads again.
    expect(electLeader(st(-1, [2], 4), [2, 3, 1], live(1, 2, 3), opts(false))).toEqual({ changed: true, kind: 'clean', next: { leader: 2, leaderEpoch: 5, isr: [2], controllerEpoch: 7 } });
  });

  it('an offline partition with no live replica at all stays offline even with unclean on', () => {
    expect(electLeader(st(-1, [2], 4), [2, 3, 1], live(), opts(true))).toEqual({ changed: false });
  });
});

describe('eligible leader replicas (KIP-966) and the preferred leader', () => {
  const withElr = (leader: number, isr: number[], elr: number[]): PartitionStateData => ({ ...st(leader, isr), elr });
  const opts = (uncleanAllowed: boolean) => ({ uncleanAllowed, controllerEpoch: 7 });
  const elrOpts = { uncleanAllowed: false, controllerEpoch: 7, eligibleLeaderReplicas: true };

  it('a shrink below min.insync.replicas puts the removed replicas in the ELR; back at min ISR it is empty', () => {
    expect(nextElr([2, 3, 1], [2], [], 2)).toEqual([3, 1]);
    expect(nextElr([2, 3, 1], [2, 3], [], 2)).toEqual([]); // still min ISR: commits go on without 1, so 1 is not eligible
    expect(nextElr([2, 3], [2], [], 2)).toEqual([3]);
    expect(nextElr([3], [3, 1], [1], 2)).toEqual([]);
    expect(nextElr([3], [3], [1, 2], 3)).toEqual([1, 2]);
  });

  it('with the lone ISR member gone, a live ELR member is elected (not unclean); the ISR restarts as it', () => {
    expect(electLeader(withElr(2, [2], [3, 1]), [2, 3, 1], live(1, 3), elrOpts)).toEqual({
      changed: true,
      kind: 'eligible',
      next: { leader: 3, leaderEpoch: 4, isr: [3], elr: [1], controllerEpoch: 7 },
    });
    // Without the ELR rule the same partition goes offline.
    expect(electLeader(withElr(2, [2], [3, 1]), [2, 3, 1], live(1, 3), opts(false))).toMatchObject({ changed: true, kind: 'offline' });
    // A replica that left the ISR while it was still at min ISR is never elected this way.
    expect(electLeader(st(2, [2]), [2, 3, 1], live(1, 3), elrOpts)).toMatchObject({ kind: 'offline' });
  });

  it('hands leadership back to the first replica when it is alive and in sync', () => {
    const o = { uncleanAllowed: false, controllerEpoch: 7, preferredLeader: true };
    expect(electLeader(st(2, [2, 3, 1]), [1, 2, 3], live(1, 2, 3), o)).toEqual({ changed: true, kind: 'preferred', next: { leader: 1, leaderEpoch: 4, isr: [2, 3, 1], controllerEpoch: 7 } });
    expect(electLeader(st(2, [2, 3]), [1, 2, 3], live(1, 2, 3), o)).toEqual({ changed: false }); // 1 not in sync yet
    expect(electLeader(st(2, [2, 3, 1]), [1, 2, 3], live(2, 3), o)).toEqual({ changed: false }); // 1 not alive
    expect(electLeader(st(2, [2, 3, 1]), [1, 2, 3], live(1, 2, 3), opts(false))).toEqual({ changed: false });
  });
});

describe('names and peers', () => {
  it('reads the broker id from the node name', () => {
    expect(brokerIdOf('broker-3', 9)).toBe(3);
    expect(brokerIdOf('broker', 1)).toBe(1);
  });

  it('maps broker ids to peer slots (the lab lists peers in index order, without the node itself)', () => {
    expect([...peerSlots(2, 2)]).toEqual([[1, 0], [3, 1]]);
    expect([...peerSlots(1, 2)]).toEqual([[2, 0], [3, 1]]);
  });
});
