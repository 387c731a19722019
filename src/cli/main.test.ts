/** The CLI in-process: what each command line prints and returns (no spawning; main.int.test.ts runs the bin). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LabError } from '../errors/lab-error.js';
import { COMMANDS } from './commands.js';
import { ExitCodes } from './exit-codes.js';
import { main, reportInternalError, takeGlobalFlags, type CliEnv } from './main.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const names = Object.keys(COMMANDS);

function sink(onWrite?: (s: string) => void) {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      onWrite?.(chunk.toString());
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

function cli(over: Partial<CliEnv> = {}) {
  const out = sink();
  const err = sink();
  const env: CliEnv = {
    cwd: root,
    path: '',
    stdout: out.stream,
    stderr: err.stream,
    noColor: true,
    toxiproxyBinary: undefined,
    prometheusBinary: undefined,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'chaoslab-main-state-')),
    dockerHost: undefined,
    otel: {},
    ...over,
  };
  return { env, out: out.text, err: err.text, run: (...argv: string[]) => main(argv, env) };
}

const NO_STACK = /\n\s+at /;

describe('--help', () => {
  it.each(names)('%s --help and -h print its usage on stdout and exit 0', async (name) => {
    for (const flag of ['--help', '-h']) {
      const c = cli();
      expect(await c.run(name, flag)).toBe(0);
      expect(c.out()).toMatch(new RegExp(`^Usage: chaoslab ${name}\\b`));
      expect(c.out()).toContain('Exit codes:');
      expect(c.err()).toBe('');
    }
  });

  it('help <command> prints the same usage', async () => {
    for (const name of names) {
      const a = cli();
      const b = cli();
      expect(await a.run('help', name)).toBe(0);
      await b.run(name, '--help');
      expect(a.out()).toBe(b.out());
    }
  });

  it('clean --help does not clean', async () => {
    const c = cli();
    expect(await c.run('clean', '--help')).toBe(0);
    expect(c.out()).not.toMatch(/nothing to clean|stopped|removed/);
  });

  it('run <scenario> --help is help, even after the scenario', async () => {
    const c = cli();
    expect(await c.run('run', 'hello-latency', '--help')).toBe(0);
    expect(c.out()).toMatch(/^Usage: chaoslab run <scenario>/);
  });

  it('--help, -h and help print the overview of every command', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const c = cli();
      expect(await c.run(...argv)).toBe(0);
      for (const name of names) expect(c.out()).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
      for (const e of Object.values(ExitCodes)) expect(c.out()).toContain(e.meaning);
    }
  });

  it('no command at all is a usage error: the overview goes to stderr, stdout stays empty', async () => {
    const c = cli();
    expect(await c.run()).toBe(2);
    expect(c.out()).toBe('');
    expect(c.err()).toContain('Usage: chaoslab <command>');
  });
});

describe('--version', () => {
  it.each([['--version'], ['-V'], ['run', '--version'], ['clean', '-V'], ['images', 'build', '--version']])('%s prints the package version', async (...argv) => {
    const c = cli();
    expect(await c.run(...argv)).toBe(0);
    expect(c.out()).toBe(`chaoslab ${version}\n`);
  });
});

describe('usage errors', () => {
  it.each(names)('%s refuses an unknown flag: exit 2, on stderr, no stack trace', async (name) => {
    const c = cli();
    expect(await c.run(name, '--no-such-flag')).toBe(2);
    expect(c.out()).toBe('');
    expect(c.err()).toContain(`${name}: unknown option --no-such-flag`);
    expect(c.err()).not.toMatch(NO_STACK);
  });

  it('suggests the flag meant', async () => {
    const c = cli();
    expect(await c.run('run', 'hello-latency', '--jsno')).toBe(2);
    expect(c.err()).toContain('unknown option --jsno (did you mean --json?)');
    expect(c.out()).toBe('');
  });

  it('refuses an unknown command, with a suggestion', async () => {
    const c = cli();
    expect(await c.run('rnu', 'hello-latency')).toBe(2);
    expect(c.err()).toContain('unknown command "rnu" (did you mean run?)');
    const h = cli();
    expect(await h.run('help', 'lst')).toBe(2);
    expect(h.err()).toContain('unknown command "lst" (did you mean list?)');
    const f = cli();
    expect(await f.run('--hepl')).toBe(2);
    expect(f.err()).toContain('(did you mean --help?)');
  });

  it('refuses an unknown scenario id with the close ids', async () => {
    const c = cli();
    expect(await c.run('run', 'hello-latncy', '--json')).toBe(2);
    expect(c.out()).toBe('');
    expect(c.err()).toContain('no scenario "hello-latncy"');
    expect(c.err()).toContain('did you mean hello-latency?');
  });

  it('refuses --out that is a file, and a state folder that is a file, before anything starts', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-main-'));
    const file = path.join(d, 'file');
    writeFileSync(file, '');
    const c = cli();
    expect(await c.run('run', 'hello-latency', '--out', file)).toBe(2);
    expect(c.err()).toContain(`--out ${file} is a file, not a folder`);
    const u = cli();
    expect(await u.run('up', 'hello-latency', '--out', file)).toBe(2);
    expect(u.err()).toContain(`--out ${file} is a file, not a folder`);
    for (const argv of [['run', 'hello-latency'], ['up', 'hello-latency'], ['down'], ['clean']]) {
      const s = cli({ stateDir: file, stateDirFromEnv: true });
      expect(await s.run(...argv), argv.join(' ')).toBe(2);
      expect(s.err()).toContain(`CHAOSLAB_STATE_DIR=${file} is a file, not a folder`);
      expect(s.out()).toBe('');
    }
  });
});

describe('scenario ids', () => {
  it('validate takes the id list prints', async () => {
    const c = cli();
    expect(await c.run('validate', 'hello-latency')).toBe(0);
    expect(c.out()).toBe(`ok   ${path.join('scenarios', 'hello-latency.yaml')}\n`);
    // Its mitigated variant has an availability floor: no warning.
    expect(c.err()).toBe('');
  });
});

describe('list', () => {
  it("shows each incident's summary, lesson and public sources", async () => {
    const c = cli();
    expect(await c.run('list')).toBe(0);
    const entry = c.out().split('\n\n').find((e) => e.startsWith('dynamodb-2015-metadata-cascade\n'))!;
    expect(entry).toMatch(/\n {2}summary: {2}A brief network disruption made many storage servers re-request their membership at once\. /);
    expect(entry).toMatch(/\n {2}lesson: {3}Keep the data plane statically stable/);
    expect(entry).toMatch(/\n {2}sources:\n {12}AWS, Summary of the Amazon DynamoDB Service Disruption/);
    expect(entry).toContain('aws.amazon.com/builders-library/static-stability-using-availability-zones/');
    // A folded YAML paragraph is one line in the listing.
    expect(entry.split('\n').find((l) => l.startsWith('  summary:'))).toContain('hours later.');
  });
});

describe('internal errors', () => {
  /** An error that is not a LabError: a bug. stdout's first write throws it. */
  function buggy(over: Partial<CliEnv> = {}) {
    const err = sink();
    const out = sink(() => {
      throw new TypeError('injected bug');
    });
    const c = cli({ stdout: out.stream, stderr: err.stream, ...over });
    return { ...c, err: err.text };
  }

  it('exit 70, say it is a bug, and show no stack trace unless asked', async () => {
    const c = buggy();
    expect(await c.run('list')).toBe(70);
    expect(c.err()).toContain('chaoslab: internal error: TypeError: injected bug');
    expect(c.err()).toContain('this is a bug in chaoslab, please report it');
    expect(c.err()).not.toMatch(NO_STACK);
  });

  it('--debug (anywhere) and CHAOSLAB_DEBUG show the stack', async () => {
    const a = buggy();
    expect(await a.run('list', '--debug')).toBe(70);
    expect(a.err()).toMatch(NO_STACK);
    const b = buggy();
    expect(await b.run('--debug', 'list')).toBe(70);
    expect(b.err()).toMatch(NO_STACK);
    const c = buggy({ debug: true });
    expect(await c.run('list')).toBe(70);
    expect(c.err()).toMatch(NO_STACK);
  });

  it('a LabError of kind internal is a bug too', () => {
    const err = sink();
    const e = new LabError({ code: 'CHAOSLAB_TEST', kind: 'internal', title: 'x' }, 'broken invariant');
    expect(e.exitCode).toBe(70);
    expect(reportInternalError(e, { stderr: err.stream })).toBe(70);
    expect(err.text()).toContain('this is a bug in chaoslab');
  });
});

describe('takeGlobalFlags', () => {
  it('takes --config and --debug anywhere before --', () => {
    expect(takeGlobalFlags(['--config', 'a.yaml', 'run', 'x', '--debug'])).toEqual({ argv: ['run', 'x'], configFile: 'a.yaml', debug: true });
    expect(takeGlobalFlags(['run', '--config=b.yaml'])).toEqual({ argv: ['run'], configFile: 'b.yaml', debug: false });
    expect(takeGlobalFlags(['validate', '--', '--debug'])).toEqual({ argv: ['validate', '--', '--debug'], configFile: undefined, debug: false });
    expect(() => takeGlobalFlags(['run', '--config'])).toThrow(/--config needs a file/);
  });
});

describe('README', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('documents every exit code', () => {
    const line = /\*\*Exit codes:\*\*([^\n]*(?:\n(?!\n)[^\n]*)*)/.exec(readme)?.[1] ?? '';
    for (const e of Object.values(ExitCodes)) expect(line, `exit ${e.code}`).toMatch(new RegExp(`(^|\\s)${e.code} `));
  });

  it("shows --help and --version in the command list under 'Using it'", () => {
    const using = readme.slice(readme.indexOf('## Using it'));
    const block = using.slice(0, using.indexOf('```', using.indexOf('```') + 3));
    expect(block).toContain('--help');
    expect(block).toContain('--version');
  });
});
