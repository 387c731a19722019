import { describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../workload/history.js';
import { checkSet, type SetValue } from './set-checker.js';
import { setWorkloadEdn } from './set-history.js';

type EdnScalar = number | string | null | { keyword: string };
type EdnValue = EdnScalar | EdnScalar[];

/** Reads one history line: a flat EDN map of keywords to numbers, strings, keywords, nil or a vector of those. */
function parseLine(line: string): Map<string, EdnValue> {
  expect(line, 'one map a line').toMatch(/^\{.*\}$/);
  const scalar = String.raw`-?\d+|"(?:[^"\\]|\\.)*"|:[A-Za-z*+!_?<>=.-][\w*+!_?<>=.$%&#:'/-]*|nil`;
  const entry = new RegExp(String.raw`:([a-z-]+) (${scalar}|\[(?:(?:${scalar})(?: (?:${scalar}))*)?\])(, |\}$)`, 'y');
  const read = (s: string): EdnScalar => (s === 'nil' ? null : s.startsWith('"') ? (JSON.parse(s) as string) : s.startsWith(':') ? { keyword: s.slice(1) } : Number(s));
  const out = new Map<string, EdnValue>();
  entry.lastIndex = 1;
  while (entry.lastIndex < line.length) {
    const m = entry.exec(line);
    expect(m, `a key and a value at ${entry.lastIndex} in ${line}`).not.toBeNull();
    const raw = m![2]!;
    out.set(m![1]!, raw.startsWith('[') ? (raw.slice(1, -1).match(new RegExp(scalar, 'g')) ?? []).map(read) : read(raw));
  }
  return out;
}

const kw = (v: EdnValue | undefined): string | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v.keyword : undefined);

describe("history.edn in Jepsen's set-workload form", () => {
  // A clock that moves 1.5 ms per reading, so :time must come out in nanoseconds (1_500_000 apart).
  let t = 0n;
  const rec = new HistoryRecorder(() => (t += 1_500_000n));
  const a = rec.invoke('produce', 1);
  const b = rec.invoke('produce', 2);
  const c = rec.invoke('produce', 3);
  const other = rec.invoke('status', null);
  rec.complete(a, 'ok');
  rec.complete(b, 'fail', { error: 'status 503' });
  rec.complete(c, 'info', { error: 'timeout' });
  rec.complete(other, 'ok');
  const d = rec.invoke('produce', 4);
  rec.complete(d, 'ok');
  const invokeNs = rec.elapsedNs();
  const read: SetValue[] = [1, 3];
  const edn = setWorkloadEdn(rec.ops, ['produce'], { invokeNs, completeNs: rec.elapsedNs(), values: read });
  const lines = edn.trimEnd().split('\n');
  const ops = lines.map(parseLine);

  it('writes one map a line, each with :index, :time, :process, :type, :f and :value', () => {
    expect(edn.endsWith('\n')).toBe(true);
    expect(lines).toHaveLength(8 + 2); // four adds (invoke + completion), the final read; the `status` op is not part of the set
    for (const op of ops) {
      for (const k of ['index', 'time', 'process', 'type', 'f', 'value']) expect(op.has(k), `${k} in ${[...op.keys()].join(',')}`).toBe(true);
      expect(Number.isSafeInteger(op.get('process'))).toBe(true);
      expect(['invoke', 'ok', 'fail', 'info']).toContain(kw(op.get('type')));
    }
  });

  it(':index counts from 0 without gaps and :time is in nanoseconds, never going back', () => {
    expect(ops.map((o) => o.get('index'))).toEqual(ops.map((_, i) => i));
    const times = ops.map((o) => o.get('time') as number);
    for (const x of times) expect(Number.isSafeInteger(x)).toBe(true);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    // The recorder read the clock once at start; the first invoke is one 1.5 ms step later.
    expect(times[0]).toBe(1_500_000);
    expect(times[1]! - times[0]!).toBe(1_500_000);
  });

  it('adds are :add with their value; the history ends with a :read invoke and its :ok holding the values read', () => {
    const adds = ops.filter((o) => kw(o.get('f')) === 'add');
    expect(adds).toHaveLength(8);
    expect(adds.map((o) => o.get('value'))).toEqual([1, 2, 3, 1, 2, 3, 4, 4]);
    const [invoke, done] = ops.slice(-2);
    expect([kw(invoke!.get('f')), kw(invoke!.get('type')), invoke!.get('value')]).toEqual(['read', 'invoke', null]);
    expect([kw(done!.get('f')), kw(done!.get('type')), done!.get('value')]).toEqual(['read', 'ok', [1, 3]]);
    // The read runs on a process of its own, after every add.
    expect(invoke!.get('process')).toBe(done!.get('process'));
    expect(adds.map((o) => o.get('process'))).not.toContain(invoke!.get('process'));
  });

  it('each process alternates invoke and completion', () => {
    const open = new Map<number, boolean>();
    for (const o of ops) {
      const p = o.get('process') as number;
      const invoking = kw(o.get('type')) === 'invoke';
      expect(open.get(p) ?? false, `process ${p}`).toBe(!invoking);
      open.set(p, invoking);
    }
    expect([...open.values()].filter(Boolean)).toEqual([]);
  });

  it('lost writes recomputed from the EDN alone match the checker: 4 was acknowledged and not read', () => {
    const ackedAdds = ops.filter((o) => kw(o.get('f')) === 'add' && kw(o.get('type')) === 'ok').map((o) => o.get('value'));
    const finalRead = ops.at(-1)!.get('value') as number[];
    expect(ackedAdds.filter((v) => !finalRead.includes(v as number))).toEqual([4]);
    expect(checkSet(rec.ops, read, { f: 'produce' }).lost).toEqual([4]);
  });

  it('a failed final read completes :info with the error', () => {
    const failed = setWorkloadEdn(rec.ops, ['produce'], { invokeNs, completeNs: invokeNs + 5, values: undefined, error: 'HTTP 503' }).trimEnd().split('\n');
    const last = parseLine(failed.at(-1)!);
    expect([kw(last.get('type')), kw(last.get('f')), last.get('value'), last.get('error')]).toEqual(['info', 'read', null, 'HTTP 503']);
  });
});
