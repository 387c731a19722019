import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLabError, type LabError } from '../errors/lab-error.js';
import { checkRunsDir, checkStateDir } from './folders.js';

function thrown(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    if (isLabError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'chaoslab-folders-'));

describe('checkRunsDir', () => {
  it('accepts a folder, or a path that can be made one, and creates nothing', () => {
    const d = tmp();
    expect(() => checkRunsDir(d, '--out')).not.toThrow();
    expect(() => checkRunsDir(path.join(d, 'a', 'b'), '--out')).not.toThrow();
  });

  it('refuses a file, naming the flag and the path (exit 2)', () => {
    const d = tmp();
    const file = path.join(d, 'file');
    writeFileSync(file, '');
    const e = thrown(() => checkRunsDir(file, '--out'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`--out ${file} is a file, not a folder`);
    expect(thrown(() => checkRunsDir(path.join(file, 'sub'), '--out')).message).toBe(`--out ${path.join(file, 'sub')}: ${file} is a file, so no folder can be made under it`);
  });

  it('refuses a folder that cannot be written', () => {
    // Root writes anywhere a mode allows nothing; a folder of /proc refuses even root.
    const ro = process.getuid?.() === 0 ? '/proc/1' : (() => {
      const d = path.join(tmp(), 'ro');
      mkdirSync(d);
      chmodSync(d, 0o500);
      return d;
    })();
    expect(thrown(() => checkRunsDir(ro, '--out')).message).toBe(`--out ${ro} is not writable by you`);
    expect(thrown(() => checkRunsDir(path.join(ro, 'runs'), '--out')).message).toBe(`--out ${path.join(ro, 'runs')}: ${ro} is not writable by you, so the folder cannot be made`);
  });
});

describe('checkStateDir', () => {
  it('names CHAOSLAB_STATE_DIR when it came from there', () => {
    const file = path.join(tmp(), 'state');
    writeFileSync(file, '');
    const e = thrown(() => checkStateDir(file, true));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`CHAOSLAB_STATE_DIR=${file} is a file, not a folder`);
    expect(e.hint).toContain('CHAOSLAB_STATE_DIR');
    expect(thrown(() => checkStateDir(file, false)).message).toBe(`the state folder ${file} is a file, not a folder`);
    expect(() => checkStateDir(tmp(), true)).not.toThrow();
  });
});
