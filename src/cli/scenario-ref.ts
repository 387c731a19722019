/**
 * What a user types for a scenario: a path, or the id `chaoslab list` prints (`hello-latency`). A path that
 * exists wins; else an id is looked up in the project's scenarios/ folder (the working folder's, else the lab's
 * own); an unknown id is a usage error naming the close ids.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
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

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** scenarios/<id>.yaml (or .yml), if it is there. */
function idFile(dir: string, id: string): string | undefined {
  return ['.yaml', '.yml'].map((ext) => path.join(dir, `${id}${ext}`)).find((f) => existsSync(f) && !isFolder(f));
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
  if (ref.trim() === '') throw new LabError(Errors.InvalidArgument, 'the scenario argument is empty', { hint: 'name a scenario file or id, e.g. hello-latency (chaoslab list shows them)' });
  const asPath = path.resolve(opts.cwd, ref);
  const dir = scenariosDir(opts.cwd, opts.projectRoot);
  if (existsSync(asPath)) {
    if (!isFolder(asPath)) return asPath;
    // A folder is no scenario; a folder named like an id (./hello-latency/) still lets the id be found below.
    if (!looksLikeId(ref) || !idFile(dir, ref)) {
      throw new LabError(Errors.InvalidArgument, `${ref} is a folder, not a scenario file`, { hint: `name a file in it, or a scenario id: ${scenarioIds(dir).join(', ') || '(none found)'}` });
    }
  }
  if (!looksLikeId(ref)) {
    const inDir = path.join(dir, ref);
    return !ref.includes('/') && !ref.includes(path.sep) && YAML.test(ref) && existsSync(inDir) ? inDir : asPath;
  }
  const byId = idFile(dir, ref);
  if (byId) return byId;
  const ids = scenarioIds(dir);
  const shown = path.relative(opts.cwd, dir) || dir;
  throw new LabError(Errors.FileNotFound, `no scenario "${ref}": neither a file nor a scenario id in ${shown}${didYouMean(ref, ids)}`, {
    hint: ids.length ? `scenario ids: ${ids.join(', ')} (chaoslab list describes them)` : `no scenarios in ${shown}; pass a scenario file`,
  });
}
