import { describe, expect, it } from 'vitest';
import type { Series } from '../observe/prometheus-client.js';
import { PrometheusQueryError } from '../observe/prometheus-client.js';
import { evaluateAssertion, trimToWindow } from './evaluate.js';

const T0 = 1_700_000_000;
const base = { query: 'q', startSec: T0 - 10, endSec: T0 + 10, stepSec: 1, windowStartSec: T0, windowEndSec: T0 + 5 };

// A stand-in for the query call only: judging logic is what is tested here; the real client is tested against Prometheus.
const answering = (series: Series[]) => ({ queryRange: async () => series });

describe('evaluateAssertion', () => {
  it('judges and keeps only the window in the stored series', async () => {
    const s: Series = { labels: { job: 'x' }, points: [[T0 - 5, 9], [T0, 0], [T0 + 5, 0], [T0 + 6, 9]] };
    const r = await evaluateAssertion(answering([s]), { ...base, comparator: '==', threshold: 0, over: 'all' });
    expect(r.outcome).toBe('holds');
    expect(r.series).toEqual([{ labels: { job: 'x' }, points: [[T0, 0], [T0 + 5, 0]] }]);
  });

  it('turns a query error into no-data with the error as reason', async () => {
    const failing = {
      queryRange: async (): Promise<Series[]> => {
        throw new PrometheusQueryError('bad_data', 'expected type range vector', { expr: 'rate(x)' });
      },
    };
    const r = await evaluateAssertion(failing, { ...base, comparator: '<', threshold: 1, over: 'all' });
    expect(r.outcome).toBe('no-data');
    expect(r.reason).toMatch(/^query failed: Prometheus bad_data for `rate\(x\)`: expected type range vector/);
    expect(r.series).toEqual([]);
  });

  it('says when series exist but none fall in the window', async () => {
    const s: Series = { labels: {}, points: [[T0 - 5, 1]] };
    const r = await evaluateAssertion(answering([s]), { ...base, comparator: '<', threshold: 1, over: 'all' });
    expect(r.outcome).toBe('no-data');
    expect(r.reason).toMatch(/1 series returned, but no samples in the window/);
  });
});

describe('trimToWindow', () => {
  it('drops series left empty', () => {
    expect(trimToWindow([{ labels: {}, points: [[1, 1]] }], 2, 3)).toEqual([]);
  });
});
