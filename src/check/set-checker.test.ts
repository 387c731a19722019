import { describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../workload/history.js';
import { checkSet, formatValueRanges, type SetHistoryOp } from './set-checker.js';

/** Hand-written histories: `['ok', 1]` is an invoke of add 1 followed by its completion. */
function history(...adds: ['ok' | 'fail' | 'info' | 'open', number | string][]): SetHistoryOp[] {
  const ops: SetHistoryOp[] = [];
  let index = 0;
  adds.forEach(([type, value], process) => {
    ops.push({ type: 'invoke', f: 'add', value, process, time: index * 10, index: index++ });
    if (type !== 'open') ops.push({ type, f: 'add', value, process, time: index * 10, index: index++ });
  });
  return ops;
}

describe('checkSet', () => {
  it('accepts a history where every acknowledged add is read', () => {
    const r = checkSet(history(['ok', 1], ['ok', 2], ['ok', 3]), [1, 2, 3]);
    expect(r).toMatchObject({ valid: true, lost: [], unexpected: [], recovered: [], attemptedCount: 3, ackedCount: 3, okCount: 3 });
  });

  it('fails when an acknowledged add is missing from the final read (lost write)', () => {
    const r = checkSet(history(['ok', 1], ['ok', 2], ['ok', 3], ['ok', 4]), [1, 4]);
    expect(r.valid).toBe(false);
    expect(r.lost).toEqual([2, 3]);
    expect(r.ackedCount).toBe(4);
  });

  it('fails on a value nobody attempted (unexpected)', () => {
    const r = checkSet(history(['ok', 1]), [1, 99]);
    expect(r.valid).toBe(false);
    expect(r.unexpected).toEqual([99]);
    expect(r.lost).toEqual([]);
  });

  it('does not count an indeterminate add as lost, and counts it as recovered when it shows up', () => {
    const r = checkSet(history(['ok', 1], ['info', 2], ['info', 3], ['open', 4]), [1, 3, 4]);
    expect(r.valid).toBe(true);
    expect(r.lost).toEqual([]);
    expect(r.recovered).toEqual([3, 4]);
    expect(r.attemptedCount).toBe(4);
    expect(r.ackedCount).toBe(1);
  });

  it('lists a failed add that shows up apart, without failing the check (Jepsen semantics)', () => {
    const r = checkSet(history(['ok', 1], ['fail', 2], ['fail', 3]), [1, 2]);
    expect(r.valid).toBe(true);
    expect(r.recovered).toEqual([2]);
    expect(r.failedButRead).toEqual([2]);
  });

  it('treats 12 and "12" as the same element, but "x12" as another', () => {
    const r = checkSet(history(['ok', 12], ['ok', 'x12']), ['12', 'x12']);
    expect(r.valid).toBe(true);
    const r2 = checkSet(history(['ok', 12]), ['x12']);
    expect(r2.lost).toEqual([12]);
    expect(r2.unexpected).toEqual(['x12']);
  });

  it('counts duplicates in the final read without judging them', () => {
    const r = checkSet(history(['ok', 1], ['ok', 2]), [1, 2, 2, 1, 2]);
    expect(r.valid).toBe(true);
    expect(r.duplicateCount).toBe(3);
    expect(r.okCount).toBe(2);
  });

  it('only counts the named operation as adds when f is given', () => {
    const ops: SetHistoryOp[] = [
      ...history(['ok', 1], ['ok', 2]),
      { type: 'invoke', f: 'read', value: 7, process: 9, time: 100, index: 100 },
      { type: 'ok', f: 'read', value: 7, process: 9, time: 110, index: 101 },
    ];
    expect(checkSet(ops, [1, 2], { f: 'add' }).valid).toBe(true);
    // Without the filter the read's value 7 is an acknowledged "add" that was never read.
    expect(checkSet(ops, [1, 2]).lost).toEqual([7]);
  });

  it('ignores operations without a value', () => {
    const ops: SetHistoryOp[] = [{ type: 'invoke', f: 'ping', value: null, process: 0, time: 0, index: 0 }, { type: 'ok', f: 'ping', value: null, process: 0, time: 1, index: 1 }];
    expect(checkSet(ops, [])).toMatchObject({ valid: true, attemptedCount: 0, ackedCount: 0 });
  });

  it('an empty final read loses every acknowledged add', () => {
    const r = checkSet(history(['ok', 5], ['ok', 6], ['info', 7]), []);
    expect(r.valid).toBe(false);
    expect(r.lost).toEqual([5, 6]);
  });

  it('reads histories recorded by the lab recorder', () => {
    const rec = new HistoryRecorder();
    const a = rec.invoke('produce', 0);
    const b = rec.invoke('produce', 1);
    const c = rec.invoke('produce', 2);
    rec.complete(a, 'ok');
    rec.complete(b, 'info', { error: 'timeout' });
    rec.complete(c, 'fail', { error: 'status 503' });
    const r = checkSet(rec.ops, [1], { f: 'produce' });
    expect(r).toMatchObject({ valid: false, lost: [0], recovered: [1], attemptedCount: 3, ackedCount: 1 });
  });
});

describe('formatValueRanges', () => {
  it('collapses runs like Jepsen', () => {
    expect(formatValueRanges([8, 1, 2, 3, 5, 7])).toBe('1-3, 5, 7-8');
    expect(formatValueRanges([])).toBe('');
    expect(formatValueRanges([1, 3, 5, 7], 2)).toBe('1, 3, … (2 more ranges)');
  });
});
