/**
 * Workshop exercises with the real parts: `chaoslab workshop check N` replays each exercise's short scenario with a
 * module loaded into the toy, and its tiers are judged from that one run. Every reference solution must reach the
 * top tier and every starter must fail the first tier: `check N --reference --with-starter` replays both in one run
 * (the starter as a second variant: one Toxiproxy, one Prometheus, one CLI run), so no starter needs a replay of
 * its own. Exercise 1's starter goes the learner's way instead (`workshop start`, then `check` of the file).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../utils/cli.js';

interface Graded {
  reached: 'pass' | 'better' | 'best' | null;
  targets: { label: string; value: number | null; tiers: Record<string, { condition: string; met: boolean }> }[];
}
interface CheckJson extends Graded {
  exercise: number;
  passed: boolean;
  problem?: string;
  moduleFailed?: unknown;
  replaySeconds?: number;
  starter?: (Graded & { moduleFailed: boolean }) | null;
}

const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-workshop-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const list = await runCli<{ exercises: { number: number; id: string }[] }>(['workshop', 'list', '--json']);
const exercises = list.json.exercises;
/** Its starter is checked through `workshop start` and `check` of the learner's file (the cheapest replay, 16 s). */
const LEARNER_PATH = 'timeouts-and-fallbacks';

function show(r: { code: number | null; stderr: string }, j: Graded & { problem?: string }): string {
  return `exit ${r.code}; ${j.targets.map((t) => `${t.label}=${t.value}`).join(', ')}; ${j.problem ?? ''}\n${r.stderr.slice(-1000)}`;
}

function expectStarterFails(j: Graded): void {
  expect(j.reached, show({ code: null, stderr: '' }, j)).toBeNull();
  expect(j.targets.some((t) => t.tiers.pass && !t.tiers.pass.met)).toBe(true);
}

describe('workshop check', () => {
  for (const ex of exercises) {
    const withStarter = ex.id !== LEARNER_PATH;
    it(`exercise ${ex.number} (${ex.id}): the reference solution reaches the best tier${withStarter ? ', the starter in the same run fails the pass tier' : ''}`, async () => {
      const r = await runCli<CheckJson>(['workshop', 'check', String(ex.number), '--reference', ...(withStarter ? ['--with-starter'] : []), '--dir', dir, '--seed', '1', '--json']);
      const j = r.json;
      expect(j.reached, show(r, j)).toBe('best');
      expect(r.code).toBe(0);
      expect(j.moduleFailed).toBeUndefined();
      if (!withStarter) return;
      expect(j.starter, show(r, j)).toBeTruthy();
      expect(j.starter!.moduleFailed).toBe(false);
      expectStarterFails(j.starter!);
    }, 200_000);

    if (!withStarter) it(`exercise ${ex.number} (${ex.id}): the starter, written by workshop start, fails the pass tier`, async () => {
      expect((await runCli(['workshop', 'start', String(ex.number), '--dir', dir])).code).toBe(0);
      const r = await runCli<CheckJson>(['workshop', 'check', String(ex.number), '--dir', dir, '--seed', '1', '--json']);
      const j = r.json;
      expect(r.code, show(r, j)).toBe(1);
      expect(j.problem).toBeUndefined();
      expectStarterFails(j);
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
