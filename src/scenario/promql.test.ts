import { describe, expect, it } from 'vitest';
import { checkPromQL, checkRangeQuery, selectedMetrics } from './promql.js';

describe('checkPromQL', () => {
  const valid = [
    'up',
    'rate(chaoslab_client_requests_total[5s])',
    'histogram_quantile(0.99, sum by (le) (rate(chaoslab_client_request_duration_seconds_bucket[10s])))',
    'sum(rate(chaoslab_client_requests_total{outcome!="ok"}[5s])) / sum(rate(chaoslab_client_requests_total[5s]))',
    'sum(x) by (a) > bool 0.5',
    'x - x offset 1m',
    'max_over_time(rate(x[5s])[1m:1s])',
    'x{job=~"chaos.*", instance!~"127\\\\.0\\\\.0\\\\.1:.*", op="get"}',
    '1 + 2 * 3',
    'a and on (job) b',
    'count(up == 0) or vector(0)',
    '-x',
  ];
  it.each(valid)('accepts %s', (expr) => {
    expect(checkPromQL(expr)).toEqual({ ok: true });
  });

  const broken: [string, RegExp, number][] = [
    ['rate(x[5s]', /end of expression.*missing `\)`/, 10],
    ['sum by le (x)', /unexpected `le` in the by\/without label list/, 7],
    ['foo{bar=}', /unexpected `}` in a label matcher/, 8],
    ['', /empty/, 0],
    ['   ', /empty/, 0],
    ['1 +', /end of expression in a binary expression/, 3],
    ['foo bar', /unexpected `bar`/, 4],
    ['no_such_function(x)', /unknown function `no_such_function`/, 0],
    ['sum(rate(x[5s])', /missing `\)`/, 15],
    ['x{a="b"', /missing `}`/, 7],
  ];
  it.each(broken)('refuses %j', (expr, message, offset) => {
    const r = checkPromQL(expr);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(message);
    expect(r.offset).toBe(offset);
  });
});

describe('checkRangeQuery: what parses but a range query cannot return', () => {
  it.each(['"hello"', 'x[5m]', '(x[5m])', 'x[5m] offset 1m', 'rate(x[5s])[1m:1s]', 'sum({})', '{job=""}', '{job=~".*"}', `${'('.repeat(70)}up${')'.repeat(70)}`])('refuses %s', (q) => {
    expect(checkRangeQuery(q).ok).toBe(false);
  });
  it.each(['up', '1', 'rate(x[5m])', 'max_over_time(rate(x[5s])[1m:1s])', '{job="a"}', '{__name__="up"}', 'x offset 1m'])('accepts %s', (q) => {
    expect(checkRangeQuery(q)).toEqual({ ok: true });
  });
});

describe('selectedMetrics', () => {
  it('finds selected metrics, not functions, labels or strings', () => {
    expect(selectedMetrics('histogram_quantile(0.99, sum by (le) (rate(a_bucket{job="b"}[5s]))) / on(x) group_left c + {__name__="d"} or vector(0)').sort()).toEqual(['a_bucket', 'c', 'd']);
  });
});
