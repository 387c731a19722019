/**
 * The CLI edge: argv and the environment are read here and nowhere else. Exit codes:
 * 0 every variant met its expectation, 1 one did not, 2 bad input, 3 a real part failed, 130 interrupted.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomSeed } from '../common/rng.js';
import { Errors } from '../errors/catalog.js';
import { LabError, isLabError } from '../errors/lab-error.js';
import { createConsoleReporter } from '../report/console.js';
import { runScenario } from '../run/runner.js';
import type { Params } from '../scenario/plan.js';
import { loadCluster, loadScenario } from '../scenario/load.js';
import { loadYamlFile } from '../scenario/load-yaml.js';
import { ScenarioFile } from '../scenario/schema.js';
import { cleanStale } from '../runtime/reaper.js';
import type { RunResult } from '../run/result.js';
import { CONFIG_FILE, chooseRunsDir, chooseRuntime, loadLabConfig, type LabConfig } from './config.js';
import { imagesCommand } from './images.js';
import { cleanDocker } from '../runtime/cluster-runtime.js';
import { reportCommand, REPORT_USAGE } from './report.js';
import { downCommand, shippedDashboard, upCommand } from './game-day.js';
import { listKept } from '../runtime/kept.js';
import { formatKept, formatKeptLine } from '../report/kept-view.js';
import { stopKept } from '../runtime/cluster-runtime.js';
import { parseSampleRatio, traceOptionsFromEnv } from '../trace/config.js';
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
  /** DOCKER_HOST; undefined: the local socket. */
  dockerHost: string | undefined;
  /** CHAOSLAB_CONFIG: a settings file other than ./chaoslab.config.yaml. */
  configFile?: string | undefined;
  /** The settings file's values, once loaded (flags and environment still win). */
  config?: LabConfig;
  /** The OTEL_* variables (OTLP endpoint, headers, …): the lab's traces follow them and the toys get them. */
  otel: Record<string, string | undefined>;
}

function readEnv(): CliEnv {
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
    dockerHost: e.DOCKER_HOST || undefined,
    configFile: e.CHAOSLAB_CONFIG || undefined,
    otel: Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('OTEL_'))),
  };
}

/** `--config FILE` may stand anywhere on the command line; it names the settings file for any command. */
function takeConfigFlag(argv: string[]): { argv: string[]; file: string | undefined } {
  const out: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') {
      file = argv[++i];
      if (file === undefined) throw new LabError(Errors.InvalidArgument, '--config needs a file', { hint: `e.g. --config ${CONFIG_FILE}` });
    } else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else out.push(a);
  }
  return { argv: out, file };
}

/** Settings from the file fill what neither a flag nor the environment set. */
function withConfig(env: CliEnv, flagFile: string | undefined): CliEnv {
  const config = loadLabConfig(env.cwd, flagFile ?? env.configFile);
  return { ...env, config, dockerHost: env.dockerHost ?? config.dockerHost };
}

const USAGE = `chaoslab — replay distributed-systems incidents on toy clusters

Usage:
  chaoslab list                         scenarios with their incident and lesson
  chaoslab validate [files...]          check scenario and cluster files (all under scenarios/ and clusters/ by default)
  chaoslab run <scenario.yaml> [options]
      --variant <name>     run only this variant (repeatable; default: all)
      --control            same load, no faults: every assertion should hold (the toy is healthy)
      --seed <n>           replay: same load sequence and fault timeline
      --set <node.param=value>  override a node parameter (repeatable), e.g. --set frontend.backendTimeoutMs=300
      --out <dir>          put the run folder under <dir> (default ./runs)
      --runtime <kind>     process (default) or docker: each toy node in its own container
      --json               print one JSON document instead of the human view
      --prometheus-port <n>, --toxiproxy-port <n>   fixed ports (default: free ones)
      --keep               leave the last variant's cluster, Toxiproxy and Prometheus up (faults healed) for a
                           game day; prints their addresses; \`chaoslab down\` stops them
      --live               the live view (faults, each assertion's value now) even when stdout is not a terminal
  chaoslab up <scenario.yaml> [options] start one variant's cluster, Toxiproxy and Prometheus and leave them up
      --variant <name>     which variant (default: the first)
      --load               drive the scenario's base load in the foreground; Ctrl-C stops the load, not the cluster
      --for <duration>     how long the load runs (default 10m, at most 8h)
      --set, --seed, --out, --json, --runtime, --prometheus-port, --toxiproxy-port   as for run
  chaoslab down [runDir | --all]        stop a kept run (run --keep, up); without arguments, the only one
      --trace-sample <r>   share of requests traced: 0.05 (default), 10%, 1/20; 0 = no traces
${REPORT_USAGE}
  chaoslab images build [--source auto|local|official] [--force] [--verbose]
                                        build the Docker runtime's images (offline from local files by default)
  chaoslab clean                        stop whatever crashed runs left behind (processes, containers, networks), and every kept run

Settings: ./chaoslab.config.yaml (or --config <file>, CHAOSLAB_CONFIG) may set runtime, out and dockerHost;
a flag or DOCKER_HOST beats the file.

Exit codes: 0 as expected, 1 a variant did not meet its expectation, 2 bad input, 3 a real part failed, 130 interrupted.`;

export async function main(rawArgv: string[], baseEnv: CliEnv = readEnv()): Promise<number> {
  let env = baseEnv;
  try {
    const { argv, file } = takeConfigFlag(rawArgv);
    const [command, ...rest] = argv;
    if (command === 'run' || command === 'up' || command === 'down' || command === 'clean' || command === 'images') env = withConfig(env, file);
    switch (command) {
      case 'run':
        return await runCommand(rest, env);
      case 'validate':
        return validateCommand(rest, env);
      case 'list':
        return listCommand(env);
      case 'clean':
        return await cleanCommand(env);
      case 'up':
        return await upCommand(rest, env);
      case 'down':
        return await downCommand(rest, env);
      case 'images':
        return await imagesCommand(rest, env);
      case 'report':
        return await reportCommand(rest, env);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        env.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new LabError(Errors.InvalidArgument, `unknown command "${command}"`, { hint: 'commands: list, validate, run, up, down, report, clean (chaoslab --help)' });
    }
  } catch (e) {
    return reportError(e, env);
  }
}

function reportError(e: unknown, env: CliEnv): number {
  if (isLabError(e)) {
    env.stderr.write(`chaoslab: ${e.title}\n${e.format()}\n`);
    return e.exitCode;
  }
  // Not a user's mistake: a bug of the lab. Say so, with the stack for the bug report.
  env.stderr.write(`chaoslab: internal error (a bug; please report it)\n${e instanceof Error ? e.stack : String(e)}\n`);
  return 1;
}

type ParseOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

export function parse(args: string[], options: ParseOptions) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new LabError(Errors.InvalidArgument, e instanceof Error ? e.message : String(e), { hint: 'see `chaoslab --help`' });
  }
}

export function parseSet(values: string[]): Record<string, Params> {
  const out: Record<string, Params> = {};
  for (const v of values) {
    const m = /^([a-z][a-z0-9-]*)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(v);
    if (!m) throw new LabError(Errors.InvalidArgument, `--set ${v}: expected node.param=value`, { hint: 'e.g. --set frontend.backendTimeoutMs=150' });
    const raw = m[3]!;
    const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
    (out[m[1]!] ??= {})[m[2]!] = value;
  }
  return out;
}

/** Options of every command that starts a cluster (`run`, `up`). */
export const CLUSTER_OPTIONS = {
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  'prometheus-port': { type: 'string' },
  'toxiproxy-port': { type: 'string' },
  runtime: { type: 'string' },
} as const satisfies ParseOptions;

/** `--prometheus-port` / `--toxiproxy-port`: a port number, or undefined for a free one. */
export function portOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new LabError(Errors.InvalidArgument, `--${name} ${v}: expected a port number from 1 to 65535`, { hint: `e.g. --${name} 9090` });
  return n;
}

async function runCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parse(args, {
    ...CLUSTER_OPTIONS,
    variant: { type: 'string', multiple: true },
    control: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    live: { type: 'boolean', default: false },
    'trace-sample': { type: 'string' },
  });
  const runtime = chooseRuntime(values.runtime as string | undefined, env.config);
  const traces = traceOptionsFromEnv(env.otel ?? {}, parseSampleRatio(values['trace-sample'] as string | undefined));
  const prometheusPort = portOption('prometheus-port', values['prometheus-port'] as string | undefined);
  const toxiproxyPort = portOption('toxiproxy-port', values['toxiproxy-port'] as string | undefined);
  if (positionals.length !== 1) {
    throw new LabError(Errors.InvalidArgument, positionals.length ? `run takes one scenario file, got ${positionals.length}` : 'run needs a scenario file', { hint: 'chaoslab run scenarios/hello-latency.yaml (chaoslab list shows them)' });
  }
  const file = path.resolve(env.cwd, positionals[0]!);
  let seed: number;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(String(values.seed)) || !Number.isSafeInteger(seed) || seed >= 2 ** 32) throw new LabError(Errors.InvalidArgument, `--seed ${String(values.seed)}: expected a whole number from 0 to 4294967295`, { hint: 'copy the seed a run printed, e.g. --seed 12345' });
  } else seed = randomSeed();
  const overrides = parseSet((values.set as string[] | undefined) ?? []);
  const plan = loadScenario(file, { overrides });
  const wanted = (values.variant as string[] | undefined) ?? undefined;
  for (const v of wanted ?? []) {
    if (!plan.variants.some((p) => p.name === v)) throw new LabError(Errors.InvalidArgument, `--variant ${v}: the scenario has no such variant`, { hint: `variants: ${plan.variants.map((p) => p.name).join(', ')}` });
  }
  const json = Boolean(values.json);
  if (json && values.live) throw new LabError(Errors.InvalidArgument, '--live and --json both write to stdout', { hint: 'choose one' });
  const live = !json && (Boolean(values.live) || Boolean(env.stdout.isTTY));
  const stillKept = listKept(env.stateDir);
  if (stillKept.length) env.stderr.write(`chaoslab: ${stillKept.length} kept run(s) still up (npx chaoslab down --all stops them):\n${stillKept.map((k) => `  ${formatKeptLine(k, env.cwd)}\n`).join('')}`);
  const rel = path.relative(env.cwd, file) || file;
  const command = ['npx chaoslab run', rel, ...(wanted ?? []).map((v) => `--variant ${v}`), ...(values.control ? ['--control'] : []), ...((values.set as string[] | undefined) ?? []).map((s) => `--set ${s}`), ...(runtime === 'process' ? [] : [`--runtime ${runtime}`]), ...(values['trace-sample'] !== undefined ? [`--trace-sample ${String(values['trace-sample'])}`] : []), `--seed ${seed}`].join(' ');

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
      control: Boolean(values.control),
      runsDir: chooseRunsDir(values.out as string | undefined, env.cwd, env.config),
      envPath: env.path,
      stateDir: env.stateDir,
      reporter: json ? {} : createConsoleReporter({ out: env.stdout, color: !env.noColor, live }),
      // The live view's assertion values: one instant query each per second, only while someone watches.
      ...(live ? { liveQueryIntervalMs: 1000 } : {}),
      ...(values.keep ? { keep: 'completed' as const } : {}),
      signal: abort.signal,
      ...(env.toxiproxyBinary ? { toxiproxyBinary: env.toxiproxyBinary } : {}),
      ...(env.prometheusBinary ? { prometheusBinary: env.prometheusBinary } : {}),
      ...(prometheusPort !== undefined ? { prometheusPort } : {}),
      ...(toxiproxyPort !== undefined ? { toxiproxyPort } : {}),
      command,
      runtime,
      ...(env.dockerHost ? { dockerHost: env.dockerHost } : {}),
      traces,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (json) env.stdout.write(`${JSON.stringify(toJson(result))}\n`);
  else if (result.kept) env.stdout.write(`\n${formatKept(result.kept, { color: !env.noColor, cwd: env.cwd, ...shippedDashboard(plan) })}\n`);
  if (values.keep && !result.kept) env.stderr.write('chaoslab: --keep: the run did not complete, so nothing was kept up; everything it started was stopped\n');
  if (abort.signal.aborted) return 130;
  const partFailure = result.variants.find((v) => v.status === 'failed');
  if (partFailure?.error) {
    if (!json) env.stderr.write(`chaoslab: a real part failed in variant ${partFailure.name}: ${partFailure.error.message}\n`);
    return 3;
  }
  return result.passed ? 0 : 1;
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

function isClusterFile(file: string): boolean {
  return path.basename(path.dirname(file)) === 'clusters';
}

function validateCommand(args: string[], env: CliEnv): number {
  const { positionals } = parse(args, {});
  const files = positionals.length ? positionals.map((f) => path.resolve(env.cwd, f)) : defaultFiles(env);
  let bad = 0;
  for (const f of files) {
    const rel = path.relative(env.cwd, f) || f;
    try {
      if (isClusterFile(f)) loadCluster(f);
      else loadScenario(f);
      env.stdout.write(`ok   ${rel}\n`);
    } catch (e) {
      if (!isLabError(e) || e.kind !== 'input') throw e;
      bad++;
      env.stderr.write(`FAIL ${rel}\n${e.format().replace(/^/gm, '  ')}\n`);
    }
  }
  if (bad) env.stderr.write(`${bad} of ${files.length} file(s) invalid\n`);
  return bad ? 2 : 0;
}

function listCommand(env: CliEnv): number {
  const base = existsSync(path.join(env.cwd, 'scenarios')) ? path.join(env.cwd, 'scenarios') : path.join(projectRoot, 'scenarios');
  const files = existsSync(base) ? readdirSync(base).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of files) {
    const file = path.join(base, f);
    try {
      const { data } = loadYamlFile(file, ScenarioFile, 'scenario');
      env.stdout.write(`${data.id}\n  ${data.title}\n  incident: ${data.incident.system}, ${data.incident.date}\n  lesson:   ${data.incident.lesson}\n  file:     ${path.relative(env.cwd, file)}\n  variants: ${Object.keys(data.variants).join(', ')}\n\n`);
    } catch (e) {
      env.stdout.write(`${f}\n  (invalid: run chaoslab validate ${path.relative(env.cwd, file)})\n\n`);
      if (!isLabError(e)) throw e;
    }
  }
  return 0;
}

async function cleanCommand(env: CliEnv): Promise<number> {
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
  if (keptStopped === 0 && killed.length === 0 && docker.removed.length === 0) env.stdout.write('nothing to clean\n');
  return 0;
}
