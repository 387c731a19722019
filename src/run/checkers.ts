/**
 * Checkers that judge a run's recorded history rather than its scrapes (Jepsen: record, then judge).
 * None is configured for most scenarios; the hook exists so a checker's counts can feed assertions.
 */
import type { LabMetrics } from '../observe/lab-metrics.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import type { HistoryRecorder } from '../workload/history.js';

export interface CheckerContext {
  nodes: string[];
  history: HistoryRecorder | undefined;
  variantDir: string;
  lab: LabMetrics;
}

export async function runCheckers(_plan: ScenarioPlan, _ctx: CheckerContext): Promise<Record<string, unknown> | undefined> {
  return undefined;
}
