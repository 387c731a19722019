/**
 * Checkers judge a run's recorded history rather than its scrapes (Jepsen: record, then judge).
 * They run after the load stopped and every fault healed, while the cluster is still up, and
 * export their counts as lab metrics — only once they have judged, so a check that never ran
 * leaves no series and its assertions come out no-data (never a false pass).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Gauge } from 'prom-client';
import { checkSet, type SetValue } from '../check/set-checker.js';
import { setWorkloadEdn } from '../check/set-history.js';
import { checkLinearizable, findLinearizabilityChecker, mergeHistories, registerHistoryEdn, summarize } from '../check/linearizability.js';
import type { LabMetrics } from '../observe/lab-metrics.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import type { RecordedHistory } from '../workload/history.js';
import type { VariantEvent } from './context.js';

export interface CheckerContext {
  history: RecordedHistory | undefined;
  variantDir: string;
  lab: LabMetrics;
  /** host:port of a node group's first instance's first port. */
  nodeAddress(group: string): string;
  /** host:port of every instance of a node group (first port). */
  nodeAddresses(group: string): string[];
  projectRoot: string;
  /** PATH, for the checker binaries. */
  envPath: string;
  /** Says what the checker found (the variant's `checker` / `checker-error` events). */
  emit(e: Extract<VariantEvent, { kind: 'checker' | 'checker-error' }>): void;
}

export type CheckerSummary = Record<string, unknown>;

export async function runCheckers(plan: ScenarioPlan, ctx: CheckerContext): Promise<CheckerSummary | undefined> {
  const c = plan.checker;
  if (!c) return undefined;
  if (c.type === 'linearizable') return runLinearizable(c, ctx);
  let values: SetValue[];
  // The final read is an operation of the history too (Jepsen's set workload ends with it).
  const invokeNs = ctx.history?.elapsedNs() ?? 0;
  const writeEdn = (read: { values?: SetValue[]; error?: string }): void =>
    writeFileSync(
      path.join(ctx.variantDir, 'history.edn'),
      setWorkloadEdn(ctx.history?.ops ?? [], c.adds, { invokeNs, completeNs: ctx.history?.elapsedNs() ?? invokeNs, values: read.values, ...(read.error !== undefined ? { error: read.error } : {}) }),
    );
  try {
    const res = await fetch(`http://${ctx.nodeAddress(c.finalRead.node)}${c.finalRead.path}`, { signal: AbortSignal.timeout(c.finalRead.timeout) });
    const text = await res.text();
    // Raw, as the node answered: lost writes can be recomputed from it and history.jsonl alone.
    writeFileSync(path.join(ctx.variantDir, 'final-read.json'), text.endsWith('\n') ? text : `${text}\n`);
    const body = JSON.parse(text) as unknown;
    const list = Array.isArray(body) ? body : (body as { values?: unknown }).values;
    if (!Array.isArray(list)) throw new Error(`the final read from ${c.finalRead.node}${c.finalRead.path} answered HTTP ${res.status} without a list of values`);
    values = list.filter((v): v is SetValue => typeof v === 'number' || typeof v === 'string');
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    writeEdn({ error });
    ctx.emit({ kind: 'checker-error', checker: 'set', error });
    return { set: { valid: 'unknown', error } };
  }
  writeEdn({ values });
  const result = checkSet(ctx.history?.ops ?? [], values, { f: c.adds });
  writeFileSync(path.join(ctx.variantDir, 'checker-set.json'), `${JSON.stringify(result, null, 2)}\n`);
  const counts = {
    valid: result.valid,
    lost: result.lost.length,
    unexpected: result.unexpected.length,
    recovered: result.recovered.length,
    acked: result.ackedCount,
    attempted: result.attemptedCount,
    read: values.length,
  };
  ctx.emit({ kind: 'checker', checker: 'set', ...counts });
  exportCounts(ctx.lab, counts);
  return { set: counts };
}

/**
 * Fetches every instance's register history, merges them by time, writes `register-history.jsonl` (and `.edn` for
 * Knossos) into the variant folder, and judges it with Porcupine. `unknown` exports nothing: no false pass.
 */
async function runLinearizable(c: Extract<NonNullable<ScenarioPlan['checker']>, { type: 'linearizable' }>, ctx: CheckerContext): Promise<CheckerSummary> {
  const binary = findLinearizabilityChecker(ctx.projectRoot, ctx.envPath);
  const historyFile = path.join(ctx.variantDir, 'register-history.jsonl');
  try {
    const texts = await Promise.all(
      ctx.nodeAddresses(c.histories.node).map(async (address) => {
        const res = await fetch(`http://${address}${c.histories.path}`, { signal: AbortSignal.timeout(c.histories.timeout) });
        if (!res.ok) throw new Error(`the history from ${address}${c.histories.path} answered HTTP ${res.status}`);
        return res.text();
      }),
    );
    const ops = mergeHistories(texts);
    writeFileSync(historyFile, ops.map((o) => JSON.stringify(o)).join('\n') + (ops.length ? '\n' : ''));
    writeFileSync(path.join(ctx.variantDir, 'register-history.edn'), registerHistoryEdn(ops));
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    ctx.emit({ kind: 'checker-error', checker: 'linearizable', error });
    return { linearizable: { valid: 'unknown', error } };
  }
  const verdict = await checkLinearizable(binary, historyFile, { timeoutMs: c.timeLimit, visualize: path.join(ctx.variantDir, 'linearizability.html') });
  writeFileSync(path.join(ctx.variantDir, 'checker-linearizable.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  const summary = summarize(verdict);
  ctx.emit({ kind: 'checker', checker: 'linearizable', ...summary });
  if (summary.valid !== 'unknown') {
    const g = gaugesOf(ctx.lab);
    g.valid!.set({ checker: 'linearizable' }, summary.valid ? 1 : 0);
    g.anomalies!.set({ checker: 'linearizable' }, summary.valid ? 0 : 1);
  }
  return { linearizable: summary };
}

const gauges = new WeakMap<LabMetrics, Record<string, Gauge<'checker'>>>();

function gaugesOf(lab: LabMetrics): Record<string, Gauge<'checker'>> {
  let g = gauges.get(lab);
  if (!g) {
    const make = (name: string, help: string) => new Gauge({ name, help, labelNames: ['checker'] as const, registers: [lab.registry] });
    g = {
      lost: make('chaoslab_checker_lost_total', 'Acknowledged values missing from the final read (set checker), for the last variant checked.'),
      unexpected: make('chaoslab_checker_unexpected_total', 'Values read that were never attempted.'),
      recovered: make('chaoslab_checker_recovered_total', 'Indeterminate adds that the final read shows.'),
      acked: make('chaoslab_checker_acked_total', 'Adds acknowledged to the client.'),
      attempted: make('chaoslab_checker_attempted_total', 'Adds attempted.'),
      valid: make('chaoslab_checker_valid', '1 when the checker found the history valid, 0 when not.'),
      anomalies: make('chaoslab_checker_anomalies_total', 'Anomalies the checker found (linearizability: 1 when the history is not linearizable; Porcupine stops at the first).'),
    };
    gauges.set(lab, g);
  }
  return g;
}

function exportCounts(lab: LabMetrics, counts: { valid: boolean; lost: number; unexpected: number; recovered: number; acked: number; attempted: number }): void {
  const g = gaugesOf(lab);
  for (const k of ['lost', 'unexpected', 'recovered', 'acked', 'attempted'] as const) g[k]!.set({ checker: 'set' }, counts[k]);
  g.valid!.set({ checker: 'set' }, counts.valid ? 1 : 0);
}

/** Between variants the previous variant's counts must not be judged again: remove the series. */
export function resetCheckerMetrics(lab: LabMetrics): void {
  const g = gauges.get(lab);
  if (g) for (const gauge of Object.values(g)) gauge.reset();
}
