import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { checkStateDir, defaultStateDir, isOwnRegularFile, openStateDir, writePrivateFile } from './state-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'chaoslab-state-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (f: () => unknown): LabError => {
  try {
    f();
  } catch (e) {
    return e as LabError;
  }
  throw new Error('not refused');
};

describe('defaultStateDir', () => {
  it('is per user: CHAOSLAB_STATE_DIR, else $XDG_RUNTIME_DIR/chaoslab, else <tmp>/chaoslab-<uid>', () => {
    expect(defaultStateDir({ CHAOSLAB_STATE_DIR: '/srv/lab' }, 1000)).toBe('/srv/lab');
    expect(defaultStateDir({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe('/run/user/1000/chaoslab');
    expect(defaultStateDir({ XDG_RUNTIME_DIR: 'relative' }, 1000)).toBe(join(tmpdir(), 'chaoslab-1000'));
    expect(defaultStateDir({}, 1000)).toBe(join(tmpdir(), 'chaoslab-1000'));
  });
});

describe('openStateDir', () => {
  it('creates a missing folder 0700, and reports a missing one as nothing recorded when not creating', () => {
    const d = join(dir, 'fresh', 'state');
    expect(openStateDir(d, { create: false })).toBeUndefined();
    expect(openStateDir(d, { create: true })).toBe(d);
    expect(lstatSync(d).mode & 0o777).toBe(0o700);
  });

  it('refuses a folder others may write (0777), as bad input (exit 2)', () => {
    const d = join(dir, 'open');
    mkdirSync(d);
    chmodSync(d, 0o777);
    const e = refusal(() => openStateDir(d, { create: true }));
    expect(e.code).toBe(Errors.StateDirUnsafe.code);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`the state folder ${d} is writable by everyone (mode 777)`);
    chmodSync(d, 0o770);
    expect(refusal(() => openStateDir(d, { create: false })).message).toMatch(/writable by its group \(mode 770\)/);
  });

  it('refuses a file, a symbolic link, and a path under a file', () => {
    const f = join(dir, 'a-file');
    writeFileSync(f, '');
    expect(refusal(() => openStateDir(f, { create: true })).message).toBe(`the state folder ${f} is not a folder`);
    expect(refusal(() => openStateDir(join(f, 'x'), { create: true })).code).toBe(Errors.StateDirUnsafe.code);
    const target = join(dir, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    const link = join(dir, 'planted');
    symlinkSync(target, link);
    expect(refusal(() => openStateDir(link, { create: true })).message).toMatch(/is a symbolic link/);
  });

  it('refuses a folder that belongs to someone else', () => {
    const st = lstatSync(dir);
    expect(refusal(() => checkStateDir(dir, st, st.uid + 1)).message).toMatch(new RegExp(`belongs to uid ${st.uid}, not to you`));
  });
});

describe('writePrivateFile', () => {
  it('never writes through a planted symlink: the link is replaced, its target untouched', () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const file = join(dir, 'run-42.json');
    symlinkSync(victim, file);
    writePrivateFile(file, '{"ok":true}');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('{"ok":true}');
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
  });

  it('reads only regular files of this user', () => {
    const link = join(dir, 'link.json');
    symlinkSync(join(dir, 'run-42.json'), link);
    expect(isOwnRegularFile(join(dir, 'run-42.json'))).toBe(true);
    expect(isOwnRegularFile(link)).toBe(false);
    expect(isOwnRegularFile(join(dir, 'run-42.json'), lstatSync(dir).uid + 1)).toBe(false);
  });
});
