/**
 * Every run gets a folder of its own. Two runs started in the same second into one `--out` once shared a folder
 * (journal, result.json, Prometheus's database and targets.json), and one run was judged on the other's data. The
 * leaf is created exclusively (no `recursive`, so EEXIST is seen) with a suffix, and another suffix is tried when the
 * name is taken: whichever run creates the folder owns it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

export interface RunFolder {
  /** The run's own folder, just created and empty. */
  dir: string;
  /** `<UTC second>-<scenario>-<suffix>`: also the base of the run's id (reaper state, Docker names). */
  name: string;
}

/** `20261128-054436` (UTC). */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const MAX_TRIES = 100;

/**
 * Creates `<runsDir>/<stamp>-<scenario>-<suffix>`. The first suffix is this process's pid in base 36 (distinct for
 * runs started by different processes at once); a taken name (the same process, a reused pid) tries `-2`, `-3`, ….
 * No random choice: a run's randomness all comes from its seed.
 */
export function createRunFolder(runsDir: string, scenario: string, started: Date, opts: { pid?: number; mkdir?: typeof mkdirSync } = {}): RunFolder {
  const mkdir = opts.mkdir ?? mkdirSync;
  const base = `${stamp(started)}-${scenario}-${(opts.pid ?? process.pid).toString(36)}`;
  mkdir(runsDir, { recursive: true });
  for (let i = 1; i <= MAX_TRIES; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    const dir = path.join(runsDir, name);
    try {
      mkdir(dir);
      return { dir, name };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new LabError(Errors.InvalidArgument, `could not create a run folder of its own in ${runsDir}: ${base} and ${MAX_TRIES - 1} more names are taken`, { hint: 'choose another --out folder, or remove old runs from this one' });
}

/** An exact run folder chosen by the caller: it must not exist yet (two runs never share one). */
export function createExactRunFolder(dir: string, opts: { mkdir?: typeof mkdirSync } = {}): RunFolder {
  const mkdir = opts.mkdir ?? mkdirSync;
  mkdir(path.dirname(dir), { recursive: true });
  try {
    mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new LabError(Errors.InvalidArgument, `the run folder ${dir} already exists`, { hint: 'each run writes into a new folder: choose another one' });
  }
  return { dir, name: path.basename(dir) };
}
