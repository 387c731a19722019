import { describe, expect, it } from 'vitest';
import { mergeHistories, registerHistoryEdn, summarize } from './linearizability.js';

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
});
