import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from './events.js';
import { Journal, type JournalRecord, type StoredJournalRecord } from './journal.js';

const events: JournalEvent[] = [
  { kind: 'run-start', scenario: 'hello-latency', title: 'Hello', seed: 7, control: false, variants: ['baseline'], command: 'npx chaoslab run x', runDir: '/r' },
  { kind: 'environment', chaoslab: '0.1.0', node: 'v20.0.0', toxiproxy: '2.12.0', prometheus: '2.45.0', platform: 'linux', cpus: 2 },
  { kind: 'variant-start', variant: 'baseline', expect: 'reproduce', mitigations: [], params: { frontend: { timeoutMs: 100 } }, control: false },
  { kind: 'host-load', variant: 'baseline', when: 'start', loadavg: [0.5, 0.25, 0.1] },
  { kind: 'fault-apply', variant: 'baseline', step: 'slow', fault: { type: 'latency', links: ['a_to_b'], latencyMs: 800, jitterMs: 0, stream: 'downstream', toxicity: 1 }, description: 'latency 800ms on a_to_b', scheduledMs: 5000 },
  { kind: 'fault-applied', variant: 'baseline', step: 'slow', scheduledMs: 5000, actualMs: 5001.2, skewMs: 1.2, description: 'latency 800ms on a_to_b', faultType: 'latency', targets: ['a_to_b'] },
  { kind: 'node-exited', variant: 'baseline', node: 'b-0', code: null, signal: 'SIGKILL', atMs: 6000, mayDie: false },
  { kind: 'part-failed', variant: 'baseline', part: 'Prometheus', atMs: 6100, code: 1, signal: null },
  { kind: 'variant-end', variant: 'baseline', passed: true, status: 'completed' },
  { kind: 'run-end', passed: true },
];

describe('Journal', () => {
  it('records typed events as {kind, t, at, …fields}, the on-disk order of earlier versions', () => {
    let now = 1_700_000_000_000;
    const j = new Journal(undefined, { now: () => now });
    now += 250;
    const rec = j.append({ kind: 'phase', variant: 'baseline', phase: 'steady' });
    expect(rec).toEqual({ kind: 'phase', t: 250, at: new Date(1_700_000_000_250).toISOString(), variant: 'baseline', phase: 'steady' });
    expect(Object.keys(rec)).toEqual(['kind', 't', 'at', 'variant', 'phase']);
  });

  it('round-trips through journal.jsonl and journal.json: what a report reads back is what was recorded', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-journal-'));
    const j = new Journal(dir);
    for (const e of events) j.append(e);
    j.write(path.join(dir, 'journal.json'), { scenario: 'hello-latency', seed: 7 });

    const lines = readFileSync(path.join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalRecord);
    const whole = JSON.parse(readFileSync(path.join(dir, 'journal.json'), 'utf8')) as { seed: number; records: JournalRecord[] };
    expect(lines).toEqual(j.records);
    expect(whole.seed).toBe(7);
    expect(whole.records).toEqual(j.records);
    // Each record is its event plus the times.
    expect(whole.records.map(({ t: _t, at: _at, ...e }) => e)).toEqual(events);
    // Typed on the way back: narrowing by kind gives the fields.
    const applied = whole.records.find((r): r is Extract<JournalRecord, { kind: 'fault-applied' }> => r.kind === 'fault-applied');
    expect(applied?.targets).toEqual(['a_to_b']);
  });

  it('records are what readers of old run folders take (a loose, checked-per-field shape)', () => {
    const j = new Journal();
    j.append({ kind: 'load-change', variant: 'baseline', step: 'surge', action: 'apply', rate: 200, scheduledMs: 1000, actualMs: 1001 });
    const stored: readonly StoredJournalRecord[] = j.records;
    expect(stored[0]!['rate']).toBe(200);
    expect(stored[0]!.variant).toBe('baseline');
  });
});
