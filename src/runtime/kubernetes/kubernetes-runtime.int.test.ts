/** The program the Kubernetes runtime execs in a pod to set its clock, run here with this machine's node. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clockWriteCommand } from './kubernetes-runtime.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-clock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the in-pod clock write', () => {
  it('replaces the control file atomically with the text (a leading minus is not taken for an option), world-readable', () => {
    const spec = { name: 'a', fakeClock: { library: '/x', controlFile: '/lab/run/clock/a.faketime' } } as Parameters<typeof clockWriteCommand>[1];
    const command = clockWriteCommand(process.execPath, spec, '-3s');
    expect(command.at(-2)).toBe('/chaoslab/clock/a.faketime');
    const file = path.join(dir, 'a.faketime');
    const run = (text: string) => execFileSync(command[0]!, [...command.slice(1, -2), file, text]);
    run('-3s');
    expect(readFileSync(file, 'utf8')).toBe('-3s\n');
    run('+0 x1');
    expect(readFileSync(file, 'utf8')).toBe('+0 x1\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['a.faketime']);
  });
});
