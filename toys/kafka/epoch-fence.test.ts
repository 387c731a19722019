import { describe, expect, it } from 'vitest';
import { ControllerFence, checkControllerActivity, formatControllerEvent, parseControllerEvents, type ControllerEvent } from './epoch-fence.js';

describe('ControllerFence', () => {
  it("a workshop module's decision replaces the rule: it sees the command and the highest epoch seen before it", () => {
    const f = new ControllerFence(false);
    const seen: [number, number][] = [];
    const decide = (c: { controllerEpoch: number }, max: number) => (seen.push([c.controllerEpoch, max]), c.controllerEpoch >= max);
    f.admit({ controllerId: 1, controllerEpoch: 1 }, decide);
    f.admit({ controllerId: 2, controllerEpoch: 2 }, decide);
    expect(f.admit({ controllerId: 1, controllerEpoch: 1 }, decide)).toMatchObject({ accepted: false, stale: true });
    expect(seen).toEqual([[1, 0], [2, 1], [1, 2]]);
    expect(f.lastAccepted).toEqual({ controllerId: 2, controllerEpoch: 2 });
    // With a module, the epochFencing param no longer decides: the module does.
    expect(new ControllerFence(true).admit({ controllerId: 1, controllerEpoch: 1 }, () => true)).toMatchObject({ accepted: true });
  });

  it('with fencing: refuses a command from an epoch older than one already seen', () => {
    const f = new ControllerFence(true);
    expect(f.admit({ controllerId: 1, controllerEpoch: 1 })).toMatchObject({ accepted: true, stale: false });
    expect(f.admit({ controllerId: 2, controllerEpoch: 2 })).toMatchObject({ accepted: true, stale: false });
    expect(f.admit({ controllerId: 1, controllerEpoch: 1 })).toMatchObject({ accepted: false, stale: true, switchback: false });
    expect(f.lastAccepted).toEqual({ controllerId: 2, controllerEpoch: 2 });
  });

  it('without fencing: obeys the zombie and counts it as stale and as a switchback', () => {
    const f = new ControllerFence(false);
    f.admit({ controllerId: 1, controllerEpoch: 1 });
    f.admit({ controllerId: 2, controllerEpoch: 2 });
    expect(f.admit({ controllerId: 1, controllerEpoch: 1 })).toEqual({ accepted: true, stale: true, epochConflict: false, switchback: true });
    // The next command of the new controller is not stale, and not a switchback either.
    expect(f.admit({ controllerId: 2, controllerEpoch: 2 })).toMatchObject({ accepted: true, stale: false, switchback: false });
  });

  it('a command from an epoch not seen yet is accepted even if the coordinator has moved on', () => {
    const f = new ControllerFence(true);
    f.admit({ controllerId: 1, controllerEpoch: 1 });
    // The broker has not heard of epoch 2 yet: from where it stands, 1 is current.
    expect(f.admit({ controllerId: 1, controllerEpoch: 1 })).toMatchObject({ accepted: true, stale: false });
  });

  it('flags two controllers using one epoch', () => {
    const f = new ControllerFence(true);
    f.admit({ controllerId: 1, controllerEpoch: 3 });
    expect(f.admit({ controllerId: 2, controllerEpoch: 3 })).toMatchObject({ accepted: true, epochConflict: true });
  });
});

const ev = (time: number, broker: number, controllerId: number, controllerEpoch: number, accepted = true): ControllerEvent => ({ time, broker, controllerId, controllerEpoch, accepted });

describe('checkControllerActivity', () => {
  it('passes a clean handover: the old controller stops before the new one starts', () => {
    const r = checkControllerActivity([ev(0, 2, 1, 1), ev(0, 3, 1, 1), ev(500, 2, 1, 1), ev(4000, 2, 2, 2), ev(4001, 3, 2, 2), ev(4500, 3, 1, 1, false)]);
    expect(r.valid).toBe(true);
    expect(r.staleAccepted).toBe(0);
    expect(r.epochs).toEqual([
      { epoch: 1, controllers: [1], accepted: 3, rejected: 1, firstAt: 0, lastAt: 4500 },
      { epoch: 2, controllers: [2], accepted: 2, rejected: 0, firstAt: 4000, lastAt: 4001 },
    ]);
  });

  it('fails when a zombie is obeyed after the new controller acted, even on another broker', () => {
    // Broker 2 obeyed epoch 2 at 4000; broker 3 obeyed the zombie (epoch 1) at 4200, and never saw epoch 2.
    const r = checkControllerActivity([ev(0, 3, 1, 1), ev(4000, 2, 2, 2), ev(4200, 3, 1, 1), ev(4700, 3, 1, 1)]);
    expect(r.valid).toBe(false);
    expect(r.staleAccepted).toBe(2);
    expect(r.overlaps).toEqual([{ olderEpoch: 1, newerEpoch: 2, firstAt: 4200 }]);
  });

  it('does not count a zombie obeying itself, unless asked to', () => {
    // Broker 1 is the zombie controller (epoch 1): its own broker keeps obeying it; the others refuse it.
    const events = [ev(0, 1, 1, 1), ev(4000, 2, 2, 2), ev(4100, 1, 1, 1), ev(4200, 3, 1, 1, false)];
    expect(checkControllerActivity(events)).toMatchObject({ valid: true, staleAccepted: 0 });
    expect(checkControllerActivity(events, { includeSelf: true })).toMatchObject({ valid: false, staleAccepted: 1 });
  });

  it('fails when two controllers share an epoch', () => {
    const r = checkControllerActivity([ev(0, 1, 1, 5), ev(10, 2, 2, 5)]);
    expect(r.valid).toBe(false);
    expect(r.epochConflicts).toEqual([{ epoch: 5, controllers: [1, 2] }]);
  });

  it('sorts by time whatever the order of the logs', () => {
    const r = checkControllerActivity([ev(4200, 3, 1, 1), ev(4000, 2, 2, 2)]);
    expect(r.staleAccepted).toBe(1);
  });

  it('round-trips events through log lines', () => {
    const events = [ev(1, 2, 1, 1), ev(2, 3, 2, 2, false)];
    const log = ['2024 [broker-2] listening', ...events.map((e) => `2024-01-01T00:00:00Z [broker-2] ${formatControllerEvent(e)}`), 'CONTROLLER-COMMAND {bad json'].join('\n');
    expect(parseControllerEvents(log)).toEqual(events);
  });
});
