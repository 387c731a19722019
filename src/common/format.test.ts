import { describe, expect, it } from 'vitest';
import { formatFixed, formatNumber, formatPercent, formatSeconds } from './format.js';

describe('formatNumber', () => {
  it.each([
    [0.84321, '0.843'],
    [12.345, '12.3'],
    [1234.56, '1235'],
    [3, '3'],
    [0, '0'],
    [-0.5, '-0.5'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [1e-7, '1e-7'],
    [0.000123456, '0.000123'],
    [1e21, '1e+21'],
  ])('%s → %s (the judge\'s sentences)', (x, s) => expect(formatNumber(x)).toBe(s));

  it('says — for no value', () => {
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(null, { unit: 'seconds' })).toBe('—');
  });

  it('shows seconds as ms below one second and as s above', () => {
    expect(formatNumber(0.25, { unit: 'seconds' })).toBe('250 ms');
    expect(formatNumber(0.2504, { unit: 'seconds' })).toBe('250 ms');
    expect(formatNumber(0.0123, { unit: 'seconds' })).toBe('12.3 ms');
    expect(formatNumber(2.5, { unit: 'seconds' })).toBe('2.5 s');
    expect(formatNumber(0, { unit: 'seconds' })).toBe('0');
    expect(formatNumber(-Infinity, { unit: 'seconds' })).toBe('-Inf');
  });

  it('shortens big numbers only when asked (chart axes)', () => {
    expect(formatNumber(15300, { compact: true })).toBe('15.3k');
    expect(formatNumber(2_500_000, { compact: true })).toBe('2.5M');
    expect(formatNumber(9999, { compact: true })).toBe('9999');
    expect(formatNumber(15300)).toBe('15300');
  });

  it('keeps more digits when asked', () => {
    expect(formatNumber(99.875, { digits: 4 })).toBe('99.88');
    expect(formatNumber(122.5, { digits: 4 })).toBe('122.5');
  });
});

describe('fixed-width helpers', () => {
  it('keeps the decimals of a column', () => {
    expect(formatFixed(1.25, 1)).toBe('1.3');
    expect(formatFixed(3, 1)).toBe('3.0');
    expect(formatFixed(null, 1)).toBe('—');
    expect(formatFixed(Infinity, 1)).toBe('+Inf');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(0.0123)).toBe('1.2%');
    expect(formatPercent(NaN)).toBe('NaN%');
  });

  it('writes timeline seconds short, and minutes past two', () => {
    expect(formatSeconds(12.0042)).toBe('12s');
    expect(formatSeconds(0.5)).toBe('0.5s');
    expect(formatSeconds(119)).toBe('119s');
    expect(formatSeconds(185)).toBe('3m05s');
  });
});
