/**
 * The state folder: the reapers' per-run records and the kept-run records, which name processes the lab will
 * signal. Whoever can write there can make `chaoslab clean` kill what they like, so it is per user
 * (`$XDG_RUNTIME_DIR/chaoslab`, else `<tmp>/chaoslab-<uid>`), created 0700, and refused when it is not a folder,
 * not the user's own, or writable by anyone else. Files in it are created exclusively, never through a link.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

/** `CHAOSLAB_STATE_DIR`, else the per-user default. */
export function defaultStateDir(env: { CHAOSLAB_STATE_DIR?: string | undefined; XDG_RUNTIME_DIR?: string | undefined }, uid = process.getuid?.()): string {
  if (env.CHAOSLAB_STATE_DIR) return path.resolve(env.CHAOSLAB_STATE_DIR);
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) return path.join(env.XDG_RUNTIME_DIR, 'chaoslab');
  return path.join(os.tmpdir(), `chaoslab-${uid ?? os.userInfo().username}`);
}

const unsafe = (dir: string, why: string, fix = `remove it, or set CHAOSLAB_STATE_DIR to a folder of your own`): LabError =>
  new LabError(Errors.StateDirUnsafe, `the state folder ${dir} ${why}`, { hint: `it must be a folder owned by you and writable by no one else: ${fix}` });

/** Checks an existing folder's type, owner and mode (throws `StateDirUnsafe`, exit 2). */
export function checkStateDir(dir: string, st: Stats, uid = process.getuid?.()): void {
  if (st.isSymbolicLink()) throw unsafe(dir, 'is a symbolic link');
  if (!st.isDirectory()) throw unsafe(dir, 'is not a folder');
  if (uid !== undefined && st.uid !== uid) throw unsafe(dir, `belongs to uid ${st.uid}, not to you (uid ${uid})`);
  if ((st.mode & 0o022) !== 0) {
    throw unsafe(dir, `is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)})`, `\`chmod 700 ${dir}\` if it is yours alone, or set CHAOSLAB_STATE_DIR to another`);
  }
}

/**
 * The checked state folder. `create`: made (0700) when missing; else undefined when missing (nothing recorded).
 * Throws `StateDirUnsafe` for a file, a link, someone else's folder, or one others may write.
 */
export function openStateDir(dir: string, opts: { create: boolean }): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw unsafe(dir, 'lies under something that is not a folder');
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unsafe(dir, `cannot be read (${(e as NodeJS.ErrnoException).code})`);
    if (!opts.create) return undefined;
    try {
      mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
      // Not recursive: if someone makes it first, mkdir fails and the check below judges theirs.
      mkdirSync(dir, { mode: 0o700 });
    } catch (e2) {
      const code = (e2 as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw unsafe(dir, `cannot be created (${code ?? (e2 as Error).message})`);
    }
    st = lstatSync(dir);
  }
  checkStateDir(dir, st);
  return dir;
}

/**
 * Writes `file` (in a checked folder) atomically: a fresh temporary file created exclusively and without
 * following links (O_EXCL|O_NOFOLLOW, 0600), then renamed over `file` (a rename replaces a link, never follows it).
 */
export function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, content);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** Reads only a regular file of this user's (lstat: a link is not followed). */
export function isOwnRegularFile(file: string, uid = process.getuid?.()): boolean {
  try {
    const st = lstatSync(file);
    return st.isFile() && (uid === undefined || st.uid === uid);
  } catch {
    return false;
  }
}
