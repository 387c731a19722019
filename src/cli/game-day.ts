/**
 * Game days: `chaoslab up` starts one variant's cluster with Toxiproxy and Prometheus and leaves them up (with the
 * scenario's base load in the foreground if asked, bounded in time); `chaoslab down` stops a kept run (`up`, or
 * `run --keep`). The parts outlive the lab because the run's reaper hands them over to a kept-run record
 * (src/runtime/kept.ts), which `down` and `clean` read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../common/duration.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { createConsoleReporter } from '../report/console.js';
import { formatKept, formatKeptLine } from '../report/kept-view.js';
import { runScenario } from '../run/runner.js';
import type { ClusterUp } from '../run/reporter.js';
import { findKept, listKept, shownPath, type KeptRecord } from '../runtime/kept.js';
import { stopKept } from '../runtime/cluster-runtime.js';
import { chooseRuntime, kubeOptions } from './config.js';
import { loadScenario } from '../scenario/load.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import { DOWN, UP } from './commands.js';
import { EXIT } from './exit-codes.js';
import { partsOptions } from './lab-parts.js';
import { parseCommand } from './options.js';
import { parseSet, portOption, projectRoot, runsDirOf, scenarioFile, seedOption, type CliEnv } from './main.js';

/** How long `up --load` drives load by default, and at most: every load loop is bounded in time. */
export const UP_LOAD_DEFAULT_MS = 10 * 60_000;
export const UP_LOAD_MAX_MS = 8 * 3_600_000;

/**
 * The plan `up` runs: one variant, its base load only (no timeline, so no faults and no load steps), no assertions
 * or checker (nothing is judged), load for `loadMs` (0: none).
 */
export function upPlan(plan: ScenarioPlan, variant: string, loadMs: number): ScenarioPlan {
  return {
    ...plan,
    variants: plan.variants.filter((v) => v.name === variant),
    steps: [],
    assertions: [],
    checker: undefined,
    durationMs: loadMs,
    warmupMs: 0,
    // A history is for a checker; an hours-long one would only fill memory.
    workload: { ...plan.workload, history: false },
  };
}

/** `dashboards/<cluster>.json` for a plan's cluster file (`clusters/hello.yaml` → `dashboards/hello.json`). */
export function dashboardFor(plan: Pick<ScenarioPlan, 'clusterFile'>): string {
  return `dashboards/${path.basename(plan.clusterFile).replace(/\.ya?ml$/, '')}.json`;
}

/** The cluster's dashboard where the lab ships one (a cluster of your own may have none). */
export function shippedDashboard(plan: Pick<ScenarioPlan, 'clusterFile'>): { dashboard?: string } {
  const d = dashboardFor(plan);
  return existsSync(path.join(projectRoot, d)) ? { dashboard: d } : {};
}

export async function upCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(UP, args);
  if (positionals.length !== 1) {
    throw new LabError(Errors.InvalidArgument, positionals.length ? `up takes one scenario, got ${positionals.length}` : 'up needs a scenario', { hint: 'chaoslab up hello-latency --variant baseline --load' });
  }
  const runtime = chooseRuntime(values.runtime, env.config);
  const kube = kubeOptions(values, runtime);
  const prometheusPort = portOption('prometheus-port', values['prometheus-port']);
  const toxiproxyPort = portOption('toxiproxy-port', values['toxiproxy-port']);
  const load = values.load;
  const forText = values.for;
  if (forText !== undefined && !load) throw new LabError(Errors.InvalidArgument, '--for sets how long the load runs: it needs --load', { hint: 'chaoslab up <scenario> --load --for 15m' });
  const loadMs = load ? (forText === undefined ? UP_LOAD_DEFAULT_MS : parseDuration(forText)) : 0;
  if (loadMs === undefined || (load && (loadMs <= 0 || loadMs > UP_LOAD_MAX_MS))) {
    throw new LabError(Errors.InvalidArgument, `--for ${forText}: expected a duration from 1s to 8h, with a unit`, { hint: 'e.g. --for 15m' });
  }
  const seed = seedOption(values.seed);
  const runsDir = runsDirOf(values.out, env);
  const file = scenarioFile(positionals[0]!, env);
  const full = loadScenario(file, { overrides: parseSet(values.set) });
  const variant = values.variant ?? full.variants[0]!.name;
  if (!full.variants.some((v) => v.name === variant)) throw new LabError(Errors.InvalidArgument, `--variant ${variant}: the scenario has no such variant`, { hint: `variants: ${full.variants.map((v) => v.name).join(', ')}` });
  const plan = upPlan(full, variant, loadMs);
  const stillKept = listKept(env.stateDir);
  if (stillKept.length) env.stderr.write(`chaoslab: ${stillKept.length} kept run(s) still up (npx chaoslab down --all stops them):\n${stillKept.map((k) => `  ${formatKeptLine(k, env.cwd)}\n`).join('')}`);
  const json = values.json;
  const color = !env.noColor;

  // Ctrl-C ends the load; the cluster stays up (that is what `up` is for). Again: leave now, the reaper stops all.
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      env.stderr.write(`\nchaoslab: ${sig}: stopping the load; the cluster stays up (again to stop everything)\n`);
      abort.abort();
    } else {
      env.stderr.write('\nchaoslab: forced exit; the reaper stops everything\n');
      process.exit(130);
    }
  };
  const base = json ? {} : createConsoleReporter({ out: env.stdout, color, live: Boolean(env.stdout.isTTY) });
  let runDir = '';
  const reporter = {
    ...base,
    onRunStart: (i: Parameters<NonNullable<typeof base.onRunStart>>[0]) => {
      runDir = i.runDir;
      base.onRunStart?.(i);
    },
    // Nothing is judged: no verdict lines.
    onVariantEnd: undefined,
    onRunEnd: undefined,
    // With a load running in the foreground, where to point tools is needed now, not when it ends.
    onClusterUp:
      json || !load
        ? undefined
        : (i: ClusterUp) => {
            const info = { runId: '', scenario: plan.id, runDir, runtime, keptAt: '', ...i };
            env.stdout.write(`\n${formatKept(info, { color, cwd: env.cwd, ...shippedDashboard(full), verb: 'up' })}\n`);
            base.onMessage?.(`load: ${plan.workload.rate} req/s for ${forText ?? '10m'}; Ctrl-C stops the load, the cluster stays up`);
          },
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    result = await runScenario(plan, {
      projectRoot,
      seed,
      control: false,
      runsDir,
      ...partsOptions(env),
      stateDir: env.stateDir,
      reporter,
      signal: abort.signal,
      ...(prometheusPort !== undefined ? { prometheusPort } : {}),
      ...(toxiproxyPort !== undefined ? { toxiproxyPort } : {}),
      command: ['npx chaoslab up', path.relative(env.cwd, file) || file, `--variant ${variant}`, ...(load ? ['--load', ...(forText ? [`--for ${forText}`] : [])] : []), `--seed ${seed}`].join(' '),
      runtime,
      ...(env.dockerHost ? { dockerHost: env.dockerHost } : {}),
      ...kube,
      keep: 'always',
      report: false,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result.kept) {
    if (json) env.stdout.write(`${JSON.stringify({ scenario: result.scenario, seed: result.seed, runDir: result.runDir, load: result.variants[0]?.load ?? null, kept: result.kept })}\n`);
    else env.stdout.write(`\n${formatKept(result.kept, { color, cwd: env.cwd, ...shippedDashboard(full), verb: 'up' })}\n`);
    return EXIT.ok;
  }
  const failed = result.variants.find((v) => v.error);
  env.stderr.write(`chaoslab: the cluster did not come up${failed?.error ? `: ${failed.error.message}` : ''}; everything it started was stopped (see ${result.runDir})\n`);
  return failed?.error?.code === Errors.Interrupted.code || abort.signal.aborted ? EXIT.interrupted : EXIT.partFailed;
}

export async function downCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(DOWN, args);
  if (positionals.length > 1 || (values.all && positionals.length > 0)) {
    throw new LabError(Errors.InvalidArgument, 'down takes one run folder, or --all', { hint: 'chaoslab down runs/<time>-<scenario>' });
  }
  const kept = listKept(env.stateDir);
  let chosen: KeptRecord[];
  if (values.all) chosen = kept;
  else if (positionals.length === 1) {
    const runDir = path.resolve(env.cwd, positionals[0]!);
    const found = findKept(env.stateDir, runDir);
    if (!found) {
      throw new LabError(Errors.NoKeptRun, `nothing is kept up for ${runDir}`, {
        hint: kept.length ? `kept runs:\n${kept.map((k) => `    ${formatKeptLine(k, env.cwd)}`).join('\n')}` : 'no run is kept up (run --keep or up keep one)',
      });
    }
    chosen = [found];
  } else if (kept.length <= 1) chosen = kept;
  else {
    throw new LabError(Errors.NoKeptRun, `${kept.length} runs are kept up; say which`, { hint: `chaoslab down <runDir>, or --all:\n${kept.map((k) => `    ${formatKeptLine(k, env.cwd)}`).join('\n')}` });
  }
  if (chosen.length === 0) {
    env.stdout.write('nothing is kept up\n');
    return EXIT.ok;
  }
  for (const k of chosen) {
    const stopped = await stopKept(env.stateDir, k);
    env.stdout.write(`stopped ${shownPath(k.runDir, env.cwd)} (${k.scenario}, variant ${k.variant}): ${stopped.length ? stopped.join(', ') : 'nothing was still running'}\n`);
  }
  return EXIT.ok;
}
