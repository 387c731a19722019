import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExactRunFolder, createRunFolder, stamp } from './run-folder.js';

describe('createRunFolder', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-runfolder-'));
    dirs.push(d);
    return d;
  };
  const at = new Date('2026-11-28T05:44:36.123Z');

  it('names the folder <UTC second>-<scenario>-<suffix> and creates the runs folder on the way', () => {
    const out = path.join(tmp(), 'runs', 'e2e');
    const f = createRunFolder(out, 'hello-latency', at, { pid: 1234 });
    expect(stamp(at)).toBe('20261128-054436');
    expect(f.name).toBe(`20261128-054436-hello-latency-${(1234).toString(36)}`);
    expect(readdirSync(out)).toEqual([f.name]);
  });

  it('two runs of one scenario started in the same second get two folders, also from one process', () => {
    const out = tmp();
    const a = createRunFolder(out, 'hello-latency', at, { pid: 1 });
    const b = createRunFolder(out, 'hello-latency', at, { pid: 2 });
    const c = createRunFolder(out, 'hello-latency', at, { pid: 2 });
    expect(new Set([a.dir, b.dir, c.dir]).size).toBe(3);
    expect(c.name).toBe(`${b.name}-2`);
    expect(readdirSync(out).sort()).toEqual([a.name, b.name, c.name].sort());
  });

  it('never reuses a folder that exists (the leaf is created without `recursive`)', () => {
    const calls: { dir: string; recursive: boolean }[] = [];
    const taken = new Set(['/runs/20261128-054436-s-1', '/runs/20261128-054436-s-1-2']);
    const mkdir = ((dir: string, o?: { recursive?: boolean }) => {
      calls.push({ dir, recursive: Boolean(o?.recursive) });
      if (!o?.recursive && taken.has(dir)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      return undefined;
    }) as typeof import('node:fs').mkdirSync;
    const f = createRunFolder('/runs', 's', at, { pid: 1, mkdir });
    expect(f.dir).toBe('/runs/20261128-054436-s-1-3');
    expect(calls.filter((c) => c.dir !== '/runs').every((c) => !c.recursive)).toBe(true);
  });

  it('an exact folder that already exists is refused', () => {
    const out = tmp();
    const dir = path.join(out, 'mine');
    expect(createExactRunFolder(dir).dir).toBe(dir);
    expect(() => createExactRunFolder(dir)).toThrow(/already exists/);
  });
});
