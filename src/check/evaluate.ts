import type { PrometheusClient, Series } from '../observe/prometheus-client.js';
import { judge, type JudgeSpec, type Judgement } from './judge.js';

export interface AssertionQuery extends JudgeSpec {
  /** PromQL, evaluated as a range query. */
  query: string;
  /** Query range; may start before the judged window so functions like rate() have history. */
  startSec: number;
  endSec: number;
  stepSec: number;
}

export type Evaluation = Judgement & {
  /** What was judged: the returned series cut to the window, kept in the journal so runs re-check offline. */
  series: Series[];
};

/** Keeps only the points inside the judged window, and drops series left empty. */
export function trimToWindow(series: Series[], startSec: number, endSec: number): Series[] {
  const eps = 1e-6;
  return series
    .map((s) => ({ labels: s.labels, points: s.points.filter(([t]) => t >= startSec - eps && t <= endSec + eps) }))
    .filter((s) => s.points.length > 0);
}

/**
 * Runs one assertion against Prometheus. Never throws: a failed query or a judging bug becomes
 * `no-data` with the error as the reason (Jepsen's check-safe), so one bad assertion cannot sink the report.
 */
export async function evaluateAssertion(client: Pick<PrometheusClient, 'queryRange'>, a: AssertionQuery): Promise<Evaluation> {
  let series: Series[];
  try {
    series = await client.queryRange(a.query, a.startSec, a.endSec, a.stepSec);
  } catch (e) {
    return failed(`query failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const inWindow = trimToWindow(series, a.windowStartSec, a.windowEndSec);
  try {
    // judge() cuts to the window itself; given everything, it can tell "no series" from "none in the window".
    return { ...judge(series, a), series: inWindow };
  } catch (e) {
    return { ...failed(`judging failed: ${e instanceof Error ? e.message : String(e)}`), series: inWindow };
  }

  function failed(reason: string): Evaluation {
    return {
      outcome: 'no-data',
      observed: { samples: 0, min: null, max: null, mean: null, last: null },
      timeToRecoverSec: null,
      reason,
      series: [],
    };
  }
}
