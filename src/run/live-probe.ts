/**
 * The live view's numbers from Prometheus: every second or two, each assertion's PromQL as an instant query, so a
 * terminal shows the value the verdict will be judged on as it moves, against its threshold. Only for the eye: the
 * verdict is still the range query after the variant (src/check/evaluate.ts). One round of queries at a time; a
 * slow or failing Prometheus only leaves the last values (or the error) on screen.
 */
import { satisfies } from '../check/condition.js';
import type { PrometheusClient, Series } from '../observe/prometheus-client.js';
import type { AssertionPlan } from '../scenario/plan.js';

export type WindowState = 'before' | 'in' | 'after';

export interface LiveAssertion {
  name: string;
  /** `< 0.5` */
  condition: string;
  /** The value that matters most now: the series furthest on the wrong side of the threshold; null without data. */
  value: number | null;
  /** Does `value` meet the condition now (null without data)? */
  holds: boolean | null;
  /** How many series the query returned. */
  series: number;
  /** Where the run is against the assertion's window: not yet judged, being judged, judged. */
  window: WindowState;
  /** `steady`, `during slow-backend`, … */
  windowLabel: string;
  /** What this variant expects of it (`violated` for the incident in a baseline). */
  expected: 'holds' | 'violated';
  error?: string;
}

type Comparator = AssertionPlan['comparator'];

/** Of several series' values, the one furthest on the wrong side (or nearest to it): the one to watch. */
export function worstValue(values: number[], comparator: Comparator, threshold: number): number | null {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return null;
  switch (comparator) {
    case '<':
    case '<=':
      return Math.max(...finite);
    case '>':
    case '>=':
      return Math.min(...finite);
    case '==':
      return finite.reduce((a, b) => (Math.abs(b - threshold) > Math.abs(a - threshold) ? b : a));
    case '!=':
      return finite.find((v) => v === threshold) ?? finite[0]!;
  }
}

export function windowState(a: Pick<AssertionPlan, 'window'>, elapsedMs: number): WindowState {
  // `final` windows (checker results) are judged after the load: before it ends they have not started.
  if (a.window.final) return 'before';
  if (elapsedMs < a.window.startMs) return 'before';
  return elapsedMs <= a.window.endMs ? 'in' : 'after';
}

/** One assertion's live line from an instant query's answer. */
export function liveAssertion(a: AssertionPlan, expected: 'holds' | 'violated', series: Series[] | Error, elapsedMs: number): LiveAssertion {
  const base = { name: a.name, condition: `${a.comparator} ${a.threshold}`, window: windowState(a, elapsedMs), windowLabel: a.window.label, expected };
  if (series instanceof Error) return { ...base, value: null, holds: null, series: 0, error: series.message };
  const values = series.map((s) => s.points[s.points.length - 1]?.[1]).filter((v): v is number => v !== undefined);
  const value = worstValue(values, a.comparator, a.threshold);
  return { ...base, value, holds: value === null ? null : satisfies(value, a), series: series.length };
}

export interface LiveProbeOptions {
  client: Pick<PrometheusClient, 'query'>;
  /** The assertions judged in this variant, with what it expects of each. */
  assertions: { plan: AssertionPlan; expected: 'holds' | 'violated' }[];
  /** Milliseconds since the variant's t0. */
  elapsedMs(): number;
  intervalMs: number;
}

export interface LiveProbe {
  latest(): LiveAssertion[];
  stop(): void;
}

export function startLiveProbe(opts: LiveProbeOptions): LiveProbe {
  let latest: LiveAssertion[] = opts.assertions.map((a) => liveAssertion(a.plan, a.expected, [], opts.elapsedMs()));
  let busy = false;
  let stopped = false;
  const round = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const now = Date.now() / 1000;
      const answers = await Promise.all(opts.assertions.map((a) => opts.client.query(a.plan.query, now).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
      if (!stopped) latest = opts.assertions.map((a, i) => liveAssertion(a.plan, a.expected, answers[i]!, opts.elapsedMs()));
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void round(), opts.intervalMs);
  timer.unref();
  void round();
  return {
    // The window moves on between queries; the state is recomputed at every look.
    latest: () => latest.map((l, i) => ({ ...l, window: windowState(opts.assertions[i]!.plan, opts.elapsedMs()) })),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
