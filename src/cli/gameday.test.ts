/** `gameday` at the CLI edge, in-process: bad input is exit 2 with a clear message, and nothing starts. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, type CliEnv } from './main.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function cli() {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (c: Buffer, _e, done) => (add(c.toString()), done()) });
  const env: CliEnv = {
    cwd: root,
    path: '',
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    noColor: true,
    toxiproxyBinary: undefined,
    prometheusBinary: undefined,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'chaoslab-gameday-cli-')),
    dockerHost: undefined,
    otel: {},
  };
  return { run: (...argv: string[]) => main(argv, env), out: () => out, err: () => err };
}

describe('chaoslab gameday', () => {
  it.each([
    [['gameday'], 'gameday needs a command'],
    [['gameday', 'dance'], 'unknown gameday command "dance"'],
    [['gameday', 'start'], 'gameday start needs a scenario'],
    [['gameday', 'start', 'hello-latency', '--for', '2s'], '--for 2s: expected a duration from 10s to 8h'],
    [['gameday', 'start', 'hello-latency', '--team', 'a/b'], '--team "a/b"'],
    [['gameday', 'start', 'hello-latency', '--runtime', 'docker'], 'process runtime only'],
    [['gameday', 'declare'], 'gameday declare takes one text'],
    [['gameday', 'declare', 'p99 is high'], 'no game day is running'],
    [['gameday', 'end'], 'no game day is running'],
    [['gameday', 'par'], 'gameday par needs a scenario'],
    [['gameday', 'par', 'hello-latency', '--at', '5s,5s'], '--at 5s,5s: 5s is there twice'],
    [['gameday', 'par', 'hello-latency', '--at', 'soon'], '"soon" is not a duration'],
    [['gameday', 'par', 'hello-latency', '--seeds', '1,x'], '--seed x'],
    [['gameday', 'par', 'hello-latency', '--mitigation', 'prayer'], '--mitigation prayer: the cluster has no such mitigation'],
    [['gameday', 'par', 'hello-latency', '--runtime', 'docker'], 'process runtime only'],
    [['gameday', 'start', 'hello-latency', '--par', 'no-such-par.json'], 'no-such-par.json: no such file'],
  ])('%j: exit 2, %s', async (argv, message) => {
    const c = cli();
    expect(await c.run(...argv)).toBe(2);
    expect(c.err()).toContain(message);
    expect(c.err()).not.toMatch(/\n\s+at /);
  });
});
