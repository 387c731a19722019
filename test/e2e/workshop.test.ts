/**
 * Workshop exercises with the real parts: `chaoslab workshop check N` replays each exercise's short scenario with a
 * module loaded into the toy, and its tiers are judged from that one run. Every reference solution must reach the
 * top tier and every starter must fail the first tier: `check N --reference --with-starter` replays both in one run
 * (the starter as a second variant: one Toxiproxy, one Prometheus, one CLI run), so no starter needs a replay of
 * its own. Exercise 1's starter goes the learner's way instead (`workshop start`, then `check` of the file).
 * Exercise 3's starter is graded on exercise 2's starter run: the same scenario, and both starters leave the
 * storage node's design as it is (src/workshop/shared-starters.test.ts proves it on a grid of inputs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExercise, loadExercises } from '../../src/workshop/exercise.js';
import { gradeAttempt } from '../../src/workshop/grade.js';
import { STARTER_VARIANT } from '../../src/workshop/starter-variant.js';
import type { RunResult } from '../../src/run/result.js';
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
/** Exercise → the exercise whose starter run also grades its starter (same scenario, same design: see above). */
const STARTERS_SHARED: Record<string, string> = { breakers: 'backoff-and-budgets' };
/** The run folder of each exercise's `--with-starter` check. */
const starterRuns = new Map<string, string>();
const root = path.resolve(import.meta.dirname, '..', '..');

function show(r: { code: number | null; stderr: string }, j: Graded & { problem?: string }): string {
  return `exit ${r.code}; ${j.targets.map((t) => `${t.label}=${t.value}`).join(', ')}; ${j.problem ?? ''}\n${r.stderr.slice(-1000)}`;
}

function expectStarterFails(j: Graded): void {
  expect(j.reached, show({ code: null, stderr: '' }, j)).toBeNull();
  expect(j.targets.some((t) => t.tiers.pass && !t.tiers.pass.met)).toBe(true);
}

describe('workshop check', () => {
  for (const ex of exercises) {
    const sharedWith = STARTERS_SHARED[ex.id];
    const withStarter = ex.id !== LEARNER_PATH && !sharedWith;
    it(`exercise ${ex.number} (${ex.id}): the reference solution reaches the best tier${withStarter ? ', the starter in the same run fails the pass tier' : ''}`, async () => {
      const r = await runCli<CheckJson & { runDir: string }>(['workshop', 'check', String(ex.number), '--reference', ...(withStarter ? ['--with-starter'] : []), '--dir', dir, '--seed', '1', '--json']);
      const j = r.json;
      // Kept first, so a reference that falls short does not also fail the exercise that shares this starter run.
      if (withStarter && j.runDir) starterRuns.set(ex.id, j.runDir);
      expect(j.reached, show(r, j)).toBe('best');
      expect(r.code).toBe(0);
      expect(j.moduleFailed).toBeUndefined();
      if (!withStarter) return;
      expect(j.starter, show(r, j)).toBeTruthy();
      expect(j.starter!.moduleFailed).toBe(false);
      expectStarterFails(j.starter!);
    }, 200_000);

    if (sharedWith) it(`exercise ${ex.number} (${ex.id}): the starter fails the pass tier, graded on ${sharedWith}'s starter run`, () => {
      const runDir = starterRuns.get(sharedWith);
      expect(runDir, `${sharedWith}'s check --with-starter ran first`).toBeDefined();
      const result = JSON.parse(readFileSync(path.join(runDir!, 'result.json'), 'utf8')) as RunResult;
      const starter = result.variants.find((v) => v.name === STARTER_VARIANT)!;
      const grade = gradeAttempt(findExercise(loadExercises(root), ex.id, 'check'), starter.assertions);
      expect(grade.moduleFailed).toBeNull();
      expectStarterFails({ reached: grade.reached, targets: grade.targets.map((t) => ({ label: t.label, value: t.value, tiers: t.tiers as Graded['targets'][number]['tiers'] })) });
    });

    if (ex.id === LEARNER_PATH) it(`exercise ${ex.number} (${ex.id}): the starter, written by workshop start, fails the pass tier`, async () => {
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
