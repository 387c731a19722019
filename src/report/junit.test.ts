import { describe, expect, it } from 'vitest';
import { junitRuns } from './html/testing.js';
import { renderJunit } from './junit.js';

const attrs = (xml: string, tag: string): Record<string, string>[] =>
  [...xml.matchAll(new RegExp(`<${tag} ([^>]*?)/?>`, 'g'))].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));

describe('renderJunit', () => {
  const runs = junitRuns();
  const opts = { hostname: 'ci-runner' };

  it('gives every suite its counts, time and timestamp, and every test case a time', () => {
    const xml = renderJunit(runs.failed, opts);
    const suites = attrs(xml, 'testsuite');
    expect(suites.map((s) => [s['name'], s['tests'], s['failures'], s['errors'], s['skipped'], s['time'], s['timestamp'], s['hostname']])).toEqual([
      ['hello-latency.baseline', '2', '0', '0', '0', '36', '2026-11-28T05:44:38', 'ci-runner'],
      ['hello-latency.mitigated', '3', '1', '0', '0', '36', '2026-11-28T05:45:18', 'ci-runner'],
    ]);
    // A test case lasts as long as the window its assertion judged.
    expect(attrs(xml, 'testcase').map((c) => c['time'])).toEqual(['11', '10', '11', '10', '11']);
    expect(xml).not.toMatch(/<testsuites [^>]/);
  });

  it('writes a missed expectation as a failure', () => {
    const xml = renderJunit(runs.failed, opts);
    expect(xml).toContain('<failure type="no-data" message="expected holds, observed no-data: no data">sum(rate(hello_fallbacks_total[3s]))\n&gt; 0 over during slow-backend</failure>');
    expect(xml).toContain('name="fallback answers served while &lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('writes a part failure as an error, with the error code as its type', () => {
    const xml = renderJunit(runs.errored, opts);
    expect(xml).toContain('<testcase classname="hello-latency.mitigated" name="variant ran to completion" time="0"><error type="CHAOSLAB_NODE_FAILED" message="node backend exited with code 1 before it was healthy\\x1b[0m">see mitigated/logs/backend.log</error></testcase>');
    expect(attrs(xml, 'testsuite')[1]).toMatchObject({ tests: '1', failures: '0', errors: '1', time: '0' });
  });

  it('writes an interrupted variant as skipped: no verdict', () => {
    const xml = renderJunit(runs.interrupted, opts);
    expect(attrs(xml, 'testsuite')[1]).toMatchObject({ tests: '1', failures: '0', errors: '0', skipped: '1' });
    expect(xml).toContain('<skipped message="the run was interrupted before it could judge every variant"/>');
    // Interrupted before any variant began: a suite says so.
    const early = renderJunit({ ...runs.interrupted, variants: [] }, opts);
    expect(early).toContain('name="run ran to completion" time="0"><skipped');
  });

  it('keeps the seed and the replay command', () => {
    expect(renderJunit(runs.passed, opts)).toContain('<property name="seed" value="7"/><property name="expect" value="reproduce"/><property name="status" value="completed"/><property name="replay" value="npx chaoslab run scenarios/hello-latency.yaml --seed 7"/>');
  });
});
