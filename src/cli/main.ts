/**
 * The CLI edge: argv and the environment are read here and nowhere else. The commands and their options are
 * data (commands.ts); the exit codes are one table (exit-codes.ts): 0 as expected, 1 a variant missed its
 * expectation, 2 bad input, 3 a real part failed, 70 an internal error (a bug), 130 interrupted.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomSeed } from '../common/rng.js';
import { Errors } from '../errors/catalog.js';
import { LabError, isLabError } from '../errors/lab-error.js';
import { createConsoleReporter } from '../report/console.js';
import { runScenario } from '../run/runner.js';
import { reportWriters } from '../run/subscribers.js';
import { detectFileKind, loadAnyFile, loadScenario } from '../scenario/load.js';
import { missingAvailabilityFloors } from '../scenario/rules.js';
import { parseSet } from '../scenario/params.js';
import { loadYamlFile, shown } from '../scenario/load-yaml.js';
import { ScenarioFile } from '../scenario/schema.js';
import { cleanStale } from '../runtime/reaper.js';
import { incidentInfo, type RunResult } from '../run/result.js';
import { CONFIG_FILE, chooseRunsDir, chooseRuntime, kubeOptions, loadLabConfig, type LabConfig } from './config.js';
import { imagesCommand } from './images.js';
import { cleanDocker, cleanKubernetes } from '../runtime/cluster-runtime.js';
import { partsOptions } from './lab-parts.js';
import { reportCommand } from './report.js';
import { workshopCommand } from './workshop.js';
import { downCommand, shippedDashboard, upCommand } from './game-day.js';
import { gamedayCommand } from './gameday.js';
import { listKept } from '../runtime/kept.js';
import { formatKept, formatKeptLine } from '../report/kept-view.js';
import { stopKept } from '../runtime/cluster-runtime.js';
import { parseSampleRatio, traceOptionsFromEnv } from '../trace/config.js';
import { CLEAN, COMMANDS, isCommandName, LIST, RUN, VALIDATE, type CommandName } from './commands.js';
import { EXIT } from './exit-codes.js';
import { checkRunsDir, checkStateDir } from './folders.js';
import { formatOverview, helpText, unknownCommand } from './help.js';
import { formatCommandUsage, GLOBAL_OPTIONS, parseCommand, parseCommandLine, type CommandSpec } from './options.js';
import { didYouMean } from './did-you-mean.js';
import { resolveScenarioFile, scenariosDir } from './scenario-ref.js';
import { chaoslabVersion } from './version.js';
import { defaultStateDir } from '../runtime/state-dir.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface CliEnv {
  cwd: string;
  path: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  noColor: boolean;
  toxiproxyBinary: string | undefined;
  prometheusBinary: string | undefined;
  stateDir: string;
  /** The state folder came from CHAOSLAB_STATE_DIR (errors about it name the variable). */
  stateDirFromEnv?: boolean;
  /** DOCKER_HOST; undefined: the local socket. */
  dockerHost: string | undefined;
  /** CHAOSLAB_CONFIG: a settings file other than ./chaoslab.config.yaml. */
  configFile?: string | undefined;
  /** The settings file's values, once loaded (flags and environment still win). */
  config?: LabConfig;
  /** The OTEL_* variables (OTLP endpoint, headers, …): the lab's traces follow them and the toys get them. */
  otel: Record<string, string | undefined>;
  /** CHAOSLAB_DEBUG=1 or --debug: an internal error prints its stack. */
  debug?: boolean;
}

/** CHAOSLAB_DEBUG: set and not 0/false. */
function debugFromEnv(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function readEnv(): CliEnv {
  const e = process.env;
  return {
    cwd: process.cwd(),
    path: e.PATH ?? '',
    stdout: process.stdout,
    stderr: process.stderr,
    noColor: Boolean(e.NO_COLOR) || !process.stdout.isTTY,
    toxiproxyBinary: e.CHAOSLAB_TOXIPROXY || undefined,
    prometheusBinary: e.CHAOSLAB_PROMETHEUS || undefined,
    stateDir: defaultStateDir(e),
    stateDirFromEnv: Boolean(e.CHAOSLAB_STATE_DIR),
    dockerHost: e.DOCKER_HOST || undefined,
    configFile: e.CHAOSLAB_CONFIG || undefined,
    otel: Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('OTEL_'))),
    debug: debugFromEnv(e.CHAOSLAB_DEBUG),
  };
}

/**
 * `--config FILE` and `--debug` may stand anywhere on the command line (before a `--`), also before the
 * command; they apply to every command.
 */
export function takeGlobalFlags(argv: readonly string[]): { argv: string[]; configFile: string | undefined; debug: boolean } {
  const out: string[] = [];
  let configFile: string | undefined;
  let debug = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--config') {
      configFile = argv[++i];
      if (configFile === undefined || configFile.startsWith('--')) throw new LabError(Errors.InvalidArgument, '--config needs a file: --config <file>', { hint: `e.g. --config ${CONFIG_FILE}` });
    } else if (a.startsWith('--config=')) configFile = a.slice('--config='.length);
    else if (a === '--debug') debug = true;
    else out.push(a);
  }
  return { argv: out, configFile, debug };
}

/** Settings from the file fill what neither a flag nor the environment set. */
function withConfig(env: CliEnv, flagFile: string | undefined): CliEnv {
  const config = loadLabConfig(env.cwd, flagFile ?? env.configFile);
  return { ...env, config, dockerHost: env.dockerHost ?? config.dockerHost };
}

type Handler = (args: string[], env: CliEnv) => number | Promise<number>;

/** One handler per command of the table: a command without one fails the compile. */
const HANDLERS: { [K in CommandName]: Handler } = {
  list: (args, env) => listCommand(args, env),
  validate: (args, env) => validateCommand(args, env),
  run: (args, env) => runCommand(args, env),
  up: (args, env) => upCommand(args, env),
  down: (args, env) => downCommand(args, env),
  gameday: (args, env) => gamedayCommand(args, env),
  report: (args, env) => reportCommand(args, env),
  clean: (args, env) => cleanCommand(args, env),
  images: (args, env) => imagesCommand(args, env),
  workshop: (args, env) => workshopCommand(args, env),
  help: (args, env) => {
    const { positionals } = parseCommand(COMMANDS.help, args);
    env.stdout.write(`${helpText(positionals[0], chaoslabVersion())}\n`);
    return EXIT.ok;
  },
};

export async function main(rawArgv: string[], baseEnv: CliEnv = readEnv()): Promise<number> {
  let env = baseEnv;
  try {
    const { argv, configFile, debug } = takeGlobalFlags(rawArgv);
    if (debug) env = { ...env, debug: true };
    const [command, ...rest] = argv;
    if (command === undefined) {
      // A usage error: the overview goes to stderr, so stdout stays empty for tools.
      env.stderr.write(`${formatOverview(chaoslabVersion())}\n`);
      return EXIT.badInput;
    }
    if (command === '--help' || command === '-h') return await HANDLERS.help(rest, env);
    if (command === '--version' || command === '-V') {
      env.stdout.write(`chaoslab ${chaoslabVersion()}\n`);
      return EXIT.ok;
    }
    if (command.startsWith('-')) {
      const flags = Object.entries(GLOBAL_OPTIONS).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
      throw new LabError(Errors.InvalidArgument, `${command}: a command comes first${didYouMean(command, flags)}`, { hint: `chaoslab <command> [options]; commands: ${Object.keys(COMMANDS).join(', ')}` });
    }
    if (!isCommandName(command)) throw unknownCommand(command);
    const spec = COMMANDS[command] as CommandSpec<unknown>;
    const line = parseCommandLine(spec, rest);
    if (line.kind === 'help') {
      env.stdout.write(`${formatCommandUsage(spec)}\n`);
      return EXIT.ok;
    }
    if (line.kind === 'version') {
      env.stdout.write(`chaoslab ${chaoslabVersion()}\n`);
      return EXIT.ok;
    }
    if (spec.settings) env = withConfig(env, configFile);
    if (spec.stateDir) checkStateDir(env.stateDir, env.stateDirFromEnv ?? false);
    return await HANDLERS[command](rest, env);
  } catch (e) {
    return reportError(e, env);
  }
}

function reportError(e: unknown, env: CliEnv): number {
  if (isLabError(e) && e.kind !== 'internal') {
    env.stderr.write(`chaoslab: ${e.title}\n${e.format()}\n`);
    return e.exitCode;
  }
  return reportInternalError(e, env);
}

/**
 * Not a user's mistake nor a part failing: a bug of the lab. Exit 70 (EX_SOFTWARE) so scripts and CI never read
 * it as a verdict; the stack only when asked (--debug, CHAOSLAB_DEBUG=1), for the bug report.
 */
export function reportInternalError(e: unknown, env: Pick<CliEnv, 'stderr' | 'debug'>): number {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const stack = e instanceof Error && e.stack ? e.stack : what;
  env.stderr.write(
    `chaoslab: internal error: ${what}\n` +
      `  this is a bug in chaoslab, please report it (with the command line and \`chaoslab --version\`)\n` +
      (env.debug ? `${stack}\n` : '  run again with --debug (or CHAOSLAB_DEBUG=1) to see the stack trace\n'),
  );
  return EXIT.internal;
}

/** For bin/chaoslab.js: an exception nothing caught (a timer, a stream) is a bug too. */
export function crashed(e: unknown): number {
  const env = readEnv();
  return reportInternalError(e, { stderr: env.stderr, debug: Boolean(env.debug) || process.argv.includes('--debug') });
}

/** `--set node.param=value` parsing lives with the parameter types it is checked against. */
export { parseSet };

/** `--prometheus-port` / `--toxiproxy-port`: a port number, or undefined for a free one. */
export function portOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new LabError(Errors.InvalidArgument, `--${name} ${v}: expected a port number from 1 to 65535`, { hint: `e.g. --${name} 9090` });
  return n;
}

/** `--seed`: a whole number from 0 to 2^32-1, or a random one. */
export function seedOption(v: string | undefined): number {
  if (v === undefined) return randomSeed();
  const seed = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(seed) || seed >= 2 ** 32) throw new LabError(Errors.InvalidArgument, `--seed ${v}: expected a whole number from 0 to 4294967295`, { hint: 'copy the seed a run printed, e.g. --seed 12345' });
  return seed;
}

/** The scenario a command names (a path or an id), for `run`, `up` and `validate`. */
export function scenarioFile(ref: string, env: Pick<CliEnv, 'cwd'>): string {
  return resolveScenarioFile(ref, { cwd: env.cwd, projectRoot });
}

/** Where run folders go, checked before anything starts (a file there, or no write access, is exit 2). */
export function runsDirOf(out: string | undefined, env: Pick<CliEnv, 'cwd' | 'config'>): string {
  const dir = chooseRunsDir(out, env.cwd, env.config);
  checkRunsDir(dir, out !== undefined ? '--out' : env.config?.out !== undefined ? `out (${env.config.file ?? CONFIG_FILE})` : 'the run folder');
  return dir;
}

async function runCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(RUN, args);
  const runtime = chooseRuntime(values.runtime, env.config);
  const kube = kubeOptions(values, runtime);
  const traces = traceOptionsFromEnv(env.otel ?? {}, parseSampleRatio(values['trace-sample']));
  const prometheusPort = portOption('prometheus-port', values['prometheus-port']);
  const toxiproxyPort = portOption('toxiproxy-port', values['toxiproxy-port']);
  if (positionals.length !== 1) {
    throw new LabError(Errors.InvalidArgument, positionals.length ? `run takes one scenario, got ${positionals.length}` : 'run needs a scenario', { hint: 'chaoslab run hello-latency, or a file: chaoslab run scenarios/hello-latency.yaml (chaoslab list shows them)' });
  }
  const seed = seedOption(values.seed);
  const runsDir = runsDirOf(values.out, env);
  const file = scenarioFile(positionals[0]!, env);
  const overrides = parseSet(values.set);
  const plan = loadScenario(file, { overrides });
  const wanted = values.variant.length ? values.variant : undefined;
  for (const v of wanted ?? []) {
    if (!plan.variants.some((p) => p.name === v)) throw new LabError(Errors.InvalidArgument, `--variant ${v}: the scenario has no such variant${didYouMean(v, plan.variants.map((p) => p.name))}`, { hint: `variants: ${plan.variants.map((p) => p.name).join(', ')}` });
  }
  const json = values.json;
  if (json && values.live) throw new LabError(Errors.InvalidArgument, '--live and --json both write to stdout', { hint: 'choose one' });
  const live = !json && (values.live || Boolean(env.stdout.isTTY));
  const stillKept = listKept(env.stateDir);
  if (stillKept.length) env.stderr.write(`chaoslab: ${stillKept.length} kept run(s) still up (npx chaoslab down --all stops them):\n${stillKept.map((k) => `  ${formatKeptLine(k, env.cwd)}\n`).join('')}`);
  const rel = path.relative(env.cwd, file) || file;
  const command = ['npx chaoslab run', rel, ...(wanted ?? []).map((v) => `--variant ${v}`), ...(values.control ? ['--control'] : []), ...values.set.map((s) => `--set ${s}`), ...(runtime === 'process' ? [] : [`--runtime ${runtime}`]), ...(kube.imageRegistry !== undefined ? [`--image-registry ${kube.imageRegistry}`] : []), ...(values['trace-sample'] !== undefined ? [`--trace-sample ${values['trace-sample']}`] : []), `--seed ${seed}`].join(' ');

  // First Ctrl-C: heal, stop and report. Second: leave now; the reaper stops what is left.
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      env.stderr.write(`\nchaoslab: ${sig}: healing faults and stopping the cluster (again to force)\n`);
      abort.abort();
    } else {
      env.stderr.write('\nchaoslab: forced exit; the reaper stops what is left\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: RunResult;
  try {
    result = await runScenario(plan, {
      projectRoot,
      seed,
      ...(wanted ? { variants: wanted } : {}),
      control: values.control,
      runsDir,
      ...partsOptions(env),
      stateDir: env.stateDir,
      reporter: json ? {} : createConsoleReporter({ out: env.stdout, color: !env.noColor, live }),
      // junit.xml and report.html are written by subscribers of the run's events.
      subscribers: reportWriters,
      // The live view's assertion values: one instant query each per second, only while someone watches.
      ...(live ? { liveQueryIntervalMs: 1000 } : {}),
      ...(values.keep ? { keep: 'completed' as const } : {}),
      signal: abort.signal,
      ...(prometheusPort !== undefined ? { prometheusPort } : {}),
      ...(toxiproxyPort !== undefined ? { toxiproxyPort } : {}),
      command,
      runtime,
      ...(env.dockerHost ? { dockerHost: env.dockerHost } : {}),
      ...kube,
      traces,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (json) env.stdout.write(`${JSON.stringify(toJson(result))}\n`);
  else if (result.kept) env.stdout.write(`\n${formatKept(result.kept, { color: !env.noColor, cwd: env.cwd, ...shippedDashboard(plan) })}\n`);
  if (values.keep && !result.kept) env.stderr.write('chaoslab: --keep: the run did not complete, so nothing was kept up; everything it started was stopped\n');
  if (abort.signal.aborted) return EXIT.interrupted;
  const partFailure = result.variants.find((v) => v.status === 'failed');
  if (partFailure?.error) {
    if (!json) env.stderr.write(`chaoslab: a real part failed in variant ${partFailure.name}: ${partFailure.error.message}\n`);
    return EXIT.partFailed;
  }
  return result.passed ? EXIT.ok : EXIT.missed;
}

/** The stable `--json` shape; tools and CI build on it. */
export function toJson(r: RunResult) {
  return {
    scenario: r.scenario,
    seed: r.seed,
    control: r.control,
    passed: r.passed,
    runDir: r.runDir,
    command: r.command,
    ...(r.kept ? { kept: r.kept } : {}),
    ...(r.traces ? { traces: r.traces } : {}),
    variants: r.variants.map((v) => ({
      name: v.name,
      expect: v.expect,
      passed: v.passed,
      status: v.status,
      ...(v.error ? { error: v.error } : {}),
      load: v.load,
      faults: v.faults,
      ...(v.checkers ? { checkers: v.checkers } : {}),
      assertions: v.assertions.map((a) => ({
        name: a.name,
        passed: a.passed,
        expected: a.expected,
        outcome: a.outcome,
        window: a.window,
        condition: a.condition,
        observed: a.observed,
        reason: a.reason,
        ...(a.timeToRecoverSec !== undefined ? { timeToRecoverSec: a.timeToRecoverSec } : {}),
      })),
    })),
  };
}

function defaultFiles(env: CliEnv): string[] {
  const out: string[] = [];
  for (const dir of ['scenarios', 'clusters']) {
    const base = existsSync(path.join(env.cwd, dir)) ? path.join(env.cwd, dir) : path.join(projectRoot, dir);
    if (!existsSync(base)) continue;
    for (const f of readdirSync(base).sort()) if (/\.ya?ml$/.test(f)) out.push(path.join(base, f));
  }
  return out;
}

function validateCommand(args: string[], env: CliEnv): number {
  const { positionals } = parseCommand(VALIDATE, args);
  // A scenario id (`hello-latency`) is checked like its file; a path that exists wins.
  const files = positionals.length ? positionals.map((f) => scenarioFile(f, env)) : defaultFiles(env);
  let bad = 0;
  for (const f of files) {
    const rel = shown(path.relative(env.cwd, f) || f);
    try {
      const warnings = detectFileKind(f) === 'scenario' ? missingAvailabilityFloors(loadScenario(f)) : (loadAnyFile(f), []);
      env.stdout.write(`ok   ${rel}\n`);
      // The replay rule's availability floor: a warning, so a scenario without one still runs (README "Writing a scenario").
      for (const w of warnings) env.stderr.write(`  warning: ${w}\n`);
    } catch (e) {
      if (!isLabError(e) || e.kind !== 'input') throw e;
      bad++;
      env.stderr.write(`FAIL ${rel}\n${e.format().replace(/^/gm, '  ')}\n`);
    }
  }
  if (bad) env.stderr.write(`${bad} of ${files.length} file(s) invalid\n`);
  return bad ? EXIT.badInput : EXIT.ok;
}

/** Folded YAML text (`>`) keeps its line breaks inside a list entry: one line each. */
const oneLine = (t: string): string => t.replace(/\s+/g, ' ').trim();

function listCommand(args: string[], env: CliEnv): number {
  parseCommand(LIST, args);
  const base = scenariosDir(env.cwd, projectRoot);
  const files = existsSync(base) ? readdirSync(base).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of files) {
    const file = path.join(base, f);
    try {
      const { data } = loadYamlFile(file, ScenarioFile, 'scenario');
      const i = incidentInfo(data.incident);
      const sources = i.sources.map((src) => `\n            ${oneLine(src)}`).join('') || ' none cited';
      env.stdout.write(`${data.id}\n  ${data.title}\n  incident: ${oneLine(i.system)}, ${oneLine(i.date)}\n  summary:  ${oneLine(i.summary)}\n  lesson:   ${oneLine(i.lesson)}\n  sources:${sources}\n  file:     ${path.relative(env.cwd, file)}\n  variants: ${Object.keys(data.variants).join(', ')}\n\n`);
    } catch (e) {
      env.stdout.write(`${f}\n  (invalid: run chaoslab validate ${path.relative(env.cwd, file)})\n\n`);
      if (!isLabError(e)) throw e;
    }
  }
  return EXIT.ok;
}

async function cleanCommand(args: string[], env: CliEnv): Promise<number> {
  const { values } = parseCommand(CLEAN, args);
  // Kept runs first: their record owns their processes (the stale sweep leaves them alone).
  let keptStopped = 0;
  for (const k of listKept(env.stateDir)) {
    try {
      const stopped = await stopKept(env.stateDir, k);
      keptStopped++;
      env.stdout.write(`stopped kept run ${k.runDir}${stopped.length ? `: ${stopped.join(', ')}` : ''}\n`);
    } catch (e) {
      env.stderr.write(`chaoslab: could not stop kept run ${k.runDir}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const { killed } = await cleanStale(env.stateDir);

  for (const k of killed) env.stdout.write(`stopped ${k.label} (pid ${k.pid})\n`);
  const docker = await cleanDocker(env.dockerHost ? { dockerHost: env.dockerHost } : {});
  for (const r of docker.removed) env.stdout.write(`removed ${r.containers} container(s) and ${r.networks} network(s) of run ${r.runId}\n`);
  // Kubernetes only where the user has a cluster configured: no kubeconfig, no API server to ask.
  const kubeContext = values['kube-context'];
  const hasKubeconfig = kubeContext !== undefined || Boolean(process.env.KUBECONFIG) || existsSync(path.join(os.homedir(), '.kube', 'config'));
  const kube = hasKubeconfig ? await cleanKubernetes(kubeContext !== undefined ? { context: kubeContext } : {}) : { removed: [] };
  if ('skipped' in kube && kube.skipped && kubeContext !== undefined) env.stderr.write(`chaoslab: ${kube.skipped}\n`);
  for (const r of kube.removed) env.stdout.write(`deleted namespace ${r.namespace} of run ${r.runId}\n`);
  if (keptStopped === 0 && killed.length === 0 && docker.removed.length === 0 && kube.removed.length === 0) env.stdout.write('nothing to clean\n');
  return EXIT.ok;
}
