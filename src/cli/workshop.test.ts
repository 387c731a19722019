/** `chaoslab workshop` in-process, up to where a replay would start (check's replays are in test/e2e/workshop.test.ts). */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, type CliEnv } from './main.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function cli() {
  let out = '';
  let err = '';
  const env: CliEnv = {
    cwd: root,
    path: '',
    stdout: new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }),
    stderr: new Writable({ write: (c: Buffer, _e, done) => ((err += c.toString()), done()) }),
    noColor: true,
    toxiproxyBinary: undefined,
    prometheusBinary: undefined,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'chaoslab-workshop-state-')),
    dockerHost: undefined,
    otel: {},
  };
  return { out: () => out, err: () => err, run: (...argv: string[]) => main(argv, env) };
}

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'chaoslab-workshop-'));

describe('chaoslab workshop', () => {
  it('list --json gives the ladder in order with each exercise\'s functions and targets', async () => {
    const c = cli();
    expect(await c.run('workshop', 'list', '--json')).toBe(0);
    const { exercises } = JSON.parse(c.out()) as { exercises: { number: number; functions: string[]; targets: unknown[] }[] };
    expect(exercises[0]).toMatchObject({ number: 1, functions: ['timeoutMs', 'fallback'] });
    expect(exercises.map((e) => e.number)).toEqual(exercises.map((_, i) => i + 1));
  });

  it('start writes the starter and says what to do; a second start keeps the learner\'s edits', async () => {
    const d = dir();
    const c = cli();
    expect(await c.run('workshop', 'start', '1', '--dir', d)).toBe(0);
    expect(c.out()).toContain('timeoutMs(): number');
    expect(c.out()).toContain('chaoslab workshop check 1 --dir');
    const file = path.join(d, 'timeouts.ts');
    writeFileSync(file, '// mine\n');
    expect(await c.run('workshop', 'start', '1', '--dir', d)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('// mine\n');
    expect(c.out()).toContain('is already there');
  });

  it('check of a module that does not compile is the exercise failing (exit 1, kept as an attempt), before any replay', async () => {
    const d = dir();
    writeFileSync(path.join(d, 'timeouts.ts'), 'export function timeoutMs( { return 1 }\n');
    const c = cli();
    expect(await c.run('workshop', 'check', '1', '--dir', d, '--json')).toBe(1);
    const j = JSON.parse(c.out().trim().split('\n').pop()!) as { passed: boolean; problem: string };
    expect(j.passed).toBe(false);
    expect(j.problem).toMatch(/timeouts\.ts:1:\d+: /);
    expect(readdirSync(path.join(d, 'attempts', '01-timeouts-and-fallbacks'))).toEqual(['001.json']);
    expect(existsSync(path.join(d, 'runs'))).toBe(false);
  });

  it('bad input is exit 2 naming what is wrong: no module yet, an unknown exercise or subcommand, a bad seed, a misplaced flag', async () => {
    const d = dir();
    const cases: [string[], RegExp][] = [
      [['workshop', 'check', '1', '--dir', d], /no module for exercise 1[\s\S]*workshop start 1/],
      [['workshop', 'check', '42'], /no such exercise[\s\S]*exercises: 1 timeouts-and-fallbacks/],
      [['workshop', 'chek', '1'], /unknown subcommand[\s\S]*list, start, check, report/],
      [['workshop'], /needs a subcommand/],
      [['workshop', 'start'], /needs an exercise number/],
      [['workshop', 'check', '1', '--reference', '--seed', 'x'], /--seed x: expected a whole number/],
      [['workshop', 'start', '1', '--reference'], /belong to workshop check/],
      [['workshop', 'list', '1'], /takes no exercise/],
    ];
    for (const [argv, message] of cases) {
      const c = cli();
      expect(await c.run(...argv), argv.join(' ')).toBe(2);
      expect(c.err()).toMatch(message);
      expect(c.err()).not.toMatch(/\n\s+at /);
    }
  });

  it('report writes the page even before any attempt', async () => {
    const d = dir();
    const c = cli();
    expect(await c.run('workshop', 'report', '--dir', d, '--json')).toBe(0);
    const j = JSON.parse(c.out()) as { report: string; attempts: number };
    expect(j.attempts).toBe(0);
    expect(readFileSync(j.report, 'utf8')).toContain('No attempt yet');
  });
});
