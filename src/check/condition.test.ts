import { describe, expect, it } from 'vitest';
import { COMPARATORS, formatCondition, parseCondition, satisfies, type Condition } from './condition.js';

const c = (comparator: Condition['comparator'], threshold: number): Condition => ({ comparator, threshold });

describe('parseCondition', () => {
  it('reads a comparator and a decimal threshold', () => {
    expect(parseCondition('< 0.5')).toEqual(c('<', 0.5));
    expect(parseCondition('>= -2')).toEqual(c('>=', -2));
    expect(parseCondition('  !=3  ')).toEqual(c('!=', 3));
    expect(parseCondition('<= 1e-3')).toEqual(c('<=', 0.001));
    // As JavaScript prints big thresholds back into a result's condition text.
    expect(parseCondition('< 1e+21')).toEqual(c('<', 1e21));
  });

  it('refuses what is not a condition, and thresholds that are not finite', () => {
    for (const text of ['about 3', '< ', '< abc', '=< 1', '< 0x10', '< NaN', '< Infinity', '< 1e999', '< -1e999', '', '<< 1']) {
      expect(parseCondition(text), text).toBeNull();
    }
  });

  it('knows every comparator', () => {
    for (const k of COMPARATORS) expect(parseCondition(`${k} 1`)?.comparator).toBe(k);
  });
});

describe('satisfies', () => {
  it('compares as the comparator says', () => {
    expect(satisfies(0.4, c('<', 0.5))).toBe(true);
    expect(satisfies(0.5, c('<', 0.5))).toBe(false);
    expect(satisfies(0.5, c('<=', 0.5))).toBe(true);
    expect(satisfies(0.6, c('>', 0.5))).toBe(true);
    expect(satisfies(0.5, c('>=', 0.5))).toBe(true);
    expect(satisfies(0, c('==', 0))).toBe(true);
    expect(satisfies(-0, c('==', 0))).toBe(true);
    expect(satisfies(1, c('!=', 0))).toBe(true);
    expect(satisfies(0, c('!=', 0))).toBe(false);
  });

  it('NaN is no value: it meets no condition, not even !=', () => {
    for (const k of COMPARATORS) expect(satisfies(NaN, c(k, 0)), k).toBe(false);
  });

  it('compares ±Infinity as numbers', () => {
    expect(satisfies(Infinity, c('<', 0.5))).toBe(false);
    expect(satisfies(Infinity, c('>', 1e300))).toBe(true);
    expect(satisfies(-Infinity, c('<', -1e300))).toBe(true);
    expect(satisfies(Infinity, c('==', Infinity))).toBe(true);
    // 1e999 in a sample is Infinity too.
    expect(satisfies(1e999, c('>=', Number.MAX_VALUE))).toBe(true);
  });
});

describe('formatCondition', () => {
  it('writes the threshold through the lab formatter', () => {
    expect(formatCondition(c('<', 0.5))).toBe('< 0.5');
    expect(formatCondition(c('>=', 0.123456))).toBe('>= 0.123');
  });
});
