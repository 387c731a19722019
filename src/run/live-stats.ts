/** Client-side numbers over a sliding window, for the live view (the verdict comes from Prometheus). */
export class SlidingStats {
  private readonly buckets = new Map<number, { n: number; bad: number; lat: number[] }>();

  constructor(private readonly windowSec = 3) {}

  add(nowMs: number, ok: boolean, latencyMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    let b = this.buckets.get(sec);
    if (!b) {
      b = { n: 0, bad: 0, lat: [] };
      this.buckets.set(sec, b);
      for (const k of this.buckets.keys()) if (k < sec - this.windowSec - 1) this.buckets.delete(k);
    }
    b.n++;
    if (!ok) b.bad++;
    // Keep a bounded sample per second: enough for a p99 on a terminal.
    if (b.lat.length < 2000) b.lat.push(latencyMs);
  }

  snapshot(nowMs: number): { rate: number; errorRatio: number; p99Ms: number | null } {
    const sec = Math.floor(nowMs / 1000);
    let n = 0;
    let bad = 0;
    const lat: number[] = [];
    // Whole seconds only: the current, partial second would understate the rate.
    for (let s = sec - this.windowSec; s < sec; s++) {
      const b = this.buckets.get(s);
      if (!b) continue;
      n += b.n;
      bad += b.bad;
      lat.push(...b.lat);
    }
    lat.sort((a, b) => a - b);
    return {
      rate: n / this.windowSec,
      errorRatio: n ? bad / n : 0,
      p99Ms: lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]! : null,
    };
  }
}
