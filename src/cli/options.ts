/**
 * Command-line options as data. Each command's table is typed against the values it produces (as vitest's
 * `CLIOptions<Config>`): a boolean value needs a boolean flag, a list a repeatable one, and every option has a
 * description. The parser and the usage text are both made from the table, so `--help` cannot drift from what
 * the command accepts. Node's `parseArgs` splits the words; what is allowed is decided here, so an unknown flag
 * gets a "did you mean" and a missing value says which flag needs one.
 */
import { parseArgs } from 'node:util';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { didYouMean } from './did-you-mean.js';
import { formatExitCodes } from './exit-codes.js';

interface OptionText {
  /** One sentence or two: what the option does, its default. Shown by `--help`. */
  description: string;
  /** A one-letter alias, without the dash (`h` for `-h`). */
  short?: string;
}

/** The flag a value of type V comes from: boolean → a switch, string[] → repeatable, string → takes a value. */
type OptionShape<V> = [V] extends [boolean]
  ? { type: 'boolean' }
  : [V] extends [readonly string[]]
    ? { type: 'string'; multiple: true; /** The value's placeholder in usage: `<name>`. */ argument: string }
    : [V] extends [string | undefined]
      ? { type: 'string'; multiple?: never; argument: string }
      : never;

export type CliOption<V> = OptionText & OptionShape<V>;

/** Every key of the values a command reads has exactly one option, described. */
export type CliOptions<Values> = { readonly [K in keyof Values & string]-?: CliOption<Values[K]> };

/** Any row of any table, as the parser and the usage text read it. */
export type AnyOption = OptionText & { type: 'boolean' | 'string'; multiple?: boolean; argument?: string };

/** Options every command takes. `--config` and `--debug` may also stand before the command (main takes them). */
export interface GlobalValues {
  help: boolean;
  version: boolean;
  config?: string;
  debug: boolean;
}

export const GLOBAL_OPTIONS: CliOptions<GlobalValues> = {
  help: { type: 'boolean', short: 'h', description: "print this command's usage and exit" },
  version: { type: 'boolean', short: 'V', description: "print chaoslab's version and exit" },
  config: { type: 'string', argument: 'file', description: 'a settings file other than ./chaoslab.config.yaml (also CHAOSLAB_CONFIG)' },
  debug: { type: 'boolean', description: 'on an internal error, print its stack trace (also CHAOSLAB_DEBUG=1)' },
};

export interface CommandSpec<Values> {
  name: string;
  /** One line for the command list of `chaoslab --help`. */
  summary: string;
  /** What follows the command on its usage line, e.g. `<scenario> [options]`. */
  synopsis: string;
  /** Paragraphs under the usage line: the arguments, what the command does. */
  details?: readonly string[];
  options: CliOptions<Values>;
  /** At most this many positional arguments (unset: the command checks them itself). */
  maxPositionals?: number;
  examples?: readonly string[];
  /** Reads chaoslab.config.yaml (runtime, out, dockerHost). */
  settings?: boolean;
  /** Reads or writes the state folder (CHAOSLAB_STATE_DIR). */
  stateDir?: boolean;
}

/** What a command line asks for: the command's usage, the version, or the command with its values. */
export type CommandLine<Values> = { kind: 'help' } | { kind: 'version' } | { kind: 'command'; values: Values; positionals: string[] };

function allOptions(spec: CommandSpec<unknown>): Record<string, AnyOption> {
  return { ...(spec.options as Record<string, AnyOption>), ...(GLOBAL_OPTIONS as Record<string, AnyOption>) };
}

function flagOf(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function invalid(spec: CommandSpec<unknown>, message: string, hint?: string): LabError {
  return new LabError(Errors.InvalidArgument, `${spec.name}: ${message}`, { hint: hint ?? `chaoslab ${spec.name} --help lists its options` });
}

/**
 * Reads `args` (the words after the command) against the command's table. `--help` wins over everything else
 * on the line (even a wrong flag), then `--version`; anything not in the table is a usage error (exit 2).
 */
export function parseCommandLine<Values>(spec: CommandSpec<Values>, args: readonly string[]): CommandLine<Values> {
  const options = allOptions(spec as CommandSpec<unknown>);
  const nodeOptions = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }]),
  );
  // strict: false: unknown flags become tokens we judge ourselves, with a suggestion.
  const { tokens } = parseArgs({ args: [...args], options: nodeOptions, strict: false, allowPositionals: true, tokens: true });
  const given = tokens.filter((t) => t.kind === 'option');
  if (given.some((t) => t.name === 'help')) return { kind: 'help' };
  if (given.some((t) => t.name === 'version')) return { kind: 'version' };

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'boolean') values[name] = false;
    else if (o.multiple) values[name] = [];
  }
  const positionals: string[] = [];
  const longFlags = Object.keys(options).map((n) => `--${n}`);
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (!o) {
      // `-v`: among the one-letter flags (-V); `--varaint`: among the long ones.
      const short = !t.rawName.startsWith('--');
      const typed = short ? flagOf(t.name) : t.rawName;
      const candidates = short ? Object.values(options).flatMap((x) => (x.short ? [`-${x.short}`] : [])) : longFlags;
      throw invalid(spec as CommandSpec<unknown>, `unknown option ${typed}${didYouMean(typed, candidates)}`);
    }
    const flag = `--${t.name}`;
    if (o.type === 'boolean') {
      if (t.value !== undefined) throw invalid(spec as CommandSpec<unknown>, `${flag} takes no value (got ${flag}=${t.value})`, `write ${flag} alone`);
      values[t.name] = true;
      continue;
    }
    // `--seed --json`: the next word is a flag, so the value was forgotten.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
      throw invalid(spec as CommandSpec<unknown>, `${flag} needs a value: ${flag} <${o.argument ?? 'value'}>`, t.value === undefined ? undefined : `${t.value} is a flag; if it is the value, write ${flag}=${t.value}`);
    }
    if (o.multiple) (values[t.name] as string[]).push(t.value);
    else values[t.name] = t.value;
  }
  if (spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
    const extra = positionals.slice(spec.maxPositionals).map((p) => `"${p}"`).join(', ');
    throw invalid(spec as CommandSpec<unknown>, spec.maxPositionals === 0 ? `takes no arguments (got ${extra})` : `takes at most ${spec.maxPositionals} argument(s) (got also ${extra})`, `usage: chaoslab ${spec.name} ${spec.synopsis}`.trimEnd());
  }
  // The table and Values agree by construction (CliOptions<Values>), so this is the one cast.
  return { kind: 'command', values: values as Values, positionals };
}

/** For a command's own code: its values, once main has answered --help and --version. */
export function parseCommand<Values>(spec: CommandSpec<Values>, args: readonly string[]): { values: Values; positionals: string[] } {
  const line = parseCommandLine(spec, args);
  if (line.kind !== 'command') throw invalid(spec as CommandSpec<unknown>, `--${line.kind} is answered by the command line, not by the command`);
  return line;
}

const WIDTH = 100;

/** Words wrapped to `width`, every line after the first indented by `indent` spaces. */
export function wrap(text: string, indent: number, width = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function optionLabel(name: string, o: AnyOption): string {
  const long = `--${name}${o.type === 'string' ? ` <${o.argument ?? 'value'}>` : ''}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

/** Rows of `label  description`, the descriptions in one column and wrapped. */
export function formatOptionTable(options: Record<string, AnyOption>): string {
  const entries = Object.entries(options);
  const labelWidth = Math.min(32, Math.max(...entries.map(([n, o]) => optionLabel(n, o).length)));
  return entries
    .map(([name, o]) => {
      const label = optionLabel(name, o);
      const text = o.multiple ? `${o.description}; repeatable` : o.description;
      const column = 2 + labelWidth + 2;
      return label.length > labelWidth ? `  ${label}\n${' '.repeat(column)}${wrap(text, column)}` : `  ${label.padEnd(labelWidth)}  ${wrap(text, column)}`;
    })
    .join('\n');
}

/** `chaoslab <command> --help`: made from the command's table. */
export function formatCommandUsage(spec: CommandSpec<unknown>): string {
  const parts = [`Usage: chaoslab ${spec.name} ${spec.synopsis}`.trimEnd(), wrap(spec.summary, 0)];
  for (const d of spec.details ?? []) parts.push(wrap(d, 0));
  const own = spec.options as Record<string, AnyOption>;
  if (Object.keys(own).length) parts.push(`Options:\n${formatOptionTable(own)}`);
  parts.push(`Global options:\n${formatOptionTable(GLOBAL_OPTIONS as Record<string, AnyOption>)}`);
  if (spec.examples?.length) parts.push(`Examples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
  parts.push(formatExitCodes());
  return parts.join('\n\n');
}
