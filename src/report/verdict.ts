/**
 * The run's verdict as every view states it (terminal, report.html, junit.xml). An interrupted run has none: it
 * says it was interrupted and nothing else, since a half-run proves nothing either way.
 */
import type { RunResult } from '../run/result.js';

export const RUN_VERDICTS = {
  pass: { word: 'PASS', sentence: 'every variant met its expectation' },
  fail: { word: 'FAIL', sentence: 'not every variant met its expectation' },
  interrupted: { word: 'INTERRUPTED', sentence: 'the run was interrupted before it could judge every variant' },
} as const;
export type RunVerdict = keyof typeof RUN_VERDICTS;

export function isInterrupted(r: Pick<RunResult, 'interrupted' | 'variants'>): boolean {
  return r.interrupted === true || r.variants.some((v) => v.status === 'interrupted');
}

export function runVerdict(r: Pick<RunResult, 'interrupted' | 'variants' | 'passed'>): RunVerdict {
  if (isInterrupted(r)) return 'interrupted';
  return r.passed ? 'pass' : 'fail';
}
