/**
 * A fixed-size log-bucket histogram of milliseconds (≈1% relative error), so a long run at high rate
 * keeps constant memory. Values below 10 µs share the first bucket.
 */
const MIN_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(3_600_000 / MIN_MS) / LOG_GROWTH) + 2;

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxValue = 0;

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const b = v < MIN_MS ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v / MIN_MS) / LOG_GROWTH));
    this.counts[b]!++;
    this.total++;
    if (v > this.maxValue) this.maxValue = v;
  }

  get count(): number {
    return this.total;
  }

  /** Upper edge of the bucket holding quantile q, capped by the true maximum. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(this.maxValue, b === 0 ? MIN_MS : MIN_MS * Math.pow(GROWTH, b));
    }
    return this.maxValue;
  }

  percentiles(): Percentiles {
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      count: this.total,
      p50: round(this.quantile(0.5)),
      p90: round(this.quantile(0.9)),
      p99: round(this.quantile(0.99)),
      max: round(this.maxValue),
    };
  }
}
