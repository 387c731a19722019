/**
 * The lab's exit codes, one table: commands return them, `--help` and the README show them. 70 is sysexits'
 * EX_SOFTWARE (an internal software error), so a bug is never mistaken for a verdict or a user's mistake.
 */
export const ExitCodes = {
  ok: { code: 0, meaning: 'every variant met its expectation (or the command did what it was asked)' },
  missed: { code: 1, meaning: 'a variant did not meet its expectation' },
  badInput: { code: 2, meaning: 'bad input: a wrong flag, argument or file (nothing was started)' },
  partFailed: { code: 3, meaning: 'a real part failed (Toxiproxy, Prometheus, Docker, a node that would not start)' },
  internal: { code: 70, meaning: 'an internal error: a bug in chaoslab (please report it)' },
  interrupted: { code: 130, meaning: 'interrupted (Ctrl-C)' },
} as const satisfies Record<string, { code: number; meaning: string }>;

export type ExitCodeName = keyof typeof ExitCodes;
export type ExitCode = (typeof ExitCodes)[ExitCodeName]['code'];

export const EXIT = Object.fromEntries(Object.entries(ExitCodes).map(([k, v]) => [k, v.code])) as { [K in ExitCodeName]: (typeof ExitCodes)[K]['code'] };

/** The "Exit codes:" block of `--help`. */
export function formatExitCodes(): string {
  return ['Exit codes:', ...Object.values(ExitCodes).map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`)].join('\n');
}
