/**
 * What a user types for a scenario: a path, or the id `chaoslab list` prints (`hello-latency`). A path that
 * exists wins; else an id is looked up in the project's scenarios/ folder (the working folder's, else the lab's
 * own); an unknown id is a usage error naming the close ids.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { didYouMean } from './did-you-mean.js';

/** Where scenarios are looked up: ./scenarios when the working folder has one, else the lab's own. */
export function scenariosDir(cwd: string, projectRoot: string): string {
  const own = path.join(cwd, 'scenarios');
  return existsSync(own) ? own : path.join(projectRoot, 'scenarios');
}

const YAML = /\.ya?ml$/;

/** The ids a folder offers: its YAML files' names (a scenario file is named by its id). */
export function scenarioIds(dir: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir)
      .filter((f) => YAML.test(f))
      .map((f) => f.replace(YAML, ''))
      .sort();
  } catch {
    // Not a readable folder: no ids to offer (the error about the argument still names it).
    return [];
  }
}

/** A bare name, no folder and no .yaml: what `list` prints. */
export function looksLikeId(ref: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref) && !YAML.test(ref);
}

/**
 * The file `ref` names. A missing path is returned as is (the loader says the file is missing, with its path);
 * `hello-latency.yaml` typed outside the project is also tried in scenarios/.
 */
export function resolveScenarioFile(ref: string, opts: { cwd: string; projectRoot: string }): string {
  const asPath = path.resolve(opts.cwd, ref);
  if (ref !== '' && existsSync(asPath)) return asPath;
  const dir = scenariosDir(opts.cwd, opts.projectRoot);
  if (!looksLikeId(ref)) {
    const inDir = path.join(dir, ref);
    return !ref.includes('/') && !ref.includes(path.sep) && YAML.test(ref) && existsSync(inDir) ? inDir : asPath;
  }
  for (const ext of ['.yaml', '.yml']) {
    const file = path.join(dir, `${ref}${ext}`);
    if (existsSync(file)) return file;
  }
  const ids = scenarioIds(dir);
  const shown = path.relative(opts.cwd, dir) || dir;
  throw new LabError(Errors.FileNotFound, `no scenario "${ref}": neither a file nor a scenario id in ${shown}${didYouMean(ref, ids)}`, {
    hint: ids.length ? `scenario ids: ${ids.join(', ')} (chaoslab list describes them)` : `no scenarios in ${shown}; pass a scenario file`,
  });
}
