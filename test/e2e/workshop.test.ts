/**
 * Workshop exercises with the real parts: `chaoslab workshop check N` replays each exercise's short scenario with a
 * module loaded into the toy, and its tiers are judged from that one run. Every reference solution must reach the
 * top tier; the starters must fail the first tier. To stay inside the workshop's e2e budget (3 minutes; measured
 * 173 s) only exercise 1's starter (the cheapest replay, 20 s) runs by default; the others' starters are the toys'
 * default designs (what the full replays' baselines show breaking). CHAOSLAB_WORKSHOP_ALL=1 checks every starter
 * too (about 2.5 minutes more).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../utils/cli.js';

interface CheckJson {
  exercise: number;
  reached: 'pass' | 'better' | 'best' | null;
  passed: boolean;
  problem?: string;
  moduleFailed?: unknown;
  targets: { label: string; value: number | null; tiers: Record<string, { condition: string; met: boolean }> }[];
  replaySeconds?: number;
}

const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-workshop-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const all = process.env.CHAOSLAB_WORKSHOP_ALL === '1';
const list = await runCli<{ exercises: { number: number; id: string }[] }>(['workshop', 'list', '--json']);
const exercises = list.json.exercises;
/** The starters checked by default: the cheapest replays (hello's 20 s). */
const STARTERS_BY_DEFAULT = new Set(['timeouts-and-fallbacks']);

function show(r: { code: number | null; stdout: string; stderr: string }, j: CheckJson): string {
  return `exit ${r.code}; ${j.targets.map((t) => `${t.label}=${t.value}`).join(', ')}; ${j.problem ?? ''}\n${r.stderr.slice(-1000)}`;
}

describe('workshop check', () => {
  for (const ex of exercises) {
    it(`exercise ${ex.number} (${ex.id}): the reference solution reaches the best tier`, async () => {
      const r = await runCli<CheckJson>(['workshop', 'check', String(ex.number), '--reference', '--dir', dir, '--seed', '1', '--json']);
      const j = r.json;
      expect(j.reached, show(r, j)).toBe('best');
      expect(r.code).toBe(0);
      expect(j.moduleFailed).toBeUndefined();
    }, 150_000);

    // Not registered (rather than skipped) outside the default set: CHAOSLAB_WORKSHOP_ALL=1 adds them.
    if (all || STARTERS_BY_DEFAULT.has(ex.id)) it(`exercise ${ex.number} (${ex.id}): the starter fails the pass tier`, async () => {
      expect((await runCli(['workshop', 'start', String(ex.number), '--dir', dir])).code).toBe(0);
      const r = await runCli<CheckJson>(['workshop', 'check', String(ex.number), '--dir', dir, '--seed', '1', '--json']);
      const j = r.json;
      expect(j.reached, show(r, j)).toBeNull();
      expect(r.code).toBe(1);
      expect(j.problem).toBeUndefined();
      expect(j.targets.some((t) => t.tiers.pass && !t.tiers.pass.met)).toBe(true);
    }, 150_000);
  }

  it('report lays the attempts side by side: one chart per target, a line per attempt', async () => {
    const r = await runCli<{ report: string; attempts: number }>(['workshop', 'report', '--dir', dir, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.attempts).toBeGreaterThanOrEqual(exercises.length);
    const html = readFileSync(r.json.report, 'utf8');
    expect(html.match(/<svg /g)?.length ?? 0).toBeGreaterThanOrEqual(exercises.length);
    // Exercise 1 has its reference and its starter: two lines in its first chart.
    const first = html.slice(html.indexOf('<h2>1.'), html.indexOf('</section>', html.indexOf('<h2>1.')));
    expect(first.match(/<svg[\s\S]*?<\/svg>/)![0].match(/<path /g)).toHaveLength(2);
  });
});
