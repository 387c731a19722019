import { describe, expect, it } from 'vitest';
import { assignReplicas, brokerIdOf, electLeader, initialState, peerSlots, type PartitionStateData } from './controller-logic.js';

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
