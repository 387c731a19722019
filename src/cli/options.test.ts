import { describe, expect, it } from 'vitest';
import { isLabError, type LabError } from '../errors/lab-error.js';
import { COMMANDS, RUN, UP, type RunValues } from './commands.js';
import { ExitCodes } from './exit-codes.js';
import { formatCommandUsage, GLOBAL_OPTIONS, parseCommand, parseCommandLine, wrap, type AnyOption, type CliOptions, type CommandSpec } from './options.js';

function usageError(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    if (isLabError(e)) return e;
    throw e;
  }
  throw new Error('expected a usage error');
}

const specs = Object.values(COMMANDS) as CommandSpec<unknown>[];

describe('option tables are typed against the values they produce', () => {
  it('refuses a table that misses an option, lacks a description or has the wrong kind (compile-time)', () => {
    interface V {
      json: boolean;
      seed?: string;
      set: string[];
    }
    const good: CliOptions<V> = {
      json: { type: 'boolean', description: 'd' },
      seed: { type: 'string', argument: 'n', description: 'd' },
      set: { type: 'string', multiple: true, argument: 'k=v', description: 'd' },
    };
    // @ts-expect-error: `set` is missing
    const missing: CliOptions<V> = { json: good.json, seed: good.seed };
    // @ts-expect-error: every option has a description
    const undescribed: CliOptions<V> = { ...good, json: { type: 'boolean' } };
    // @ts-expect-error: a boolean value comes from a switch, not a flag with a value
    const wrongKind: CliOptions<V> = { ...good, json: { type: 'string', argument: 'x', description: 'd' } };
    // @ts-expect-error: a list comes from a repeatable flag
    const notRepeatable: CliOptions<V> = { ...good, set: { type: 'string', argument: 'x', description: 'd' } };
    expect([missing, undescribed, wrongKind, notRepeatable]).toHaveLength(4);
  });

  it('parses into the typed values, with defaults for switches and lists', () => {
    const { values, positionals } = parseCommand(RUN, ['hello-latency', '--seed', '7', '--set', 'a.b=1', '--set=c.d=2', '--json', '--variant', 'baseline']);
    const typed: RunValues = values;
    expect(typed).toMatchObject({ seed: '7', set: ['a.b=1', 'c.d=2'], json: true, variant: ['baseline'], control: false, keep: false, live: false });
    expect(typed.out).toBeUndefined();
    expect(positionals).toEqual(['hello-latency']);
  });
});

describe('parseCommandLine', () => {
  it('answers --help and -h on every command, wherever they stand, even beside a wrong flag', () => {
    for (const spec of specs) {
      expect(parseCommandLine(spec, ['--help']).kind, spec.name).toBe('help');
      expect(parseCommandLine(spec, ['-h']).kind, spec.name).toBe('help');
      expect(parseCommandLine(spec, ['x', '--bogus', '--help']).kind, spec.name).toBe('help');
    }
    expect(parseCommandLine(RUN, ['hello-latency', '--help']).kind).toBe('help');
  });

  it('answers --version and -V on every command', () => {
    for (const spec of specs) {
      expect(parseCommandLine(spec, ['--version']).kind, spec.name).toBe('version');
      expect(parseCommandLine(spec, ['-V']).kind, spec.name).toBe('version');
    }
    expect(parseCommandLine(RUN, ['-V', '-h']).kind).toBe('help');
  });

  it('refuses an unknown flag on every command, with a suggestion when one is close', () => {
    for (const spec of specs) {
      const e = usageError(() => parseCommandLine(spec, ['--bogus-flag']));
      expect(e.exitCode, spec.name).toBe(2);
      expect(e.message).toBe(`${spec.name}: unknown option --bogus-flag`);
      expect(e.hint).toContain(`chaoslab ${spec.name} --help`);
    }
    expect(usageError(() => parseCommandLine(RUN, ['--varaint', 'baseline'])).message).toBe('run: unknown option --varaint (did you mean --variant?)');
    expect(usageError(() => parseCommandLine(UP, ['--lod'])).message).toBe('up: unknown option --lod (did you mean --load?)');
    expect(usageError(() => parseCommandLine(COMMANDS.down, ['--al'])).message).toBe('down: unknown option --al (did you mean --all?)');
    expect(usageError(() => parseCommandLine(RUN, ['-v'])).message).toBe('run: unknown option -v (did you mean -V?)');
  });

  it('refuses a flag of another command', () => {
    expect(usageError(() => parseCommandLine(COMMANDS.list, ['--json'])).message).toBe('list: unknown option --json');
    expect(usageError(() => parseCommandLine(UP, ['--control'])).message).toContain('unknown option --control');
  });

  it('says which flag lacks its value, also when the next word is a flag', () => {
    expect(usageError(() => parseCommandLine(RUN, ['x', '--seed'])).message).toBe('run: --seed needs a value: --seed <n>');
    const e = usageError(() => parseCommandLine(RUN, ['x', '--seed', '--json']));
    expect(e.message).toBe('run: --seed needs a value: --seed <n>');
    expect(e.hint).toContain('--seed=--json');
    expect(parseCommand(RUN, ['x', '--set=--odd']).values.set).toEqual(['--odd']);
  });

  it('refuses a value given to a switch', () => {
    expect(usageError(() => parseCommandLine(RUN, ['x', '--json=yes'])).message).toBe('run: --json takes no value (got --json=yes)');
  });

  it('refuses extra arguments where a command takes none', () => {
    expect(usageError(() => parseCommandLine(COMMANDS.clean, ['now'])).message).toBe('clean: takes no arguments (got "now")');
    expect(usageError(() => parseCommandLine(COMMANDS.list, ['a', 'b'])).message).toBe('list: takes no arguments (got "a", "b")');
    expect(parseCommand(COMMANDS.validate, ['a', 'b', 'c']).positionals).toEqual(['a', 'b', 'c']);
  });

  it('takes words after -- as arguments', () => {
    expect(parseCommand(COMMANDS.validate, ['--', '--weird-name.yaml']).positionals).toEqual(['--weird-name.yaml']);
  });
});

describe('usage text', () => {
  it("shows every option of every command's table, with its description and value", () => {
    for (const spec of specs) {
      const usage = formatCommandUsage(spec);
      expect(usage.startsWith(`Usage: chaoslab ${spec.name}`), spec.name).toBe(true);
      const table: Record<string, AnyOption> = { ...(spec.options as Record<string, AnyOption>), ...GLOBAL_OPTIONS };
      const flat = usage.replace(/\s+/g, ' ');
      for (const [name, o] of Object.entries(table)) {
        expect(usage, `${spec.name} --${name}`).toMatch(new RegExp(`--${name}${o.argument ? ` <${o.argument.replace(/[|]/g, '\\|')}>` : ''}(\\s|$)`));
        expect(flat, `${spec.name} --${name}`).toContain(o.description.replace(/\s+/g, ' '));
        if (o.short) expect(usage).toContain(`-${o.short}, --${name}`);
      }
    }
  });

  it('documents every exit code', () => {
    for (const spec of specs) for (const e of Object.values(ExitCodes)) expect(formatCommandUsage(spec)).toMatch(new RegExp(`\\b${e.code}\\b  ${e.meaning.replace(/[()]/g, '\\$&')}`));
  });

  it('keeps lines within 100 columns where words allow', () => {
    for (const spec of specs) for (const line of formatCommandUsage(spec).split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});

describe('wrap', () => {
  it('breaks between words and indents the next lines', () => {
    expect(wrap('aaa bbb ccc', 2, 8)).toBe('aaa\n  bbb\n  ccc');
    expect(wrap('aaa bbb ccc', 2, 9)).toBe('aaa bbb\n  ccc');
    expect(wrap('one', 4)).toBe('one');
  });
});
