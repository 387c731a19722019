/**
 * The journal: an append-only record of everything a run did, with times. Workloads, faults and
 * checks only append; reports only read it (Chaos Toolkit's journal, Jepsen's history).
 * Records go to journal.jsonl as they happen, so a crashed run still leaves its story on disk.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type RecordKind =
  | 'run-start' | 'run-end' | 'part-started' | 'variant-start' | 'variant-end' | 'cluster-up' | 'cluster-down'
  | 'phase' | 'fault-apply' | 'fault-applied' | 'fault-heal' | 'fault-healed' | 'fault-error'
  | 'load-change' | 'load-start' | 'load-end' | 'assertion' | 'error' | 'interrupted' | 'node-exit' | 'parts-stopped' | 'checker' | 'checker-error' | 'kept'
  | 'traces' | 'traces-written'
  // run-hardening: an exit no step scheduled (part-watch.ts), a proxy or toxic the lab did not make (proxy-guard.ts).
  | 'node-exited' | 'part-failed' | 'foreign-removed';

export interface JournalRecord {
  kind: RecordKind;
  /** Milliseconds since the run started. */
  t: number;
  /** Wall-clock time, ISO 8601. */
  at: string;
  variant?: string;
  [key: string]: unknown;
}

export class Journal {
  readonly records: JournalRecord[] = [];
  private readonly startedAt = Date.now();
  private readonly linesFile: string | undefined;

  constructor(dir?: string) {
    this.linesFile = dir ? path.join(dir, 'journal.jsonl') : undefined;
  }

  append(kind: RecordKind, fields: Record<string, unknown> = {}): JournalRecord {
    const now = Date.now();
    const rec: JournalRecord = { kind, t: now - this.startedAt, at: new Date(now).toISOString(), ...fields };
    this.records.push(rec);
    if (this.linesFile) appendFileSync(this.linesFile, `${JSON.stringify(rec)}\n`);
    return rec;
  }

  write(file: string, header: Record<string, unknown>): void {
    writeFileSync(file, `${JSON.stringify({ ...header, records: this.records }, null, 2)}\n`);
  }
}
