/**
 * Every check is kept: one JSON file per attempt under `<dir>/attempts/<NN>-<id>/`, with the grade, the numbers
 * and each target's series, so `workshop report` can lay the attempts side by side without replaying anything.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Tier } from './exercise.js';
import type { Grade } from './grade.js';

export interface Attempt {
  exercise: number;
  id: string;
  title: string;
  /** ISO time the check started. */
  at: string;
  seed: number;
  /** The shipped reference solution, not the learner's module. */
  reference: boolean;
  module: string;
  /** The module as checked (the learner's file changes between attempts). */
  source: string;
  /** null: the module failed before the replay (it did not compile, load, or export its functions). */
  grade: Grade | null;
  /** Why the attempt has no grade, or why the replay had no verdict. */
  problem?: string;
  runDir?: string;
  replaySeconds?: number;
  /** The first errors the toy logged about the module, and the log file. */
  moduleErrors?: string[];
}

export const ATTEMPTS_DIR = 'attempts';

export function attemptFolder(dir: string, ex: { number: number; id: string }): string {
  return path.join(dir, ATTEMPTS_DIR, `${String(ex.number).padStart(2, '0')}-${ex.id}`);
}

export function saveAttempt(dir: string, a: Attempt): string {
  const folder = attemptFolder(dir, { number: a.exercise, id: a.id });
  mkdirSync(folder, { recursive: true });
  const existing = readdirSync(folder).filter((f) => f.endsWith('.json')).length;
  const file = path.join(folder, `${String(existing + 1).padStart(3, '0')}${a.reference ? '-reference' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(a, null, 2)}\n`);
  return file;
}

/** Every kept attempt, by exercise then in the order made; unreadable files are skipped (and named). */
export function readAttempts(dir: string): { attempts: Attempt[]; skipped: string[] } {
  const root = path.join(dir, ATTEMPTS_DIR);
  const attempts: Attempt[] = [];
  const skipped: string[] = [];
  if (!existsSync(root)) return { attempts, skipped };
  for (const sub of readdirSync(root).sort()) {
    const folder = path.join(root, sub);
    let files: string[];
    try {
      files = readdirSync(folder).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const a = JSON.parse(readFileSync(path.join(folder, f), 'utf8')) as Attempt;
        if (typeof a.exercise !== 'number' || typeof a.at !== 'string') throw new Error('not an attempt');
        attempts.push(a);
      } catch {
        skipped.push(path.join(folder, f));
      }
    }
  }
  return { attempts, skipped };
}

export function tierText(t: Tier | null): string {
  return t ?? 'none';
}
