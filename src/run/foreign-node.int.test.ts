/**
 * Bring your own service: a node that is not a toy (docs/examples/python-node/frontend.py, Python's standard
 * library only) runs in a scenario like any toy: the lab hands it CHAOSLAB_NODE, waits for its /health, reaches it
 * through the load generator, breaks its link to the backend through Toxiproxy, scrapes its /metrics, and keeps
 * its output in the run folder. One short variant (9 s of load), through the real CLI.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const out = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-foreign-node-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('a node written in Python', () => {
  it('runs in a scenario: health, load, a latency fault on its peer link, its own metrics scraped, its log kept', async () => {
    // Not skipped without Python: the example is part of the docs, so a machine without python3 fails here, loudly.
    expect(() => execFileSync('python3', ['--version']), 'python3 is needed to run docs/examples/python-node').not.toThrow();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'bin', 'chaoslab.js'), 'run', 'docs/examples/python-node/scenario.yaml', '--variant', 'mitigated', '--seed', '1', '--out', out, '--json'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, timeout: 90_000 }, (err, so, se) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: so, stderr: se }),
      );
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as { passed: boolean; runDir: string; variants: { assertions: { name: string; passed: boolean; reason: string; observed: { last: number | null } }[] }[] } | null;
    expect(result, stderr).not.toBeNull();
    const assertions = result!.variants[0]!.assertions;
    expect(code, JSON.stringify(assertions.map((a) => [a.name, a.passed, a.reason]))).toBe(0);
    expect(assertions.find((a) => a.name === "the Python node's own metric is scraped")!.observed.last).toBeGreaterThan(100);
    expect(readFileSync(path.join(result!.runDir, 'mitigated', 'logs', 'frontend.log'), 'utf8')).toMatch(/\[frontend\] listening on 127\.0\.0\.1:\d+, backend via 127\.0\.0\.1:\d+/);
  }, 90_000);
});
