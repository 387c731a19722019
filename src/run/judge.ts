/** Judging a variant: each assertion's PromQL over its window, against what the variant expects (holds/violated). */
import { evaluateAssertion } from '../check/evaluate.js';
import type { PrometheusClient } from '../observe/prometheus-client.js';
import type { AssertionPlan, ScenarioPlan } from '../scenario/plan.js';
import type { AssertionResult } from './result.js';

export function expectedOf(a: AssertionPlan, variant: string, control: boolean): 'holds' | 'violated' {
  return control ? (a.expect.control ?? 'holds') : (a.expect[variant] ?? 'holds');
}

export interface JudgeInput {
  variant: string;
  control: boolean;
  /** Unix ms of the variant's t0 (the load's start). */
  t0: number;
  scrapeIntervalMs: number;
  /** Unix ms when the checkers exported their counts (start of `final` windows). */
  checkedAt: number;
}

export async function judgeAll(plan: Pick<ScenarioPlan, 'assertions'>, client: Pick<PrometheusClient, 'queryRange'>, input: JudgeInput): Promise<AssertionResult[]> {
  const { variant, control, t0, scrapeIntervalMs, checkedAt } = input;
  const out: AssertionResult[] = [];
  for (const a of plan.assertions) {
    if (!a.variants.includes(variant)) continue;
    const expected = expectedOf(a, variant, control);
    // `final` windows cover what was scraped after the checkers exported their counts.
    const startSec = a.window.final ? checkedAt / 1000 : (t0 + a.window.startMs) / 1000;
    const endSec = a.window.final ? Date.now() / 1000 : (t0 + a.window.endMs) / 1000;
    const j = await evaluateAssertion(client, {
      query: a.query,
      startSec,
      endSec,
      stepSec: scrapeIntervalMs / 1000,
      comparator: a.comparator,
      threshold: a.threshold,
      over: a.over,
      windowStartSec: startSec,
      windowEndSec: endSec,
      ...(a.recoverWithinMs !== undefined ? { recoverWithinMs: a.recoverWithinMs } : {}),
    });
    out.push({
      name: a.name,
      ...(a.description ? { description: a.description } : {}),
      query: a.query,
      window: a.window,
      condition: `${a.comparator} ${a.threshold}`,
      over: a.over,
      expected,
      outcome: j.outcome,
      passed: j.outcome !== 'no-data' && j.outcome === expected,
      observed: j.observed,
      reason: j.reason,
      // Time to recover means something for windows that start at a heal.
      ...(j.timeToRecoverSec !== undefined && (a.recoverWithinMs !== undefined || a.window.label.startsWith('after ')) ? { timeToRecoverSec: j.timeToRecoverSec } : {}),
      series: j.series,
    });
  }
  return out;
}
