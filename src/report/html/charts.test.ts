import { describe, expect, it } from 'vitest';
import { CHART_SIZE, renderChart, renderTimeline, ticks, yDomainFor } from './charts.js';
import { variantTimeline } from './model.js';
import { assertion, fixture, series, T0 } from './testing.js';

describe('axes', () => {
  it('keeps the threshold inside the y range and starts at zero', () => {
    const [lo, hi] = yDomainFor([assertion({ name: 'x' })], { comparator: '<', threshold: 0.5 });
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThanOrEqual(0.5);
    expect(yDomainFor([], null)).toEqual([0, 1.5]);
  });

  it('ignores samples that are not finite', () => {
    const [, hi] = yDomainFor([assertion({ name: 'x', series: series(0, [1, Infinity, NaN, 2]) })], null);
    expect(hi).toBe(3);
  });

  it('puts ticks on round values', () => {
    expect(ticks(0, 36, 6)).toEqual([0, 10, 20, 30]);
    expect(ticks(0, 36, 10)).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    expect(ticks(0, 1.2, 4)).toEqual([0, 0.5, 1]);
  });
});

describe('renderChart', () => {
  const { result, journal } = fixture();
  const v = result.variants[0]!;
  const timeline = variantTimeline(v, journal);
  const input = { id: 'chart-0', t0: v.t0, timeline, xDomain: [0, 36] as [number, number], yDomain: [0, 1.2] as [number, number], unit: 'seconds' as const, condition: { comparator: '<' as const, threshold: 0.5 } };

  it('draws the series, the threshold, the fault and the judged window', () => {
    const { svg, data } = renderChart({ ...input, assertion: v.assertions[0]! });
    expect(svg).toMatch(/^<svg class="chart" id="chart-0" viewBox="0 0 560 230"/);
    expect(svg.match(/<path class="series"/g)).toHaveLength(1);
    expect(svg).toContain('<line class="threshold"');
    expect(svg).toContain('>&lt; 500 ms</text>');
    expect(svg).toContain('<rect class="fault"');
    expect(svg).toContain('<rect class="window"');
    // Every sample breaks `< 0.5`: each one is marked.
    expect(svg.match(/class="pt bad"/g)).toHaveLength(12);
    expect(data.size).toEqual(CHART_SIZE);
  });

  it('hands the page script each point already formatted', () => {
    const { data } = renderChart({ ...input, assertion: v.assertions[0]! });
    expect(data.series[0]!.points[0]).toEqual([15, 0.99, '+15s', '990 ms']);
    const a = assertion({ name: 'x', series: [{ labels: { instance: 'a' }, points: [[(T0 + 15_500) / 1000, Infinity]] }] });
    const other = renderChart({ ...input, assertion: a }).data.series[0]!;
    expect(other.name).toBe('{instance="a"}');
    expect(other.points[0]).toEqual([15.5, null, '+15.5s', '—']);
  });

  it('draws time to recover and the allowance for a recovery assertion', () => {
    const a = assertion({ name: 'r', window: { label: 'after slow-backend', startMs: 26_000, endMs: 36_000 }, timeToRecoverSec: 3, reason: 'max 0.1 over 5 samples from +5s, recovered after 3s; needed all < 0.5 within 5s of the heal' });
    const { svg } = renderChart({ ...input, assertion: a });
    expect(svg).toContain('recovered +3s');
    expect(svg).toContain('allowed 5s');
  });

  it('says so when Prometheus returned nothing', () => {
    const { svg, data } = renderChart({ ...input, assertion: assertion({ name: 'x', series: [] }) });
    expect(svg).toContain('no data: Prometheus returned no series');
    expect(data.series).toEqual([]);
  });
});

describe('renderTimeline', () => {
  it('draws phases, each fault scheduled and applied, and load changes', () => {
    const { result, journal } = fixture();
    const svg = renderTimeline(variantTimeline(result.variants[0]!, journal), [0, 36]);
    expect(svg.match(/<rect class="phase"/g)).toHaveLength(3);
    expect(svg).toContain('<rect class="scheduled"');
    expect(svg).toContain('<rect class="applied"');
    expect(svg).toContain('latency 800ms±50ms downstream on frontend_to_backend');
    expect(svg).toContain('>200/s</text>');
  });
});
