/** `chaoslab --help` and `chaoslab help [command]`: rendered from the command table, like each command's usage. */
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { COMMANDS, isCommandName } from './commands.js';
import { didYouMean } from './did-you-mean.js';
import { formatExitCodes } from './exit-codes.js';
import { formatCommandUsage, formatOptionTable, GLOBAL_OPTIONS, wrap, type AnyOption, type CommandSpec } from './options.js';

export function formatOverview(version: string): string {
  const specs = Object.values(COMMANDS) as CommandSpec<unknown>[];
  const label = (s: CommandSpec<unknown>) => `${s.name} ${s.synopsis}`.trimEnd();
  const width = Math.max(...specs.map((s) => label(s).length));
  const column = 2 + width + 2;
  const commands = specs.map((s) => `  ${label(s).padEnd(width)}  ${wrap(s.summary, column)}`).join('\n');
  return [
    `chaoslab ${version}: replay distributed-systems incidents on toy clusters`,
    'Usage: chaoslab <command> [options]',
    `Commands:\n${commands}`,
    `Global options (every command):\n${formatOptionTable(GLOBAL_OPTIONS as Record<string, AnyOption>)}`,
    wrap('Settings: ./chaoslab.config.yaml (or --config <file>, CHAOSLAB_CONFIG) may set runtime, out and dockerHost; a flag or DOCKER_HOST beats the file.', 0),
    wrap(
      "Environment: CHAOSLAB_TOXIPROXY and CHAOSLAB_PROMETHEUS name the binaries to use; CHAOSLAB_STATE_DIR is where the reaper keeps its state and kept runs their records; DOCKER_HOST the Docker engine; OTEL_* where the lab's traces go; CHAOSLAB_DEBUG=1 prints an internal error's stack; NO_COLOR turns colour off.",
      0,
    ),
    formatExitCodes(),
    "A command's options: chaoslab <command> --help (or chaoslab help <command>).",
  ].join('\n\n');
}

/** `help` alone: the overview; `help run`: run's usage; `help rnu`: a usage error with a suggestion. */
export function helpText(topic: string | undefined, version: string): string {
  if (topic === undefined) return formatOverview(version);
  if (!isCommandName(topic)) throw unknownCommand(topic);
  return formatCommandUsage(COMMANDS[topic] as CommandSpec<unknown>);
}

export function unknownCommand(name: string): LabError {
  const names = Object.keys(COMMANDS);
  return new LabError(Errors.InvalidArgument, `unknown command "${name}"${didYouMean(name, names)}`, { hint: `commands: ${names.join(', ')} (chaoslab --help)` });
}
