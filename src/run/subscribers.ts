/**
 * The run's injected subscribers, by name (vitest's reporters map): the report files. The CLI passes them to
 * `runScenario`; the runner itself never imports src/report.
 */
import path from 'node:path';
import { writeHtmlReport } from '../report/html.js';
import { writeJunit } from '../report/junit.js';
import type { SubscriberFactory } from './events.js';

export const REPORT_WRITERS = {
  junit: ({ runDir }) => ({
    name: 'junit',
    'run-result': (e) => writeJunit(path.join(runDir, 'junit.xml'), e.result),
  }),
  html: ({ runDir, records }) => ({
    name: 'html',
    'run-result': (e) => {
      writeHtmlReport(runDir, e.result, records());
    },
  }),
} as const satisfies Record<string, SubscriberFactory>;

export type ReportWriter = keyof typeof REPORT_WRITERS;

/** junit.xml and report.html, in that order. */
export const reportWriters: SubscriberFactory[] = Object.values(REPORT_WRITERS);
