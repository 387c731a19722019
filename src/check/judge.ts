import type { Series } from '../observe/prometheus-client.js';
import { formatNumber } from '../common/format.js';
import { formatCondition, satisfies, type Comparator, type Condition } from './condition.js';

/** How the samples of all series become one verdict. */
export type Over = 'all' | 'any' | 'mean' | 'max' | 'min' | 'last';

export interface JudgeSpec extends Condition {
  /** Ignored when `recoverWithinMs` is set: recovery always means every sample after the grace period. */
  over: Over;
  windowStartSec: number;
  windowEndSec: number;
  /** The window starts at a heal; the condition must hold from start+recoverWithin to the end. */
  recoverWithinMs?: number;
}

/** Three-valued, as in Jepsen: missing data never counts as a pass. */
export type Outcome = 'holds' | 'violated' | 'no-data';

export interface Observed {
  samples: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  last: number | null;
}

export interface Judgement {
  outcome: Outcome;
  /** Statistics over the samples that were judged (after the grace period when recovering). */
  observed: Observed;
  /** Seconds from window start until the condition held and kept holding to the end; null if never (or no data). */
  timeToRecoverSec?: number | null;
  /** One sentence with the numbers, for the report. */
  reason: string;
}

/** Prometheus's range-query timestamps are float seconds; compare window edges with a little slack. */
const EPS = 1e-6;

interface Sample {
  t: number;
  v: number;
}

function stats(samples: Sample[]): Observed {
  if (samples.length === 0) return { samples: 0, min: null, max: null, mean: null, last: null };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const s of samples) {
    min = Math.min(min, s.v);
    max = Math.max(max, s.v);
    sum += s.v;
  }
  return { samples: samples.length, min, max, mean: sum / samples.length, last: lastSample(samples)!.v };
}

/** The latest sample; when several series share the latest timestamp, the highest value, so `last` is stable. */
function lastSample(samples: Sample[]): Sample | undefined {
  let best: Sample | undefined;
  for (const s of samples) if (!best || s.t > best.t || (s.t === best.t && s.v > best.v)) best = s;
  return best;
}

/** The samples at the latest timestamp, across series. */
function latestSamples(samples: Sample[]): Sample[] {
  const tMax = Math.max(...samples.map((s) => s.t));
  return samples.filter((s) => s.t === tMax);
}

/** Earliest time from which every later sample satisfies; null if the last one fails. */
function recoveredAt(sorted: Sample[], ok: (v: number) => boolean): number | null {
  if (sorted.length === 0) return null;
  let lastFail: number | undefined;
  for (const s of sorted) if (!ok(s.v)) lastFail = s.t;
  if (lastFail === undefined) return sorted[0]!.t;
  const after = sorted.find((s) => s.t > lastFail!);
  return after ? after.t : null;
}

/** "max 0.84" for `<`, "min 2" for `>`, "min 0, max 3" for equality: the statistic that decides. */
function decidingStat(o: Observed, comparator: Comparator, want: 'worst' | 'best'): string {
  const useMax = comparator === '<' || comparator === '<=' ? want === 'worst' : comparator === '>' || comparator === '>=' ? want === 'best' : undefined;
  if (useMax === undefined) return `min ${formatNumber(o.min!)}, max ${formatNumber(o.max!)}`;
  return useMax ? `max ${formatNumber(o.max!)}` : `min ${formatNumber(o.min!)}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function judge(series: Series[], spec: JudgeSpec): Judgement {
  const { comparator, windowStartSec: start, windowEndSec: end } = spec;
  const ok = (v: number): boolean => satisfies(v, spec);
  const rel = (t: number): string => `+${formatNumber(Math.max(0, t - start))}s`;
  const cond = formatCondition(spec);

  let inWindow = 0;
  const window: Sample[] = [];
  for (const s of series) {
    for (const [t, v] of s.points) {
      if (t < start - EPS || t > end + EPS) continue;
      inWindow++;
      // NaN is "no value" (e.g. 0/0 in a ratio before any request), not a measurement.
      if (!Number.isNaN(v)) window.push({ t, v });
    }
  }
  window.sort((a, b) => a.t - b.t);

  const recoveredTime = recoveredAt(window, ok);
  const timeToRecoverSec = recoveredTime === null ? null : Math.max(0, recoveredTime - start);
  const recovering = spec.recoverWithinMs !== undefined;
  const graceEnd = start + (spec.recoverWithinMs ?? 0) / 1000;
  const judged = recovering ? window.filter((s) => s.t >= graceEnd - EPS) : window;
  const observed = stats(judged);

  if (judged.length === 0) {
    let why: string;
    if (series.length === 0) why = 'the query returned no series';
    else if (inWindow === 0) why = `${plural(series.length, 'series')} returned, but no samples in the window ${rel(start)}..${rel(end)}`;
    else if (window.length === 0) why = `all ${plural(inWindow, 'sample')} in the window are NaN`;
    else why = `no samples from ${rel(graceEnd)} (the end of the ${formatNumber(spec.recoverWithinMs! / 1000)}s recovery allowance) to the end of the window`;
    return { outcome: 'no-data', observed, timeToRecoverSec, reason: `no data: ${why}; needed ${recovering ? 'all' : spec.over} ${cond}` };
  }

  const failing = judged.filter((s) => !ok(s.v));
  const n = plural(judged.length, 'sample');

  if (recovering) {
    const holds = failing.length === 0;
    const recovered = timeToRecoverSec === null ? 'never recovered' : `recovered after ${formatNumber(timeToRecoverSec)}s`;
    const fails = holds ? '' : ` (${failing.length} fail, last at ${rel(failing[failing.length - 1]!.t)})`;
    return {
      outcome: holds ? 'holds' : 'violated',
      observed,
      timeToRecoverSec,
      reason: `${decidingStat(observed, comparator, 'worst')} over ${n} from ${rel(graceEnd)}${fails}, ${recovered}; needed all ${cond} within ${formatNumber(spec.recoverWithinMs! / 1000)}s of the heal`,
    };
  }

  let holds: boolean;
  let reason: string;
  switch (spec.over) {
    case 'all': {
      holds = failing.length === 0;
      const fails = holds ? '' : ` (${failing.length} fail, first at ${rel(failing[0]!.t)})`;
      reason = `${decidingStat(observed, comparator, 'worst')} over ${n}${fails}; needed all ${cond}`;
      break;
    }
    case 'any': {
      const passing = judged.length - failing.length;
      holds = passing > 0;
      reason = `${decidingStat(observed, comparator, 'best')} over ${n} (${passing === 0 ? 'none' : passing} satisfy); needed any ${cond}`;
      break;
    }
    case 'last': {
      // With several series ending together, every one of them must satisfy.
      const latest = latestSamples(judged);
      const bad = latest.find((s) => !ok(s.v));
      holds = bad === undefined;
      const shown = bad ?? lastSample(judged)!;
      observed.last = shown.v;
      reason = `last ${formatNumber(shown.v)} at ${rel(shown.t)} over ${n}; needed last ${cond}`;
      break;
    }
    default: {
      const value = observed[spec.over]!;
      holds = ok(value);
      reason = `${spec.over} ${formatNumber(value)} over ${n}; needed ${spec.over} ${cond}`;
    }
  }
  return { outcome: holds ? 'holds' : 'violated', observed, timeToRecoverSec, reason };
}
