import { describe, expect, it } from 'vitest';
import type { StepPlan } from '../scenario/plan.js';
import { runSchedule, scheduleActions, type TimelineClock } from './timeline.js';

const latency = { type: 'latency' as const, links: ['a_to_b'], latencyMs: 100, jitterMs: 0, stream: 'downstream' as const, toxicity: 1 };
const step = (name: string, index: number, atMs: number, forMs?: number, load = false): StepPlan => ({
  name, index, atMs, forMs, inControl: load, ...(load ? { load: { rate: 10, rampMs: 0 } } : { fault: latency }),
});

describe('scheduleActions', () => {
  it('orders applies and heals by time, heals first at the same instant', () => {
    const a = scheduleActions([step('one', 0, 1000, 2000), step('two', 1, 3000, 1000)], { control: false });
    expect(a.map((x) => `${x.kind}:${x.step.name}@${x.atMs}`)).toEqual(['apply:one@1000', 'heal:one@3000', 'apply:two@3000', 'heal:two@4000']);
  });
  it('steps without `for` are applied but not healed on schedule', () => {
    const a = scheduleActions([step('forever', 0, 500)], { control: false });
    expect(a).toHaveLength(1);
    expect(a[0]!.kind).toBe('apply');
  });
  it('a control run drops fault steps and keeps load steps', () => {
    const a = scheduleActions([step('f', 0, 500, 100), step('surge', 1, 600, 100, true)], { control: true });
    expect(a.map((x) => x.step.name)).toEqual(['surge', 'surge']);
  });
  it('a step limited to some variants is left out of the others (a counterfactual)', () => {
    const steps = [step('fault', 0, 500, 100), { ...step('pause', 1, 1000, 100), variants: ['recovery'] }];
    expect(scheduleActions(steps, { control: false, variant: 'recovery' }).map((x) => x.step.name)).toEqual(['fault', 'fault', 'pause', 'pause']);
    expect(scheduleActions(steps, { control: false, variant: 'no-pause' }).map((x) => x.step.name)).toEqual(['fault', 'fault']);
  });
});

describe('runSchedule', () => {
  function fakeClock(): TimelineClock & { t: number } {
    const c = { t: 0, now: () => c.t, sleepUntil: async (ms: number) => { c.t = Math.max(c.t, ms); } };
    return c;
  }
  it('performs each action at its time and records scheduled vs actual', async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const out = await runSchedule(scheduleActions([step('one', 0, 1000, 2000)], { control: false }), clock, new AbortController().signal, async (a, at) => {
      seen.push(`${a.kind}@${at}`);
    });
    expect(seen).toEqual(['apply@1000', 'heal@3000']);
    expect(out.map((o) => o.actualMs - o.scheduledMs)).toEqual([0, 0]);
  });
  it('records a failing action and continues', async () => {
    const out = await runSchedule(scheduleActions([step('one', 0, 10, 20)], { control: false }), fakeClock(), new AbortController().signal, async (a) => {
      if (a.kind === 'apply') throw new Error('boom');
    });
    expect(out).toHaveLength(2);
    expect(out[0]!.error).toBeInstanceOf(Error);
    expect(out[1]!.error).toBeUndefined();
  });
  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = await runSchedule(scheduleActions([step('one', 0, 10, 20)], { control: false }), fakeClock(), ac.signal, async () => {});
    expect(out).toHaveLength(0);
  });
});
