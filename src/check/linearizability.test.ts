import { describe, expect, it } from 'vitest';
import { mergeHistories, registerHistoryEdn, summarize, type LinearizabilityOp } from './linearizability.js';

const line = (o: object) => JSON.stringify(o);

describe('register histories', () => {
  it('merges the clients\' histories by time and keeps each process\'s order', () => {
    const a = [line({ type: 'invoke', f: 'write', key: 'k', value: 'a-1', process: 0, time: 10 }), line({ type: 'ok', f: 'write', key: 'k', value: 'a-1', process: 0, time: 30 })].join('\n');
    const b = [line({ type: 'invoke', f: 'read', key: 'k', value: null, process: 10_000_000, time: 20 }), line({ type: 'ok', f: 'read', key: 'k', value: 'a-1', process: 10_000_000, time: 30 })].join('\n') + '\n';
    const merged = mergeHistories([a, b]);
    expect(merged.map((o) => [o.time, o.process])).toEqual([
      [10, 0],
      [20, 10_000_000],
      [30, 0],
      [30, 10_000_000],
    ]);
  });

  it('refuses a line that is not a register operation', () => {
    expect(() => mergeHistories([line({ type: 'ok', f: 'add', key: 'k', value: 1, process: 0, time: 1 })])).toThrow(/not a register operation/);
    expect(() => mergeHistories(['{not json'])).toThrow();
  });

  it('writes Jepsen EDN with independent [key value] tuples', () => {
    const edn = registerHistoryEdn([
      { type: 'invoke', f: 'read', key: 'k"1', value: null, process: 3, time: 5 },
      { type: 'ok', f: 'read', key: 'k"1', value: 'v', process: 3, time: 9 },
    ]);
    expect(edn).toBe('{:type :invoke, :f :read, :value ["k\\"1" nil], :process 3, :time 5, :index 0}\n{:type :ok, :f :read, :value ["k\\"1" "v"], :process 3, :time 9, :index 1}\n');
  });

  it('summarizes a verdict with its stale read', () => {
    const s = summarize({
      valid: false,
      checker: 'porcupine v1.3.1',
      ops: 6,
      keys: 1,
      reads: 1,
      writes: 2,
      indeterminate: 0,
      durationMs: 1,
      counterexample: { key: 'k', linearized: [], cannotFollow: [], staleRead: { process: 1, f: 'read', key: 'k', value: 'a', callNs: 5, returnNs: 6 }, expected: 'b' },
    });
    expect(s).toMatchObject({ valid: false, staleRead: { key: 'k', value: 'a', expected: 'b', process: 1 } });
  });

  it('keeps the counterexample for --json and the report: the end of the order, the write the read missed, why', () => {
    const op = (process: number, f: 'read' | 'write', value: string, callMs: number, returnMs: number | null): LinearizabilityOp => ({ process, f, key: 'k3', value, callNs: callMs * 1e6, returnNs: returnMs === null ? null : returnMs * 1e6 });
    // Seven operations held in this order; the last write (app-1-97) returned 812.5 ms before the read was invoked.
    const linearized = [1, 2, 3, 4, 5, 6].map((i) => op(i, 'write', `app-2-${i}`, i * 100, i * 100 + 50));
    linearized.push(op(7, 'write', 'app-1-97', 1000, 1187.5));
    const staleRead = op(10_000_277, 'read', 'app-3-79', 2000, 2003);
    const s = summarize({ valid: false, checker: 'porcupine', ops: 9, keys: 1, reads: 1, writes: 7, indeterminate: 0, durationMs: 1, counterexample: { key: 'k3', linearized, cannotFollow: [staleRead], staleRead, expected: 'app-1-97' } });
    const ce = s.counterexample!;
    expect(ce.key).toBe('k3');
    expect(ce.staleRead).toEqual({ process: 10_000_277, f: 'read', value: 'app-3-79', callMs: 0, returnMs: 3 });
    expect(ce.missedWrite).toEqual({ process: 7, f: 'write', value: 'app-1-97', callMs: -1000, returnMs: -812.5 });
    // At most five operations of the order, oldest first, then the stale read.
    expect(ce.order.map((o) => o.value)).toEqual(['app-2-3', 'app-2-4', 'app-2-5', 'app-2-6', 'app-1-97', 'app-3-79']);
    expect(ce.explanation).toBe('A strong read of k3 (process 10000277) returned "app-3-79", but "app-1-97" had been acknowledged 812.5 ms before the read was invoked (process 7): a stale read.');
    // It survives JSON (result.json, --json): an indeterminate return stays null.
    expect(JSON.parse(JSON.stringify(ce))).toEqual(ce);
  });

  it('explains a counterexample whose missed write overlapped the read by the order, and has none when the history is valid', () => {
    const read: LinearizabilityOp = { process: 3, f: 'read', key: 'k', value: '', callNs: 5e6, returnNs: 6e6 };
    const write: LinearizabilityOp = { process: 1, f: 'write', key: 'k', value: 'a', callNs: 4e6, returnNs: null };
    const s = summarize({ valid: false, checker: 'porcupine', ops: 3, keys: 1, reads: 1, writes: 1, indeterminate: 1, durationMs: 1, counterexample: { key: 'k', linearized: [write], cannotFollow: [read], staleRead: read, expected: 'a' } });
    expect(s.counterexample?.missedWrite?.returnMs).toBeNull();
    expect(s.counterexample?.explanation).toBe('A strong read of k (process 3) returned nothing, but the operations before it leave "a" in the register: a stale read.');
    // A read that had already returned a newer value is the plainer proof, when the missed write's ack is not.
    const seen: LinearizabilityOp = { process: 2, f: 'read', key: 'k', value: 'a', callNs: 4.2e6, returnNs: 4.5e6 };
    const t = summarize({ valid: false, checker: 'porcupine', ops: 4, keys: 1, reads: 2, writes: 1, indeterminate: 1, durationMs: 1, counterexample: { key: 'k', linearized: [write, seen], cannotFollow: [read], staleRead: read, expected: 'a' } });
    expect(t.counterexample?.explanation).toBe('A strong read of k (process 3) returned nothing, but process 2 had already read "a" 0.5 ms before this read was invoked, and no order of the writes explains both: a stale read.');
    expect(summarize({ valid: true, checker: 'porcupine', ops: 3, keys: 1, reads: 1, writes: 1, indeterminate: 0, durationMs: 1 }).counterexample).toBeUndefined();
  });
});
