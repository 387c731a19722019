/**
 * Turns timeline steps into a schedule of actions (apply at `at`, heal at `at + for`) and runs it
 * against a clock, recording how late each action fired (actuation skew).
 */
import type { StepPlan } from '../scenario/plan.js';

export interface ScheduledAction {
  atMs: number;
  kind: 'apply' | 'heal';
  step: StepPlan;
}

/**
 * Pure: the ordered list of actions. Heals sort before applies at the same instant, so back-to-back
 * faults on one link never overlap. Steps without `for` are never healed on schedule (the run's
 * final heal covers them).
 */
export function scheduleActions(steps: StepPlan[], opts: { control: boolean; variant?: string }): ScheduledAction[] {
  const out: ScheduledAction[] = [];
  for (const s of steps) {
    if (opts.control && !s.inControl) continue;
    if (s.variants && opts.variant !== undefined && !s.variants.includes(opts.variant)) continue;
    out.push({ atMs: s.atMs, kind: 'apply', step: s });
    if (s.forMs !== undefined) out.push({ atMs: s.atMs + s.forMs, kind: 'heal', step: s });
  }
  return out.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? a.step.index - b.step.index : a.kind === 'heal' ? -1 : 1));
}

export interface TimelineClock {
  now(): number;
  sleepUntil(ms: number, signal: AbortSignal): Promise<void>;
}

/** Sleeps with setTimeout until shortly before the target, then yields in short steps: low skew, no busy loop. */
export function realClock(t0: number): TimelineClock {
  return {
    now: () => performance.now() - t0,
    sleepUntil: async (ms, signal) => {
      for (;;) {
        if (signal.aborted) return;
        const left = ms - (performance.now() - t0);
        if (left <= 0) return;
        await new Promise<void>((r) => {
          const onAbort = () => { clearTimeout(t); r(); };
          const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); r(); }, left > 20 ? left - 10 : Math.max(0, left - 1));
          signal.addEventListener('abort', onAbort, { once: true });
        });
      }
    },
  };
}

export interface ActionOutcome {
  action: ScheduledAction;
  scheduledMs: number;
  actualMs: number;
  error?: unknown;
}

/** Runs actions in order at their times. One action's failure is recorded, not fatal to the schedule. */
export async function runSchedule(
  actions: ScheduledAction[],
  clock: TimelineClock,
  signal: AbortSignal,
  perform: (a: ScheduledAction, actualMs: number) => Promise<void>,
): Promise<ActionOutcome[]> {
  const done: ActionOutcome[] = [];
  // Actions due at the same instant run concurrently so that parallel steps start together.
  let i = 0;
  while (i < actions.length && !signal.aborted) {
    const at = actions[i]!.atMs;
    const batch: ScheduledAction[] = [];
    while (i < actions.length && actions[i]!.atMs === at) batch.push(actions[i++]!);
    await clock.sleepUntil(at, signal);
    if (signal.aborted) break;
    // Heals first, then applies (already sorted), each group concurrently.
    for (const kind of ['heal', 'apply'] as const) {
      const group = batch.filter((a) => a.kind === kind);
      const results = await Promise.all(
        group.map(async (a) => {
          const actualMs = clock.now();
          try {
            await perform(a, actualMs);
            return { action: a, scheduledMs: a.atMs, actualMs };
          } catch (error) {
            return { action: a, scheduledMs: a.atMs, actualMs, error };
          }
        }),
      );
      done.push(...results);
    }
  }
  return done;
}
