/**
 * Grading an attempt: each target's number is one statistic of its assertion's window (the same PromQL the judge
 * ran), tested against the target's threshold per tier. A tier is reached when every threshold of it and of every
 * tier before it holds; a module that failed (threw, hung, returned garbage) reaches none.
 */
import { parseCondition, satisfies } from '../check/condition.js';
import type { AssertionResult } from '../run/result.js';
import { MODULE_HEALTH_ASSERTION, TIERS, type Exercise, type TargetT, type Tier } from './exercise.js';

export type Stat = NonNullable<TargetT['stat']>;

export interface TargetGrade {
  assertion: string;
  label: string;
  stat: Stat;
  /** null: no data in the window (never meets a threshold). */
  value: number | null;
  /** Per tier that has a threshold here: the threshold and whether the value meets it. */
  tiers: Partial<Record<Tier, { condition: string; met: boolean }>>;
  hint: string;
  /** The assertion's series in its window, as [seconds from the window's start, value], for the report's charts. */
  points: [number, number][];
}

export interface Grade {
  /** The highest tier reached; null = not even pass. */
  reached: Tier | null;
  /** The first target short of the next tier (what to work on), if any. */
  next: { tier: Tier; target: string; hint: string } | null;
  moduleFailed: { failures: number } | null;
  targets: TargetGrade[];
}

export function defaultStat(condition: string): Stat {
  const c = parseCondition(condition);
  if (c?.comparator === '<' || c?.comparator === '<=') return 'max';
  if (c?.comparator === '>' || c?.comparator === '>=') return 'min';
  return 'mean';
}

export function gradeAttempt(ex: Pick<Exercise, 'targets'>, assertions: readonly AssertionResult[]): Grade {
  const targets = ex.targets.map((t): TargetGrade => {
    const a = assertions.find((x) => x.name === t.assertion);
    const first = Object.values(t.tiers)[0]!;
    const stat = t.stat ?? defaultStat(first);
    const value = a ? a.observed[stat] : null;
    const tiers: TargetGrade['tiers'] = {};
    for (const tier of TIERS) {
      const text = t.tiers[tier];
      if (text === undefined) continue;
      const cond = parseCondition(text)!;
      tiers[tier] = { condition: text.trim(), met: value !== null && satisfies(value, cond) };
    }
    const start = a ? a.window.startMs / 1000 : 0;
    const points: [number, number][] = [];
    // The series' timestamps are Unix seconds; the chart's x axis is seconds into the window.
    const firstT = a?.series[0]?.points[0]?.[0];
    for (const s of a?.series ?? []) for (const [ts, v] of s.points) points.push([firstT !== undefined ? ts - firstT : start, Number(v)]);
    return { assertion: t.assertion, label: t.label, stat, value, tiers, hint: t.hint.trim(), points };
  });

  const health = assertions.find((a) => a.name === MODULE_HEALTH_ASSERTION);
  const failures = health?.observed.max ?? 0;
  const moduleFailed = health && health.outcome === 'violated' ? { failures } : null;

  let reached: Tier | null = null;
  let next: Grade['next'] = null;
  for (const tier of TIERS) {
    const short = moduleFailed ? undefined : targets.find((t) => t.tiers[tier] && !t.tiers[tier]!.met);
    if (moduleFailed || short) {
      next = short ? { tier, target: short.label, hint: short.hint } : { tier, target: MODULE_HEALTH_ASSERTION, hint: 'fix the errors the node logged (extension error: ...) first' };
      break;
    }
    reached = tier;
  }
  return { reached, next, moduleFailed, targets };
}

/** A tier's rank for comparisons: -1 for none. */
export function tierRank(t: Tier | null): number {
  return t === null ? -1 : TIERS.indexOf(t);
}
