/**
 * The scale step in the process runtime, end to end through the CLI: a third geo-index shard is started while the
 * load runs, Prometheus scrapes it, the toy's own membership routes to it, and it is stopped again without being a
 * dead node; nothing is left running.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { failures, isAlive, runCli } from '../../test/utils/cli.js';

describe('scale step (process runtime)', () => {
  it('scales the geo-index from 2 to 3 instances and back while the load runs', async () => {
    const r = await runCli(['run', 'test/fixtures/scenarios/uber-scale-short.yaml', '--seed', '1', '--json']);
    const result = r.json;
    expect(r.code, failures(result)).toBe(0);
    const journal = readFileSync(path.join(result.runDir, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; [k: string]: unknown });
    const scales = journal.filter((e) => e.kind === 'scale');
    expect(scales.map((e) => [e['action'], e['from'], e['to'], e['started'], e['stopped']])).toEqual([
      ['apply', 2, 3, ['geo-index-3'], []],
      ['heal', 3, 2, [], ['geo-index-3']],
    ]);
    expect(scales.every((e) => e['error'] === undefined)).toBe(true);
    expect(journal.filter((e) => e.kind === 'node-exited')).toEqual([]);
    const started = journal.find((e) => e.kind === 'node-started' && e['node'] === 'geo-index-3');
    expect(started).toBeDefined();
    expect(isAlive(started!['pid'] as number)).toBe(false);
  }, 90_000);
});
