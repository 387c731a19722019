/**
 * An assertion's condition (`< 0.5`, `>= 0.99`): its comparator type, how its text is read, and the one place a
 * value is tested against it. The judge, the live probe and the report's charts all ask `satisfies`.
 */
import { formatNumber } from '../common/format.js';

export const COMPARATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type Comparator = (typeof COMPARATORS)[number];

export interface Condition {
  comparator: Comparator;
  threshold: number;
}

/** A comparator and a decimal number: the scenario schema's grammar, plus `e+21` as JavaScript prints big numbers. */
const CONDITION_TEXT = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i;

/** `< 0.5` → `{ comparator: '<', threshold: 0.5 }`; null when it is not a condition or the threshold is not finite (`< 1e999`). */
export function parseCondition(text: string): Condition | null {
  const m = CONDITION_TEXT.exec(text);
  if (!m) return null;
  const threshold = Number(m[2]);
  if (!Number.isFinite(threshold)) return null;
  return { comparator: m[1] as Comparator, threshold };
}

/**
 * Does `value` meet the condition? NaN is no value (a ratio of 0/0, a quantile over no requests), so it meets
 * none, not even `!=`. ±Infinity compares as a number: `+Inf < 0.5` is false.
 */
export function satisfies(value: number, c: Condition): boolean {
  if (Number.isNaN(value)) return false;
  switch (c.comparator) {
    case '<':
      return value < c.threshold;
    case '<=':
      return value <= c.threshold;
    case '>':
      return value > c.threshold;
    case '>=':
      return value >= c.threshold;
    case '==':
      return value === c.threshold;
    case '!=':
      return value !== c.threshold;
  }
}

/** `< 0.5`, with the threshold through the lab's number formatter. */
export function formatCondition(c: Condition): string {
  return `${c.comparator} ${formatNumber(c.threshold)}`;
}
