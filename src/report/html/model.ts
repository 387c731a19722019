/**
 * What report.html shows, derived from result.json and the journal and nothing else (so a rebuild gives the same
 * page): the verdict, each variant's timeline in seconds from its load's start, the assertions grouped by name
 * across variants, and what the mitigations changed.
 */
import { parseCondition, type Condition } from '../../check/condition.js';
import type { CounterexampleOp, CounterexampleSummary } from '../../check/linearizability.js';
import { formatSeconds, type Unit } from '../../common/format.js';
import type { StoredJournalRecord as JournalRecord } from '../../run/journal.js';
import type { AssertionResult, RunResult, VariantResult } from '../../run/result.js';
import { runVerdict, type RunVerdict } from '../verdict.js';

export interface FaultSpan {
  step: string;
  description: string;
  /** Fault type from the journal (latency, kill, …); undefined when the journal lacks it. */
  type: string | undefined;
  scheduledSec: number;
  appliedSec: number | null;
  healScheduledSec: number | null;
  healedSec: number | null;
  /** Where the fault's shading starts and ends: applied (or scheduled) to healed (or the run's end). */
  fromSec: number;
  toSec: number;
  error?: string;
}

export interface PhaseSpan {
  phase: string;
  fromSec: number;
  toSec: number;
}

export interface LoadChange {
  step: string;
  action: string;
  rate: number | null;
  atSec: number;
}

/** An operator action (timeline `action:`): when it was made and whether every call succeeded. */
export interface ActionMark {
  step: string;
  description: string;
  atSec: number;
  error?: string;
}

export interface VariantTimeline {
  variant: string;
  durationSec: number;
  phases: PhaseSpan[];
  faults: FaultSpan[];
  loadChanges: LoadChange[];
  actions: ActionMark[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The timeline of a variant, in seconds from its t0 (the load's start), from the result and journal. */
export function variantTimeline(v: VariantResult, journal: readonly JournalRecord[]): VariantTimeline {
  const own = journal.filter((r) => r.variant === v.name);
  const loadStart = own.find((r) => r.kind === 'load-start');
  const loadEnd = own.find((r) => r.kind === 'load-end');
  const base = loadStart?.t ?? null;
  const rel = (r: JournalRecord): number | null => (base === null ? null : (r.t - base) / 1000);

  const loadMs = num(v.load?.['durationMs']);
  const fromJournal = base !== null && loadEnd ? (loadEnd.t - base) / 1000 : null;
  const windowEnd = Math.max(0, ...v.assertions.map((a) => a.window.endMs / 1000));
  const faultEnd = Math.max(0, ...v.faults.map((f) => (f.healedMs ?? f.appliedMs ?? f.scheduledMs) / 1000));
  const durationSec = loadMs !== null ? loadMs / 1000 : fromJournal ?? Math.max(windowEnd, faultEnd, 1);

  const phases: PhaseSpan[] = [];
  const phaseRecords = own.filter((r) => r.kind === 'phase' && typeof r['phase'] === 'string');
  phaseRecords.forEach((r, i) => {
    const from = rel(r);
    if (from === null) return;
    const next = phaseRecords[i + 1];
    const to = next ? (rel(next) ?? durationSec) : durationSec;
    const a = Math.max(0, from);
    const b = Math.min(durationSec, to);
    if (b > a) phases.push({ phase: String(r['phase']), fromSec: a, toSec: b });
  });

  const types = new Map<string, string>();
  for (const r of own) {
    if (r.kind === 'fault-apply' && typeof r['step'] === 'string') {
      const f = r['fault'] as { type?: unknown } | undefined;
      if (typeof f?.type === 'string') types.set(r['step'], f.type);
    }
  }
  // Faults still active at the end are healed by the runner's finally; they were active until then.
  const faults: FaultSpan[] = v.faults.map((f) => {
    const appliedSec = f.appliedMs === null ? null : f.appliedMs / 1000;
    const healedSec = f.healedMs === null ? null : f.healedMs / 1000;
    const from = appliedSec ?? f.scheduledMs / 1000;
    const to = healedSec ?? (appliedSec === null ? from : durationSec);
    return {
      step: f.step,
      description: f.description,
      type: types.get(f.step),
      scheduledSec: f.scheduledMs / 1000,
      appliedSec,
      healScheduledSec: f.healScheduledMs === null ? null : f.healScheduledMs / 1000,
      healedSec,
      fromSec: from,
      toSec: Math.max(from, to),
      ...(f.error !== undefined ? { error: f.error } : {}),
    };
  });

  // Scale steps share the load row: both change what meets the load (the label says `<group> → <n>`).
  const loadChanges: LoadChange[] = own
    .filter((r) => r.kind === 'load-change' || r.kind === 'scale')
    .map((r) => ({
      step: String(r['step'] ?? ''),
      action: r.kind === 'scale' ? `${String(r['group'] ?? '')} → ${String(r['to'] ?? '')}` : String(r['action'] ?? ''),
      rate: r.kind === 'scale' ? null : num(r['rate']),
      atSec: (num(r['actualMs']) ?? num(r['scheduledMs']) ?? 0) / 1000,
    }));

  const actions: ActionMark[] = own
    .filter((r) => r.kind === 'action-end')
    .map((r) => ({
      step: String(r['step'] ?? ''),
      description: String(r['description'] ?? ''),
      atSec: (num(r['actualMs']) ?? num(r['scheduledMs']) ?? 0) / 1000,
      ...(typeof r['error'] === 'string' ? { error: r['error'] } : {}),
    }));

  return { variant: v.name, durationSec, phases, faults, loadChanges, actions };
}

/** Latency quantiles of a `_seconds` histogram are seconds; everything else is shown as a plain number. */
export function unitOf(query: string): Unit {
  return /histogram_quantile\s*\(/.test(query) && /_seconds_bucket\b/.test(query) ? 'seconds' : 'plain';
}

/** An assertion about recovering: its window starts at a heal, or it has a recovery allowance. */
export function isRecoveryAssertion(a: AssertionResult): boolean {
  return a.window.label.startsWith('after ') || recoveryAllowanceSec(a) !== null;
}

/** The `recoverWithin` of the assertion, as the judge's reason states it. */
export function recoveryAllowanceSec(a: AssertionResult): number | null {
  const m = /within ([\d.]+)s of the heal/.exec(a.reason);
  return m ? Number(m[1]) : null;
}

/** One assertion as judged in each variant that evaluated it: one row of charts on the page. */
export interface AssertionGroup {
  name: string;
  first: AssertionResult;
  byVariant: Map<string, AssertionResult>;
  condition: Condition | null;
  unit: Unit;
}

export function groupAssertions(variants: readonly VariantResult[]): AssertionGroup[] {
  const groups = new Map<string, AssertionGroup>();
  for (const v of variants) {
    for (const a of v.assertions) {
      let g = groups.get(a.name);
      if (!g) groups.set(a.name, (g = { name: a.name, first: a, byVariant: new Map(), condition: parseCondition(a.condition), unit: unitOf(a.query) }));
      g.byVariant.set(v.name, a);
    }
  }
  return [...groups.values()];
}

// An empty string (a workshop `extension` left unset) shows as "", so `extension=` never reads as a cut-off value.
export const paramValue = (v: unknown): string => (typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v) ?? String(v));

/** `node.param` keys whose value is not the same in every variant: what the mitigations changed. */
export function differingParams(variants: readonly VariantResult[]): Set<string> {
  const out = new Set<string>();
  const keys = new Set<string>();
  for (const v of variants) for (const [node, ps] of Object.entries(v.params)) for (const k of Object.keys(ps)) keys.add(`${node}\u0000${k}`);
  for (const key of keys) {
    const [node, k] = key.split('\u0000') as [string, string];
    const values = new Set(variants.map((v) => paramValue(v.params[node]?.[k])));
    if (values.size > 1) out.add(`${node}.${k}`);
  }
  return out;
}

/** Everything the page is drawn from. */
export interface ReportModel {
  result: RunResult;
  journal: readonly JournalRecord[];
  verdict: RunVerdict;
  /** Wall time of the whole run, `1m19s`; `—` when the result lacks its start or end. */
  wall: string;
  timelines: Map<string, VariantTimeline>;
  /** One time axis for the whole page, so every chart and timeline lines up. */
  domain: [number, number];
  groups: AssertionGroup[];
  differing: Set<string>;
}

export function buildReportModel(result: RunResult, journal: readonly JournalRecord[]): ReportModel {
  const timelines = new Map(result.variants.map((v) => [v.name, variantTimeline(v, journal)]));
  const maxDuration = Math.max(1, ...[...timelines.values()].map((t) => t.durationSec));
  const started = Date.parse(result.startedAt);
  const ended = Date.parse(result.endedAt);
  return {
    result,
    journal,
    verdict: runVerdict(result),
    wall: Number.isFinite(started) && Number.isFinite(ended) ? formatSeconds(Math.round((ended - started) / 100) / 10) : '—',
    timelines,
    domain: [0, maxDuration],
    groups: groupAssertions(result.variants),
    differing: differingParams(result.variants),
  };
}

/**
 * The linearizability checker's counterexample of a variant, if it has one. result.json is read back by
 * `chaoslab report`, so its shape is checked here rather than trusted.
 */
export function counterexampleOf(v: VariantResult): CounterexampleSummary | undefined {
  const lin = (v.checkers as { linearizable?: { counterexample?: unknown } } | undefined)?.linearizable;
  const ce = lin?.counterexample as Partial<CounterexampleSummary> | undefined;
  if (!ce || typeof ce !== 'object' || typeof ce.key !== 'string' || typeof ce.explanation !== 'string' || !Array.isArray(ce.order) || ce.order.length === 0) return undefined;
  const opOk = (o: unknown): o is CounterexampleOp => {
    const x = o as Partial<CounterexampleOp> | null;
    return !!x && typeof x.process === 'number' && (x.f === 'read' || x.f === 'write') && typeof x.value === 'string' && typeof x.callMs === 'number' && (x.returnMs === null || typeof x.returnMs === 'number');
  };
  if (!ce.order.every(opOk) || (ce.missedWrite !== undefined && !opOk(ce.missedWrite))) return undefined;
  return { key: ce.key, expected: typeof ce.expected === 'string' ? ce.expected : '', staleRead: ce.order.at(-1)!, order: ce.order, explanation: ce.explanation, ...(ce.missedWrite ? { missedWrite: ce.missedWrite } : {}) };
}
