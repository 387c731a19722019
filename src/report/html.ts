/**
 * report.html: one self-contained page per run (inline CSS, SVG and a little JS; nothing loaded
 * from the network, so it opens from disk and can be mailed or archived with the run folder).
 * It is a pure function of result.json and the journal, so `chaoslab report <runDir>` rebuilds the
 * same bytes the run wrote. The parts live in html/: model (what the page shows), charts (SVG),
 * page (the HTML), format (escaping and numbers), page-script (the hover read-out and copy button).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StoredJournalRecord as JournalRecord } from '../run/journal.js';
import type { RunResult } from '../run/result.js';
import { renderHtmlReport } from './html/page.js';

export { renderHtmlReport } from './html/page.js';

export const REPORT_FILE = 'report.html';

/** Writes `<runDir>/report.html` and returns its path. */
export function writeHtmlReport(runDir: string, result: RunResult, journalRecords: readonly JournalRecord[]): string {
  const file = path.join(runDir, REPORT_FILE);
  // Rendered from what result.json and journal.json hold (JSON turns NaN and ±Infinity into null),
  // so `chaoslab report` rebuilds exactly these bytes from the run folder.
  const stored = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  writeFileSync(file, renderHtmlReport(stored(result), stored(journalRecords)));
  return file;
}
