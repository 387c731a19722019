/**
 * The lab's one number formatter. Every number a person reads (the judge's reasons, the terminal, report.html
 * and its hover read-out, junit.xml) goes through `formatNumber`, so a value reads the same everywhere: three
 * significant digits, whole numbers (and anything from 1000 up) as integers, `—` for no value, `+Inf`/`-Inf`.
 */

/** How a number is shown: `seconds` picks ms or s; `compact` shortens 15300 to 15.3k (chart axes). */
export interface NumberFormat {
  unit?: 'plain' | 'seconds';
  compact?: boolean;
  /** Significant digits of a fraction (default 3). */
  digits?: number;
}

/** The latency quantile of a `_seconds` histogram is in seconds; anything else is a plain number. */
export type Unit = NonNullable<NumberFormat['unit']>;

export function formatNumber(v: number | null, f: NumberFormat = {}): string {
  if (v === null) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const digits = f.digits ?? 3;
  if (f.unit === 'seconds') {
    if (v === 0) return '0';
    return Math.abs(v) < 1 ? `${plain(v * 1000, digits)} ms` : `${plain(v, digits)} s`;
  }
  if (f.compact) {
    const a = Math.abs(v);
    if (a >= 1e6) return `${plain(v / 1e6, 3)}M`;
    if (a >= 1e4) return `${plain(v / 1e3, 3)}k`;
  }
  return plain(v, digits);
}

function plain(v: number, digits: number): string {
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return String(Math.round(v));
  // Number() drops the trailing zeros toPrecision keeps (0.500 → 0.5).
  return String(Number(v.toPrecision(digits)));
}

/** Fixed decimals, for columns that should not jitter while a value moves (`err 0.0%`, `skew 1.3ms`). */
export function formatFixed(v: number | null, decimals: number): string {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return formatNumber(v);
  return v.toFixed(decimals);
}

/** A ratio as a percentage with one decimal: 0.0123 → `1.2%`. */
export function formatPercent(ratio: number | null): string {
  return `${formatFixed(ratio === null ? null : ratio * 100, 1)}%`;
}

/** Seconds on a timeline: `12.5s` under two minutes, `3m05s` above. */
export function formatSeconds(s: number): string {
  if (Math.abs(s) < 120) return `${formatNumber(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}
