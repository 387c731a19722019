/**
 * Folders the user names (`--out`, CHAOSLAB_STATE_DIR) are checked before anything starts: a file where a
 * folder should be, or a folder that cannot be written, is a usage error (exit 2), not a part failure after
 * Toxiproxy and Prometheus are up. Nothing is created here; the run creates what is missing.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Throws unless `dir` is a writable folder, or could be created as one: its nearest existing ancestor is a
 * folder this user can write to. `what(abs)` names the path as the user gave it (`--out /x`, `CHAOSLAB_STATE_DIR=/x`).
 */
export function checkWritableFolder(dir: string, what: (abs: string) => string, hint: string): void {
  const abs = path.resolve(dir);
  const named = what(abs);
  let existing = abs;
  let st = statOrUndefined(existing);
  while (!st) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
    st = statOrUndefined(existing);
  }
  if (!st) return; // Not even the root answers: leave it to the run to say.
  if (!st.isDirectory()) {
    const message = existing === abs ? `${named} is a file, not a folder` : `${named}: ${existing} is a file, so no folder can be made under it`;
    throw new LabError(Errors.InvalidArgument, message, { hint });
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by you';
    throw new LabError(Errors.InvalidArgument, existing === abs ? `${named} ${why}` : `${named}: ${existing} ${why}, so the folder cannot be made`, { hint });
  }
}

/** `--out` (or `out:` of the settings file, or ./runs): where run folders go. */
export function checkRunsDir(dir: string, source: string): void {
  checkWritableFolder(dir, (abs) => `${source} ${abs}`, 'pass a folder you can write to, e.g. --out runs (it is created if missing)');
}

/** CHAOSLAB_STATE_DIR (or its default): the reaper's records and kept runs. */
export function checkStateDir(dir: string, fromEnv: boolean): void {
  checkWritableFolder(
    dir,
    (abs) => (fromEnv ? `CHAOSLAB_STATE_DIR=${abs}` : `the state folder ${abs}`),
    fromEnv ? 'point CHAOSLAB_STATE_DIR at a folder you can write to (it is created if missing), or unset it' : 'remove what is in its place, or set CHAOSLAB_STATE_DIR to a folder you can write to',
  );
}
