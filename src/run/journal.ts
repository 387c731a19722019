/**
 * The journal: an append-only record of everything a run did, with times. It is the first subscriber of the run's
 * event stream (events.ts) and records every journaled event as it is; reports only read it (Chaos Toolkit's
 * journal, Jepsen's history). Records go to journal.jsonl as they happen, so a crashed run still leaves its story
 * on disk.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isJournaled, type JournalEvent, type RunSubscriber } from './events.js';

/** When an event happened: added by the journal. */
// A type, not an interface: records must be assignable to `StoredJournalRecord` (implicit index signature).
export type RecordTimes = {
  /** Milliseconds since the run started. */
  t: number;
  /** Wall-clock time, ISO 8601. */
  at: string;
};

/** One journal record: a journaled run event with its times. */
export type JournalRecord = JournalEvent & RecordTimes;
export type RecordKind = JournalRecord['kind'];

/**
 * A record as read back from a run folder: older runs (or newer ones) may hold kinds and fields this version does
 * not know, so readers check each field they use.
 */
export type StoredJournalRecord = { kind: string; t: number; at: string; variant?: string; [key: string]: unknown };

export class Journal {
  readonly records: JournalRecord[] = [];
  private readonly startedAt: number;
  private readonly linesFile: string | undefined;

  constructor(dir?: string, opts: { now?: () => number } = {}) {
    this.linesFile = dir ? path.join(dir, 'journal.jsonl') : undefined;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  private readonly now: () => number;

  append(event: JournalEvent): JournalRecord {
    const now = this.now();
    // Times first, as on disk since the first version: `{kind, t, at, …fields}`.
    const { kind, ...fields } = event;
    const rec = { kind, t: now - this.startedAt, at: new Date(now).toISOString(), ...fields } as JournalRecord;
    this.records.push(rec);
    if (this.linesFile) appendFileSync(this.linesFile, `${JSON.stringify(rec)}\n`);
    return rec;
  }

  write(file: string, header: Record<string, unknown>): void {
    writeFileSync(file, `${JSON.stringify({ ...header, records: this.records }, null, 2)}\n`);
  }
}

/** The journal as a run subscriber: every journaled event, as it happens. */
export function journalSubscriber(journal: Journal): RunSubscriber {
  return {
    name: 'journal',
    onEvent(e) {
      if (isJournaled(e)) journal.append(e);
    },
  };
}
