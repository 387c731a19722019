import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunEvents, isJournaled, type RunEvent, type RunSubscriber } from './events.js';
import { Journal, journalSubscriber } from './journal.js';
import { reporterSubscriber } from './reporter.js';

const phase = (p: 'setup' | 'steady'): RunEvent => ({ kind: 'phase', variant: 'baseline', phase: p });

/** Timers the test fires by hand (no real waiting). */
function manualTimers() {
  const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  return {
    setTimer: (ms: number, fire: () => void) => {
      const t = { ms, fire, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    fireAll: () => {
      for (const t of timers) if (!t.cancelled) t.fire();
    },
    live: () => timers.filter((t) => !t.cancelled).length,
  };
}

describe('RunEvents', () => {
  it('fans each event out to the subscribers in their order, per-kind handler before onEvent', () => {
    const seen: string[] = [];
    const a: RunSubscriber = { name: 'a', phase: (e) => void seen.push(`a.phase ${e.phase}`), onEvent: (e) => void seen.push(`a.any ${e.kind}`) };
    const b: RunSubscriber = { name: 'b', onEvent: (e) => void seen.push(`b.any ${e.kind}`) };
    const c: RunSubscriber = { name: 'c', message: (e) => void seen.push(`c.message ${e.line}`) };
    const events = new RunEvents([a, b, c]);
    events.emit(phase('setup'));
    events.emit({ kind: 'message', line: 'hi' });
    expect(seen).toEqual(['a.phase setup', 'a.any phase', 'b.any phase', 'a.any message', 'b.any message', 'c.message hi']);
  });

  it('a subscriber that throws is recorded in the journal; the others and later events still arrive', () => {
    const journal = new Journal();
    const seen: string[] = [];
    const events = new RunEvents([
      journalSubscriber(journal),
      { name: 'broken', phase: () => { throw new Error('disk full'); } },
      { name: 'after', onEvent: (e) => void seen.push(e.kind) },
    ]);
    expect(() => events.emit(phase('setup'))).not.toThrow();
    events.emit(phase('steady'));
    expect(seen).toEqual(['phase', 'subscriber-error', 'phase', 'subscriber-error']);
    const errors = journal.records.filter((r) => r.kind === 'subscriber-error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ kind: 'subscriber-error', subscriber: 'broken', event: 'phase', error: 'disk full' });
    expect(journal.records.map((r) => r.kind)).toEqual(['phase', 'subscriber-error', 'phase', 'subscriber-error']);
  });

  it('a rejecting subscriber is recorded; a hanging one neither blocks emit nor flush past its timeout, and is recorded as timed out', async () => {
    const timers = manualTimers();
    const journal = new Journal();
    let resolveSlow!: () => void;
    const events = new RunEvents(
      [
        journalSubscriber(journal),
        { name: 'rejects', 'run-end': async () => { throw new Error('no space'); } },
        { name: 'hangs', 'run-end': () => new Promise<void>(() => {}) },
        { name: 'slow', 'run-end': () => new Promise<void>((r) => (resolveSlow = r)) },
      ],
      { timeoutMs: 5000, setTimer: timers.setTimer },
    );
    events.emit({ kind: 'run-end', passed: true }); // returns at once: nothing awaited here
    expect(journal.records.map((r) => r.kind)).toEqual(['run-end']);
    let flushed = false;
    const flushing = events.flush().then(() => (flushed = true));
    await Promise.resolve();
    await Promise.resolve();
    resolveSlow();
    await new Promise((r) => setImmediate(r));
    // The rejection is recorded; the hanging one is still pending until its timer fires.
    expect(journal.records.filter((r) => r.kind === 'subscriber-error')).toEqual([expect.objectContaining({ subscriber: 'rejects', event: 'run-end', error: 'no space' })]);
    expect(flushed).toBe(false);
    expect(timers.live()).toBe(1);
    timers.fireAll();
    await flushing;
    expect(journal.records.filter((r) => r.kind === 'subscriber-error').map((r) => r.kind === 'subscriber-error' && [r.subscriber, r.timedOut ?? false])).toEqual([
      ['rejects', false],
      ['hangs', true],
    ]);
  });

  it('a subscriber failing on a subscriber-error is not reported again (no loops)', () => {
    const journal = new Journal();
    const events = new RunEvents([
      journalSubscriber(journal),
      { name: 'first', phase: () => { throw new Error('x'); } },
      { name: 'second', onEvent: () => { throw new Error('y'); } },
    ]);
    events.emit(phase('setup'));
    // first fails on phase, second fails on phase (both recorded); second failing on first's error report is not.
    expect(journal.records.map((r) => (r.kind === 'subscriber-error' ? `${r.subscriber}:${r.event}` : r.kind))).toEqual(['phase', 'first:phase', 'second:phase']);
  });

  it('live events reach the reporter but not the journal', () => {
    const journal = new Journal();
    const lines: string[] = [];
    const events = new RunEvents([journalSubscriber(journal), reporterSubscriber({ onMessage: (l) => void lines.push(l), onPhase: (v, p) => void lines.push(`${v} ${p}`) })]);
    events.emit({ kind: 'message', line: 'starting' });
    events.emit({ kind: 'progress', progress: null });
    events.emit(phase('steady'));
    expect(lines).toEqual(['starting', 'baseline steady']);
    expect(journal.records.map((r) => r.kind)).toEqual(['phase']);
    expect(isJournaled({ kind: 'tick', stats: {} as never })).toBe(false);
    expect(isJournaled({ kind: 'interrupted' })).toBe(true);
  });

  it('drives the Reporter hooks as the runner used to call them', () => {
    const calls: unknown[] = [];
    const events = new RunEvents([
      reporterSubscriber({
        onRunStart: (i) => void calls.push(['start', i.scenario, i.title, i.runDir]),
        onFault: (f) => void calls.push(['fault', f.action, f.description, f.skewMs, f.error]),
      }),
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-events-'));
    events.emit({ kind: 'run-start', scenario: 'hello', title: 'Hello', seed: 1, control: false, variants: ['baseline'], command: 'x', runDir: dir });
    events.emit({ kind: 'fault-applied', variant: 'baseline', step: 'slow', scheduledMs: 1000, actualMs: 1002.5, skewMs: 2.5, description: 'latency 800ms', faultType: 'latency', targets: ['a'] });
    events.emit({ kind: 'fault-healed', variant: 'baseline', step: 'slow', scheduledMs: 2000, actualMs: 2001, skewMs: 1, description: 'latency 800ms', faultType: 'latency', targets: ['a'] });
    // The teardown's final heal is not a timeline event: the terminal does not show it.
    events.emit({ kind: 'fault-healed', variant: 'baseline', step: 'slow', final: true, description: 'latency 800ms', faultType: 'latency', targets: ['a'] });
    events.emit({ kind: 'fault-error', variant: 'baseline', step: 'kill', action: 'apply', error: { code: 'X', message: 'boom' }, description: 'kill a', skewMs: 0 });
    expect(calls).toEqual([
      ['start', 'hello', 'Hello', dir],
      ['fault', 'apply', 'latency 800ms', 2.5, undefined],
      ['fault', 'heal', 'latency 800ms', 1, undefined],
      ['fault', 'apply', 'kill a', 0, 'boom'],
    ]);
  });
});
