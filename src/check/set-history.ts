/**
 * The set workload's history as Jepsen writes it (jepsen.tests / jepsen.checker/set): every attempted add is an
 * `:add` operation, and the history ends with one final `:read` whose `:ok` completion holds the values read. This
 * is the history.edn that Jepsen's `checker/set` judges directly (with `:f :produce` and no read it answers
 * `:unknown`). The lab's own form (history.jsonl, the workload's operation names) stays as recorded.
 */
import { ednString, toEdnLine, type HistoryOp } from '../workload/history.js';
import type { SetValue } from './set-checker.js';

/** The final read as the checker made it: when it was invoked and completed (ns on the history's clock). */
export interface FinalRead {
  invokeNs: number;
  completeNs: number;
  /** The values read; undefined when the read failed (the read completes `:info`). */
  values: readonly SetValue[] | undefined;
  error?: string;
}

function ednVector(values: readonly SetValue[]): string {
  return `[${values.map((v) => (typeof v === 'number' ? String(v) : ednString(v))).join(' ')}]`;
}

/**
 * Jepsen's set-workload history.edn: the adds (operations named in `adds`, renamed `:add`, re-indexed from 0),
 * then the final read on a process of its own. One map per line.
 */
export function setWorkloadEdn(history: readonly HistoryOp[], adds: readonly string[], read: FinalRead): string {
  const isAdd = new Set(adds);
  const lines: string[] = [];
  let index = 0;
  let maxProcess = -1;
  let lastNs = 0;
  for (const op of history) {
    if (!isAdd.has(op.f)) continue;
    lines.push(toEdnLine({ ...op, f: 'add', index: index++ }));
    maxProcess = Math.max(maxProcess, op.process);
    lastNs = Math.max(lastNs, op.time);
  }
  const process = maxProcess + 1;
  const invokeNs = Math.max(lastNs, Math.round(read.invokeNs));
  const completeNs = Math.max(invokeNs, Math.round(read.completeNs));
  lines.push(`{:type :invoke, :f :read, :value nil, :process ${process}, :time ${invokeNs}, :index ${index++}}`);
  if (read.values) lines.push(`{:type :ok, :f :read, :value ${ednVector(read.values)}, :process ${process}, :time ${completeNs}, :index ${index++}}`);
  else lines.push(`{:type :info, :f :read, :value nil, :process ${process}, :time ${completeNs}, :index ${index++}${read.error !== undefined ? `, :error ${ednString(read.error)}` : ''}}`);
  return lines.join('\n') + '\n';
}
