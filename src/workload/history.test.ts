import { describe, expect, it } from 'vitest';
import { HistoryRecorder, toEdnLine } from './history.js';

function fakeClock(): () => bigint {
  let t = 1_000n;
  return () => (t += 100n);
}

describe('HistoryRecorder', () => {
  it('reuses a process after ok/fail and retires it after info', () => {
    const h = new HistoryRecorder(fakeClock());
    const a = h.invoke('add', 1);
    const b = h.invoke('add', 2);
    expect([a.process, b.process]).toEqual([0, 1]);
    h.complete(a, 'ok');
    h.complete(b, 'info', { error: 'timeout' });
    // 0 is free again; 1 is retired forever, so the next fresh id is 2.
    const c = h.invoke('add', 3);
    const d = h.invoke('add', 4);
    expect([c.process, d.process]).toEqual([0, 2]);
    h.complete(c, 'fail', { error: 'status 503' });
    h.complete(d, 'ok');
    expect(h.retiredProcesses).toBe(1);
    const used = h.ops.filter((o) => o.type === 'invoke').map((o) => o.process);
    expect(used).toEqual([0, 1, 0, 2]);
    // A retired process never appears again after its info.
    const infoIndex = h.ops.findIndex((o) => o.type === 'info');
    expect(h.ops.slice(infoIndex + 1).some((o) => o.process === 1)).toBe(false);
  });

  it('ignores a second completion of the same invocation', () => {
    const h = new HistoryRecorder(fakeClock());
    const a = h.invoke('add', 1);
    h.complete(a, 'info', { error: 'timeout' });
    h.complete(a, 'ok');
    expect(h.ops.map((o) => o.type)).toEqual(['invoke', 'info']);
  });

  it('keeps indexes dense and times in ns since start', () => {
    const h = new HistoryRecorder(fakeClock());
    const a = h.invoke('read', null);
    h.complete(a, 'ok', { value: 'x' });
    expect(h.ops.map((o) => o.index)).toEqual([0, 1]);
    expect(h.ops.map((o) => o.time)).toEqual([100, 200]);
    expect(h.ops[1]!.value).toBe('x');
  });

  it('writes Jepsen EDN, one map per line', () => {
    const h = new HistoryRecorder(fakeClock());
    const a = h.invoke('send', 12);
    h.complete(a, 'info', { error: 'say "hi"\n' });
    const b = h.invoke('read all', null);
    h.complete(b, 'fail');
    expect(h.toEdn()).toBe(
      [
        '{:type :invoke, :f :send, :value 12, :process 0, :time 100, :index 0}',
        '{:type :info, :f :send, :value 12, :process 0, :time 200, :index 1, :error "say \\"hi\\"\\n"}',
        '{:type :invoke, :f "read all", :value nil, :process 1, :time 300, :index 2}',
        '{:type :fail, :f "read all", :value nil, :process 1, :time 400, :index 3}',
      ].join('\n') + '\n',
    );
    expect(toEdnLine({ index: 0, type: 'ok', f: 'put', value: 'k1', process: 3, time: 5 })).toBe(
      '{:type :ok, :f :put, :value "k1", :process 3, :time 5, :index 0}',
    );
  });

  it('writes JSON lines that parse back', () => {
    const h = new HistoryRecorder(fakeClock());
    h.complete(h.invoke('add', 5), 'ok');
    const lines = h.toJsonLines().trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { index: 0, type: 'invoke', f: 'add', value: 5, process: 0, time: 100 },
      { index: 1, type: 'ok', f: 'add', value: 5, process: 0, time: 200 },
    ]);
    expect(new HistoryRecorder().toEdn()).toBe('');
  });
});
