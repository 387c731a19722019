/**
 * Jepsen's `set` checker (jepsen/checker.clj), over the lab's recorded history and a final read.
 * Every add the workload attempted is an `invoke`; its completion says what the client learned:
 *   ok   — acknowledged: it must be in the final read, else it is LOST;
 *   fail — definitely not applied;
 *   info — indeterminate: present in the final read means RECOVERED, absent is fine.
 * A read value that no add ever attempted is UNEXPECTED. `valid` = no lost and no unexpected values,
 * exactly as Jepsen judges it, so `history.edn` re-checked by Jepsen gives the same verdict.
 */
import type { HistoryType, HistoryValue } from '../workload/history.js';

/** The fields the checker reads; `HistoryOp` from the recorder fits. */
export interface SetHistoryOp {
  type: HistoryType;
  f: string;
  value: HistoryValue;
  process: number;
  time: number;
  index: number;
}

/** A value as the history holds it (numbers for `{seq}` operations). */
export type SetValue = number | string;

export interface SetCheckResult {
  valid: boolean;
  /** Acknowledged (ok) but not in the final read. */
  lost: SetValue[];
  /** In the final read but never attempted. */
  unexpected: SetValue[];
  /** Indeterminate or failed adds that are in the final read (Jepsen: `ok − acknowledged`). */
  recovered: SetValue[];
  /**
   * Adds that completed `fail` yet are in the final read. Jepsen counts them as recovered and does not
   * judge them; they are listed apart because a `fail` means "definitely not applied" (a lying error).
   */
  failedButRead: SetValue[];
  attemptedCount: number;
  ackedCount: number;
  /** Attempted values present in the final read. */
  okCount: number;
  /** Final-read entries beyond the first of each value (at-least-once delivery; not an error for a set). */
  duplicateCount: number;
}

export interface SetCheckOptions {
  /** Only operations with these `f` names are adds; by default every operation with a value is. */
  f?: string | readonly string[];
}

/**
 * 12 and "12" are the same element: a `{seq}` value goes out as a number and may come back as text.
 * Numbers get a `#` prefix internally, so they can never collide with a non-numeric string.
 */
function keyOf(v: SetValue): string {
  if (typeof v === 'number') return `#${v}`;
  return /^-?\d+(\.\d+)?$/.test(v) ? `#${Number(v)}` : `s${v}`;
}

function sortValues(values: Iterable<SetValue>): SetValue[] {
  return [...values].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export function checkSet(history: readonly SetHistoryOp[], finalRead: Iterable<SetValue>, opts: SetCheckOptions = {}): SetCheckResult {
  const fs = opts.f === undefined ? undefined : new Set(typeof opts.f === 'string' ? [opts.f] : opts.f);
  const isAdd = (op: SetHistoryOp): op is SetHistoryOp & { value: SetValue } =>
    op.value !== null && (fs === undefined || fs.has(op.f));

  // Keyed by canonical form; the value kept is the history's own (first seen), for reporting.
  const attempts = new Map<string, SetValue>();
  const acked = new Map<string, SetValue>();
  const failed = new Map<string, SetValue>();
  for (const op of history) {
    if (!isAdd(op)) continue;
    const k = keyOf(op.value);
    // An `ok` without its `invoke` (a truncated history) still counts as attempted, never as unexpected.
    if (!attempts.has(k)) attempts.set(k, op.value);
    if (op.type === 'ok') acked.set(k, op.value);
    else if (op.type === 'fail') failed.set(k, op.value);
  }

  const read = new Map<string, SetValue>();
  let duplicateCount = 0;
  for (const v of finalRead) {
    const k = keyOf(v);
    if (read.has(k)) duplicateCount++;
    else read.set(k, v);
  }

  const lost: SetValue[] = [];
  for (const [k, v] of acked) if (!read.has(k)) lost.push(v);
  const unexpected: SetValue[] = [];
  const recovered: SetValue[] = [];
  const failedButRead: SetValue[] = [];
  let okCount = 0;
  for (const [k, v] of read) {
    const attempted = attempts.get(k);
    if (attempted === undefined) {
      unexpected.push(v);
      continue;
    }
    okCount++;
    if (!acked.has(k)) {
      recovered.push(attempted);
      // A value both failed and acked (two adds of one value) is acked: the ok wins.
      if (failed.has(k)) failedButRead.push(attempted);
    }
  }

  return {
    valid: lost.length === 0 && unexpected.length === 0,
    lost: sortValues(lost),
    unexpected: sortValues(unexpected),
    recovered: sortValues(recovered),
    failedButRead: sortValues(failedButRead),
    attemptedCount: attempts.size,
    ackedCount: acked.size,
    okCount,
    duplicateCount,
  };
}

/** `[1,2,3,5,7,8]` → `"1-3, 5, 7-8"` (Jepsen's integer-interval-set-str), for reports and logs. */
export function formatValueRanges(values: readonly SetValue[], maxParts = 20): string {
  const nums = [...new Set(values.filter((v): v is number => typeof v === 'number' && Number.isInteger(v)))].sort((a, b) => a - b);
  const others = values.filter((v) => typeof v !== 'number' || !Number.isInteger(v)).map(String);
  const parts: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    parts.push(i === j ? `${nums[i]}` : `${nums[i]}-${nums[j]}`);
    i = j + 1;
  }
  parts.push(...others);
  if (parts.length <= maxParts) return parts.join(', ');
  return `${parts.slice(0, maxParts).join(', ')}, … (${parts.length - maxParts} more ranges)`;
}
