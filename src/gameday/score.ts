/**
 * The game day's score, judged from what was recorded (Jepsen's record-then-judge): the journal's fault and team
 * actions and the SLO series Prometheus scraped. Pure: the server queries, this decides.
 */
import { satisfies, type Condition } from '../check/condition.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import { sloAssertions } from './deal.js';
import type { ParComparison } from './par.js';

/** Team actions that change the cluster: recovery is attributed to the last of these before it. */
export const CHANGING_ACTIONS = ['mitigate', 'set', 'restart'] as const;
export const TEAM_ACTIONS = ['declare', 'hypothesis', ...CHANGING_ACTIONS, 'hint'] as const;
export type TeamAction = (typeof TEAM_ACTIONS)[number];

export interface GameAction {
  /** Ms since the load's start (the journal's `atMs`). */
  atMs: number;
  kind: string;
  text: string;
  by: 'team' | 'facilitator' | 'lab';
  ok: boolean;
  detail?: string;
}

/** An SLO assertion's series: points `[ms since the load's start, value]`, one per second. */
export interface SloSeries {
  name: string;
  condition: Condition;
  points: [number, number][];
}

export interface ErrorBudget {
  /** Requests over the game. */
  total: number;
  /** Failed (not a client timeout) or slower than the SLO latency. */
  bad: number;
  failed: number;
  tooSlow: number;
  /** The SLO's target share of good requests, e.g. 0.99. */
  target: number;
  /** `bad / (total × (1 − target))`: 1 is the whole budget of the game. */
  burned: number;
  /** The PromQL it was read with. */
  queries: Record<string, string>;
}

export interface Score {
  scenario: string;
  seed: number;
  team: string;
  game: string;
  /** Unix ms of the load's start: every `…Ms` below counts from it. */
  t0: number;
  faultStartMs: number | null;
  firstSignalMs: number | null;
  declaredMs: number | null;
  recoveredMs: number | null;
  /** The action the recovery is attributed to (the last cluster-changing one before it), or self-healed. */
  recoveredBy: { atMs: number; kind: string; text: string } | 'self-healed' | null;
  ttdSeconds: number | null;
  /** `declare` − first signal. */
  detectionLagSeconds: number | null;
  ttmSeconds: number | null;
  errorBudgetBurned: number | null;
  errorBudget: ErrorBudget | null;
  hintsUsed: number;
  /** Cluster-changing actions after which the SLO's value got worse. */
  madeWorse: { atMs: number; kind: string; text: string }[];
  /** Recovered while the hidden fault was still on: the fix holds under the fault. */
  fixHoldsUnderFault: boolean | null;
  /** How far the team was from par (`gameday par`): see par.ts `compareWithPar`. */
  par: { available: false; why: string } | ParComparison;
  endedMs: number;
  endedBy: string;
  actions: { atMs: number; kind: string; text: string; by: string; ok: boolean; detail?: string }[];
  /** The SLO assertions scored against. */
  slos: string[];
}

/**
 * The scored series' resolution: one sample a second. The team's live view is an instant query at the moment it
 * looks, so it can show a break up to one step before the scored series has a sample of it.
 */
export const SCORE_STEP_MS = 1000;

/** How long the recovery assertion must hold, to the end of the game, for the recovery to count. */
export const HOLD_FOR_GOOD_MS = 5000;

/** The first sample at or after `fromMs` that breaks any SLO (a missing value, NaN, is no signal). */
export function firstSignal(series: readonly SloSeries[], fromMs: number): number | null {
  let first: number | null = null;
  for (const s of series) {
    const hit = s.points.find(([t, v]) => t >= fromMs && !Number.isNaN(v) && !satisfies(v, s.condition));
    if (hit && (first === null || hit[0] < first)) first = hit[0];
  }
  return first;
}

/**
 * When every SLO holds for good: the start of the last run of samples that all hold, to the end, after the first
 * signal, lasting at least `holdMs`. Null while the SLO is still broken (or never broke).
 */
export function recoveredAt(series: readonly SloSeries[], afterMs: number, holdMs = HOLD_FOR_GOOD_MS): number | null {
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].filter((t) => t > afterMs).sort((a, b) => a - b);
  if (times.length === 0) return null;
  const holds = (t: number): boolean =>
    series.every((s) => {
      const p = s.points.find(([pt]) => pt === t);
      return p === undefined || (!Number.isNaN(p[1]) && satisfies(p[1], s.condition));
    });
  let start: number | null = null;
  for (let i = times.length - 1; i >= 0 && holds(times[i]!); i--) start = times[i]!;
  if (start === null) return null;
  return times[times.length - 1]! - start >= holdMs ? start : null;
}

/** Mean of the first series' finite values in [from, to). */
function meanIn(s: SloSeries | undefined, from: number, to: number): number | null {
  const vs = (s?.points ?? []).filter(([t, v]) => t >= from && t < to && Number.isFinite(v)).map(([, v]) => v);
  return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null;
}

/** Worse: further from the threshold on the failing side (for `<`, higher). 20 % more, and past the threshold. */
function worse(before: number, after: number, c: Condition): boolean {
  const lowIsGood = c.comparator === '<' || c.comparator === '<=';
  return lowIsGood ? after > before * 1.2 && after > c.threshold : after < before * 0.8 && after < c.threshold;
}

export interface ScoreInput {
  scenario: string;
  seed: number;
  team: string;
  game: string;
  t0: number;
  faultStartMs: number | null;
  faultHealedMs: number | null;
  endedMs: number;
  endedBy: string;
  series: SloSeries[];
  actions: GameAction[];
  budget: ErrorBudget | null;
  par?: Score['par'];
  /** How long after a change its effect is judged (the rate windows' lag). */
  effectLagMs?: number;
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms) / 1000);

export function computeScore(i: ScoreInput): Score {
  const fault = i.faultStartMs;
  const signal = fault === null ? null : firstSignal(i.series, fault);
  const declared = fault === null ? null : (i.actions.find((a) => a.kind === 'declare' && a.by === 'team' && a.atMs >= fault)?.atMs ?? null);
  const recovered = signal === null ? null : recoveredAt(i.series, signal);
  const changes = i.actions.filter((a) => a.by === 'team' && a.ok && (CHANGING_ACTIONS as readonly string[]).includes(a.kind));
  let recoveredBy: Score['recoveredBy'] = null;
  if (recovered !== null) {
    const last = changes.filter((a) => a.atMs <= recovered && fault !== null && a.atMs >= fault).at(-1);
    recoveredBy = last ? { atMs: last.atMs, kind: last.kind, text: last.text } : 'self-healed';
  }
  const lag = i.effectLagMs ?? 3000;
  const madeWorse = changes
    .filter((a) => {
      const before = meanIn(i.series[0], a.atMs - 5000, a.atMs);
      const after = meanIn(i.series[0], a.atMs + lag, a.atMs + lag + 5000);
      return before !== null && after !== null && worse(before, after, i.series[0]!.condition);
    })
    .map((a) => ({ atMs: a.atMs, kind: a.kind, text: a.text }));
  return {
    scenario: i.scenario,
    seed: i.seed,
    team: i.team,
    game: i.game,
    t0: i.t0,
    faultStartMs: fault,
    firstSignalMs: signal,
    declaredMs: declared,
    recoveredMs: recovered,
    recoveredBy,
    ttdSeconds: declared === null || fault === null ? null : seconds(declared - fault),
    // Declaring within one step before the sampled signal is on time, not early: the lag is never negative.
    detectionLagSeconds: declared === null || signal === null ? null : seconds(Math.max(0, declared - signal)),
    ttmSeconds: recovered === null || fault === null ? null : seconds(recovered - fault),
    errorBudgetBurned: i.budget ? Math.round(i.budget.burned * 1000) / 1000 : null,
    errorBudget: i.budget,
    hintsUsed: i.actions.filter((a) => a.kind === 'hint').length,
    madeWorse,
    fixHoldsUnderFault: recovered === null ? null : i.faultHealedMs === null || i.faultHealedMs > recovered,
    par: i.par ?? { available: false, why: 'no par for this game: make one with `npx chaoslab gameday par <scenario> --seeds N`, then `gameday start --par FILE`' },
    endedMs: i.endedMs,
    endedBy: i.endedBy,
    actions: i.actions.map((a) => ({ atMs: a.atMs, kind: a.kind, text: a.text, by: a.by, ok: a.ok, ...(a.detail ? { detail: a.detail } : {}) })),
    slos: i.series.map((s) => s.name),
  };
}

/** The error budget from the totals (PromQL `increase` over the game). */
export function errorBudget(total: number, failed: number, tooSlow: number, target: number, queries: Record<string, string>): ErrorBudget {
  const bad = failed + tooSlow;
  const allowed = total * (1 - target);
  return { total, bad, failed, tooSlow, target, burned: allowed > 0 ? bad / allowed : 0, queries };
}

/** The SLO latency (a bucket boundary, `le`) from the scenario's latency assertion on the load's histogram; 0.5 s if none. */
export function latencySlo(plan: Pick<ScenarioPlan, 'assertions'>): string {
  const a = sloAssertions(plan).find((x) => x.query.includes('chaoslab_client_request_duration_seconds_bucket') && (x.comparator === '<' || x.comparator === '<='));
  return String(a?.threshold ?? 0.5);
}

/** The error budget's totals over the last `rangeSec` seconds, as PromQL (the game's and par's replays alike). */
export function budgetQueries(plan: Pick<ScenarioPlan, 'assertions'>, rangeSec: number): { total: string; failed: string; tooSlow: string } {
  const range = `${Math.max(1, Math.ceil(rangeSec))}s`;
  const latency = latencySlo(plan);
  return {
    total: `sum(increase(chaoslab_client_requests_total[${range}]))`,
    failed: `sum(increase(chaoslab_client_requests_total{outcome!~"ok|timeout"}[${range}]))`,
    tooSlow: `sum(increase(chaoslab_client_request_duration_seconds_count[${range}])) - sum(increase(chaoslab_client_request_duration_seconds_bucket{le="${latency}"}[${range}]))`,
  };
}
