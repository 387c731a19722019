/**
 * Par: what a game day's incident costs when the mitigation comes at a given time. `chaoslab gameday par` replays
 * the incident a seed deals (the same fault, at the same time, on until the end, as in the game) once per sweep
 * time T, with the scenario's mitigation pushed to the nodes' admin endpoint at fault start + T (an action step on
 * the ordinary timeline, the config push the game's `mitigate` makes), and scores each replay like a game: the SLO
 * series and the error budget from the replay's Prometheus (the same PromQL, `budgetQueries`).
 *
 * Par, per seed: the replay with the earliest sweep time that recovers (the SLO holds for good, `recoveredAt`).
 * Its error budget burned (bad requests: failed, or slower than the SLO's latency) and its time to mitigate (fault
 * start → the SLO holds for good, never before the mitigation was pushed) are what a team that mitigated at that
 * moment would have scored. A game compares its own bad requests and TTM with its seed's par.
 *
 * Pure: the CLI runs the replays (src/run's runner), this builds their plan and judges what they recorded.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseCondition } from '../check/condition.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { AssertionPlan, ScenarioPlan, StepPlan, VariantPlan } from '../scenario/plan.js';
import type { VariantResult } from '../run/result.js';
import { dealIncident, MIN_FAULT_AT_MS, sloAssertions, type Deal } from './deal.js';
import { budgetQueries, errorBudget, firstSignal, HOLD_FOR_GOOD_MS, recoveredAt, type Score, type SloSeries } from './score.js';

/**
 * Load before the dealt fault: a run's fresh Prometheus first scrapes the load up to 5 s after it starts, and a
 * replay must see the whole incident. A game never deals a fault before `MIN_FAULT_AT_MS`, which already leaves that
 * time, so the lead is zero for every dealt fault; it guards a deal made earlier. TTM and bad requests count from
 * the fault, so the lead changes neither.
 */
export const parLeadMs = (deal: Pick<Deal, 'atMs'>): number => Math.max(0, MIN_FAULT_AT_MS - deal.atMs);

/** After the latest mitigation: its effect through the SLO's rate windows (twice the longest, at least 4 s), then the hold for good. */
export function parTailMs(slos: readonly Pick<AssertionPlan, 'query'>[]): number {
  const windows = slos.flatMap((a) => [...a.query.matchAll(/\[(\d+)(ms|s|m)\]/g)].map(([, n, u]) => Number(n) * (u === 'ms' ? 1 : u === 's' ? 1000 : 60_000)));
  return HOLD_FOR_GOOD_MS + Math.max(4000, 2 * Math.max(0, ...windows));
}
export const PAR_MAX_AT_MS = 10 * 60_000;
/** Budget assertions of a par replay are named with this prefix (they only read a number). */
const BUDGET_PREFIX = 'par budget: ';

export interface ParMitigation {
  /** The mitigations' names (of the scenario's first `expect: recover` variant, or the one asked for). */
  names: string[];
  /** What is pushed to each group's nodes (`POST /admin/params`). */
  set: Record<string, Record<string, unknown>>;
}

/** The mitigation par applies: the named one, or those of the scenario's first variant that expects recovery. */
export function parMitigation(plan: Pick<ScenarioPlan, 'file' | 'id' | 'cluster' | 'variants'>, name?: string): ParMitigation {
  const known = plan.cluster.mitigations;
  const names = name !== undefined ? [name] : (plan.variants.find((v) => v.expect === 'recover')?.mitigations ?? []);
  if (name !== undefined && !known[name]) throw new LabError(Errors.InvalidArgument, `--mitigation ${name}: the cluster has no such mitigation`, { hint: `mitigations: ${Object.keys(known).join(', ') || 'none'}` });
  if (names.length === 0) throw new LabError(Errors.InvalidArgument, `${plan.file}: scenario ${plan.id} has no variant that expects recovery with a mitigation, so par has nothing to apply`, { hint: 'name one with --mitigation <name>' });
  const set: ParMitigation['set'] = {};
  for (const n of names) for (const [group, params] of Object.entries(known[n]!.set)) set[group] = { ...set[group], ...(params as Record<string, unknown>) };
  return { names, set };
}

export const parVariantName = (atMs: number): string => `mitigate-at-${atMs / 1000}s`;

/**
 * The replay plan of one seed: the baseline's parameters, the dealt fault on from its dealt time to the end, and
 * one variant per sweep time whose only other step is the mitigation's push (all after `parLeadMs` more load). Every variant lasts as long as the
 * latest one needs, so their budgets are over the same number of requests. The SLO assertions are judged over the
 * whole replay (their series are the score's), and three more read the error budget's totals at the end.
 */
export function parPlan(plan: ScenarioPlan, seed: number, sweepMs: readonly number[], mitigation: ParMitigation): { plan: ScenarioPlan; deal: Deal } {
  const deal = dealIncident(plan, seed);
  const faultAtMs = parLeadMs(deal) + deal.atMs;
  const baseline = plan.variants.find((v) => v.name === 'baseline') ?? plan.variants[0]!;
  const durationMs = faultAtMs + Math.max(...sweepMs) + parTailMs(sloAssertions(plan));
  const variants: VariantPlan[] = sweepMs.map((at) => ({ name: parVariantName(at), description: `${mitigation.names.join(' + ')} pushed ${at / 1000} s after the fault`, expect: 'recover', mitigations: [], params: baseline.params }));
  const names = variants.map((v) => v.name);
  const steps: StepPlan[] = [{ ...deal.step, atMs: faultAtMs, index: 0, forMs: undefined, inControl: false }];
  for (const [i, at] of sweepMs.entries()) {
    for (const [group, params] of Object.entries(mitigation.set)) {
      const nodes = plan.nodes.filter((n) => n.group === group && !n.spare);
      if (!nodes.length) continue;
      steps.push({
        name: `${names[i]}-${group}`,
        index: steps.length,
        atMs: faultAtMs + at,
        forMs: undefined,
        action: { node: group, instances: nodes.map((n) => n.name), port: nodes[0]!.ports[0]!, method: 'POST', path: '/admin/params', body: { text: JSON.stringify(params), contentType: 'application/json' }, timeoutMs: 3000 },
        inControl: false,
        variants: [names[i]!],
      });
    }
  }
  const whole = { startMs: 0, endMs: durationMs, label: 'the whole replay' };
  const base = { description: undefined, over: 'all' as const, recoverWithinMs: undefined, expect: {}, variants: names };
  const slo: AssertionPlan[] = sloAssertions(plan).map((a) => ({ ...a, ...base, name: a.name, query: a.query, comparator: a.comparator, threshold: a.threshold, window: whole }));
  const q = budgetQueries(plan, Math.ceil(durationMs / 1000));
  const budget: AssertionPlan[] = Object.entries(q).map(([k, query]) => ({ ...base, name: `${BUDGET_PREFIX}${k}`, query, comparator: '>=', threshold: 0, over: 'last', window: { startMs: durationMs - 1000, endMs: durationMs, label: 'the end of the replay' } }));
  return {
    deal,
    plan: { ...plan, variants, steps, assertions: [...slo, ...budget], checker: undefined, durationMs, workload: { ...plan.workload, history: false } },
  };
}

export interface ParPoint {
  /** The sweep time: the mitigation pushed this long after the fault's start. */
  atSeconds: number;
  variant: string;
  faultStartMs: number | null;
  /** When the push was made (ms since the load's start); null if it failed. */
  mitigatedMs: number | null;
  firstSignalMs: number | null;
  recoveredMs: number | null;
  recovered: boolean;
  /** Fault start → the SLO holds for good, never before the push. */
  ttmSeconds: number | null;
  totalRequests: number;
  badRequests: number;
  /** `bad / (requests × (1 − target))` over the replay (requests: at least the load's rate × its length). */
  errorBudgetBurned: number;
  error?: string;
}

/**
 * Judges one replay (one sweep time) from what it recorded: the SLO series and the budget's totals. The budget is
 * out of `nominalRequests` (the load's rate × the replay's length) when Prometheus counted fewer (a fresh server
 * misses the first seconds), so every replay of a sweep has the same budget.
 */
export function parPoint(r: VariantResult, atMs: number, sloTarget: number, nominalRequests = 0): ParPoint {
  const fault = r.faults[0]?.appliedMs ?? null;
  const push = (r.actions ?? []).filter((a) => !a.error);
  const failedPush = (r.actions ?? []).find((a) => a.error)?.error;
  const mitigatedMs = push.length && !failedPush ? Math.max(...push.map((a) => a.actualMs)) : null;
  const series: SloSeries[] = r.assertions
    .filter((a) => !a.name.startsWith(BUDGET_PREFIX))
    .flatMap((a) => a.series.map((s) => ({ name: a.name, condition: parseCondition(a.condition)!, points: s.points.map(([t, v]): [number, number] => [Math.round(t * 1000 - r.t0), v]) })));
  const total = (k: string): number => {
    const v = r.assertions.find((a) => a.name === `${BUDGET_PREFIX}${k}`)?.observed.last;
    return v === null || v === undefined || !Number.isFinite(v) ? 0 : Math.max(0, Math.round(v));
  };
  const budget = errorBudget(Math.max(total('total'), Math.round(nominalRequests)), total('failed'), total('tooSlow'), sloTarget, {});
  const signal = fault === null ? null : firstSignal(series, fault);
  const held = fault === null ? null : recoveredAt(series, signal ?? fault);
  const recoveredMs = held === null || mitigatedMs === null ? null : Math.max(held, mitigatedMs);
  const error = r.error?.message ?? failedPush ?? (fault === null ? 'the fault was not applied' : undefined);
  return {
    atSeconds: atMs / 1000,
    variant: r.name,
    faultStartMs: fault,
    mitigatedMs,
    firstSignalMs: signal,
    recoveredMs,
    recovered: recoveredMs !== null && !error,
    ttmSeconds: recoveredMs === null || fault === null ? null : Math.round(recoveredMs - fault) / 1000,
    totalRequests: total('total'),
    badRequests: budget.bad,
    errorBudgetBurned: Math.round(budget.burned * 1000) / 1000,
    ...(error ? { error } : {}),
  };
}

export interface ParSeed {
  seed: number;
  /** The dealt fault (as the game with this seed deals it: `atMs`; in the replay it comes `parLeadMs` later). */
  fault: { step: string; description: string; atMs: number };
  runDir: string;
  points: ParPoint[];
  /** The earliest sweep time that recovered; null when none did. */
  par: { atSeconds: number; ttmSeconds: number; badRequests: number; errorBudgetBurned: number } | null;
}

export interface ParDoc {
  version: 1;
  scenario: string;
  mitigation: string[];
  sloTarget: number;
  sweepSeconds: number[];
  durationSeconds: number;
  seeds: ParSeed[];
  /** Medians over the seeds that reached par (null when none did). */
  median: { ttmSeconds: number; badRequests: number; errorBudgetBurned: number } | null;
  definition: string;
}

export const PAR_DEFINITION =
  'Par, per seed: the incident the seed deals, replayed once per sweep time T with the mitigation pushed T after the fault starts; par is the replay with the earliest T whose SLO then holds for good (5 s to the end). Its error budget burned (failed or too-slow requests) and its time to mitigate (fault start to the SLO holding for good, never before the push) are par. A game compares its bad requests (ratio) and TTM (difference) with its seed\'s par, else with the median over the seeds.';

/** Par of one seed: the earliest recovering sweep time. */
export function parOf(points: readonly ParPoint[]): ParSeed['par'] {
  const best = [...points].filter((p) => p.recovered && p.ttmSeconds !== null).sort((a, b) => a.atSeconds - b.atSeconds)[0];
  return best ? { atSeconds: best.atSeconds, ttmSeconds: best.ttmSeconds!, badRequests: best.badRequests, errorBudgetBurned: best.errorBudgetBurned } : null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function parDoc(o: { scenario: string; mitigation: string[]; sloTarget: number; sweepMs: readonly number[]; durationMs: number; seeds: Omit<ParSeed, 'par'>[] }): ParDoc {
  const seeds = o.seeds.map((s) => ({ ...s, par: parOf(s.points) }));
  const reached = seeds.flatMap((s) => (s.par ? [s.par] : []));
  return {
    version: 1,
    scenario: o.scenario,
    mitigation: o.mitigation,
    sloTarget: o.sloTarget,
    sweepSeconds: o.sweepMs.map((m) => m / 1000),
    durationSeconds: o.durationMs / 1000,
    seeds,
    median: reached.length ? { ttmSeconds: median(reached.map((p) => p.ttmSeconds)), badRequests: median(reached.map((p) => p.badRequests)), errorBudgetBurned: median(reached.map((p) => p.errorBudgetBurned)) } : null,
    definition: PAR_DEFINITION,
  };
}

/** How far a game was from par: its score's `par`. */
export interface ParComparison {
  available: true;
  file: string;
  /** The par compared with: the game's seed's, or the median over the par's seeds. */
  basis: 'seed' | 'median';
  seed: number | null;
  mitigation: string[];
  parAtSeconds: number | null;
  parTtmSeconds: number;
  parBadRequests: number;
  teamBadRequests: number | null;
  /** Team's bad requests ÷ par's (null when par burned none, or the team's are unknown). */
  budgetTimesPar: number | null;
  /** Team's TTM − par's (null when the team did not recover). */
  ttmOverParSeconds: number | null;
  summary: string;
}

export function compareWithPar(score: Pick<Score, 'scenario' | 'seed' | 'ttmSeconds' | 'errorBudget'>, doc: ParDoc, file: string): ParComparison | { available: false; why: string } {
  if (doc.scenario !== score.scenario) return { available: false, why: `${file} is the par of ${doc.scenario}, not ${score.scenario}` };
  const own = doc.seeds.find((s) => s.seed === score.seed);
  const p = own?.par ?? null;
  const basis = p ? { kind: 'seed' as const, ttm: p.ttmSeconds, bad: p.badRequests, at: p.atSeconds } : doc.median ? { kind: 'median' as const, ttm: doc.median.ttmSeconds, bad: doc.median.badRequests, at: null } : null;
  if (!basis) return { available: false, why: `no replay in ${file} recovered (sweep ${doc.sweepSeconds.join(', ')} s): no par` };
  const team = score.errorBudget?.bad ?? null;
  const times = team === null || basis.bad <= 0 ? null : Math.round((team / basis.bad) * 10) / 10;
  const over = score.ttmSeconds === null ? null : Math.round((score.ttmSeconds - basis.ttm) * 10) / 10;
  const summary = [
    times === null ? (team === null ? 'budget unknown' : `budget ${team} bad requests (par ${basis.bad})`) : `budget ${times}× par`,
    over === null ? 'not recovered (par TTM ' + basis.ttm + ' s)' : `TTM ${over >= 0 ? '+' : '−'}${Math.abs(over)} s`,
  ].join(', ');
  return {
    available: true,
    file,
    basis: basis.kind,
    seed: basis.kind === 'seed' ? score.seed : null,
    mitigation: doc.mitigation,
    parAtSeconds: basis.at,
    parTtmSeconds: basis.ttm,
    parBadRequests: basis.bad,
    teamBadRequests: team,
    budgetTimesPar: times,
    ttmOverParSeconds: over,
    summary: basis.kind === 'median' ? `${summary} (median par over seeds ${doc.seeds.map((s) => s.seed).join(', ')}; seed ${score.seed} not swept)` : summary,
  };
}

const Point = z.object({ atSeconds: z.number(), recovered: z.boolean(), ttmSeconds: z.number().nullable(), badRequests: z.number(), errorBudgetBurned: z.number() }).passthrough();
const ParFile = z
  .object({
    version: z.literal(1),
    scenario: z.string(),
    mitigation: z.array(z.string()),
    sloTarget: z.number(),
    sweepSeconds: z.array(z.number()),
    durationSeconds: z.number(),
    seeds: z.array(z.object({ seed: z.number(), fault: z.object({ step: z.string(), description: z.string(), atMs: z.number() }), runDir: z.string(), points: z.array(Point), par: z.object({ atSeconds: z.number(), ttmSeconds: z.number(), badRequests: z.number(), errorBudgetBurned: z.number() }).nullable() })),
    median: z.object({ ttmSeconds: z.number(), badRequests: z.number(), errorBudgetBurned: z.number() }).nullable(),
    definition: z.string(),
  })
  .passthrough();

/** Reads a par.json (`gameday start --par FILE`): bad input is exit 2, naming the file and the field. */
export function readParFile(file: string): ParDoc {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LabError(Errors.InvalidArgument, `--par ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${e instanceof Error ? e.message : String(e)})`}`, { hint: 'make one: npx chaoslab gameday par <scenario> --seeds N' });
  }
  const r = ParFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new LabError(Errors.InvalidArgument, `--par ${file}: field ${i.path.join('.') || '(top)'}: ${i.message}`, { hint: 'a par.json is written by npx chaoslab gameday par <scenario>; make it again' });
  }
  return r.data as unknown as ParDoc;
}

/** Sweep times: `5s,10s,20s` (each ≥ 0, at most 10 min, distinct, sorted). */
export function parseSweep(text: string, parseDuration: (t: string) => number | undefined): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const ms = part === '0' ? 0 : parseDuration(part);
    if (ms === undefined || ms < 0 || ms > PAR_MAX_AT_MS) throw new LabError(Errors.InvalidArgument, `--at ${text}: "${part}" is not a duration from 0s to 10m, with a unit`, { hint: 'e.g. --at 5s,10s,20s' });
    if (out.includes(ms)) throw new LabError(Errors.InvalidArgument, `--at ${text}: ${part} is there twice`, { hint: 'e.g. --at 5s,10s,20s' });
    out.push(ms);
  }
  return out.sort((a, b) => a - b);
}
