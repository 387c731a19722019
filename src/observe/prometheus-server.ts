import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { freePort, isPortFree } from '../common/ports.js';
import { isExecutableFile } from '../common/files.js';
import { trySignal } from '../runtime/proc.js';
import { Wait, WaitFailure } from '../runtime/wait/index.js';
import { PrometheusClient } from './prometheus-client.js';
import { JOB_NAME, waitForTargets, writeTargets, type ScrapeTarget } from './scrape-targets.js';

export type { ScrapeTarget } from './scrape-targets.js';

const INSTALL_HINT = "install Debian's package: `apt-get install prometheus` (or run `npm run setup`)";
const DEFAULT_BINARY = '/usr/bin/prometheus';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;

export interface PrometheusExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartedPrometheus {
  url: string;
  port: number;
  pid: number;
  dir: string;
  client: PrometheusClient;
  /** Resolves when the process ends, whether by stop() or by dying on its own. */
  exited: Promise<PrometheusExit>;
  /** Replaces the whole target list (file_sd; written atomically). */
  setTargets(targets: ScrapeTarget[]): Promise<void>;
  /** Resolves once every address has had a successful scrape (`health: up`). */
  waitForTargets(addresses: string[], timeoutMs: number): Promise<void>;
  /** SIGTERM to the process group, SIGKILL after 3 s. Idempotent. The TSDB stays in `<dir>/data`. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  binary: string;
  /** Run directory for prometheus.yml, targets.json and data/. */
  dir: string;
  /** 1000 or less: the lab judges seconds-long windows. */
  scrapeIntervalMs: number;
  /** Fixed port; by default a free loopback port is chosen. */
  port?: number;
  logFile: string;
  /** Targets present before the first discovery, so they skip the first discovery cycle. */
  initialTargets?: ScrapeTarget[];
  /** Prometheus `metric_relabel_configs` of the scrape job (a game day's participants' view drops the fault's metrics). */
  metricRelabelConfigs?: MetricRelabelConfig[];
}

/** One `metric_relabel_configs` rule, as Prometheus reads it. */
export interface MetricRelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  action: 'keep' | 'drop' | 'labeldrop' | 'labelkeep';
}

/**
 * Finds the Prometheus server binary: the explicit override, then `prometheus` in `envPath`
 * (the caller passes PATH: only the CLI edge reads the environment), then Debian's `/usr/bin/prometheus`.
 */
export function findPrometheusBinary(opts: { envPath?: string; override?: string }): string {
  if (opts.override !== undefined) {
    if (isExecutableFile(opts.override)) return opts.override;
    // An explicit choice that does not work is an error, not a reason to pick something else silently.
    throw new LabError(Errors.PrometheusMissing, `Prometheus binary ${opts.override} is not an executable file.`, {
      hint: `fix the path, or ${INSTALL_HINT}`,
    });
  }
  for (const dir of (opts.envPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'prometheus');
    if (isExecutableFile(candidate)) return candidate;
  }
  if (isExecutableFile(DEFAULT_BINARY)) return DEFAULT_BINARY;
  throw new LabError(Errors.PrometheusMissing, 'No `prometheus` on PATH nor at /usr/bin/prometheus.', {
    hint: INSTALL_HINT,
  });
}

export function renderPrometheusConfig(opts: { scrapeIntervalMs: number; targetsFile: string; metricRelabelConfigs?: MetricRelabelConfig[] }): string {
  const interval = `${opts.scrapeIntervalMs}ms`;
  return toYaml({
    global: {
      scrape_interval: interval,
      // The default 10s timeout would exceed the interval, which Prometheus refuses.
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    scrape_configs: [
      {
        job_name: JOB_NAME,
        // file_sd reacts to inotify at once; the refresh is only a fallback if an event is missed.
        file_sd_configs: [{ files: [opts.targetsFile], refresh_interval: '1s' }],
        ...(opts.metricRelabelConfigs?.length ? { metric_relabel_configs: opts.metricRelabelConfigs } : {}),
      },
    ],
  });
}

function readLogTail(logFile: string, fromByte: number, lines = 15): string {
  let all: string[];
  try {
    all = fs.readFileSync(logFile).subarray(fromByte).toString('utf8').trimEnd().split('\n');
  } catch {
    return '(no log)';
  }
  const tail = all.slice(-lines);
  // Flag errors print a long usage text after the one line that matters; keep that line.
  const errors = all.slice(0, -lines).filter((l) => /level=error|^Error|error:/i.test(l)).slice(-3);
  return [...errors, ...(errors.length > 0 ? ['…'] : []), ...tail].join('\n');
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  // Never signal a negative/zero "group": kill(-(-1)) or kill(0) would hit unrelated processes.
  if (!Number.isInteger(pid) || pid <= 1) return;
  // False when the group is already gone; EPERM and the like are thrown to the caller (stop() rejects).
  trySignal(-pid, signal);
}

function waitExit(exited: Promise<PrometheusExit>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

interface Attempt {
  child: ChildProcess;
  pid: number;
  exited: Promise<PrometheusExit>;
}

function spawnPrometheus(opts: StartPrometheusOptions, configFile: string, port: number): Attempt {
  const logFd = fs.openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      opts.binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
        // Loopback only; this is the one listener Prometheus opens.
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      // Own process group, so stop() and the reaper can signal everything it started at once.
      { detached: true, stdio: ['ignore', logFd, logFd], cwd: opts.dir },
    );
  } finally {
    fs.closeSync(logFd);
  }
  const exited = new Promise<PrometheusExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // spawn failures (ENOENT, EACCES) emit 'error' and no 'exit'.
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  return { child, pid: child.pid ?? -1, exited };
}

/** Starts a real Prometheus server scraping the targets in `<dir>/targets.json`, and waits until it is ready. */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<StartedPrometheus> {
  if (!Number.isInteger(opts.scrapeIntervalMs) || opts.scrapeIntervalMs <= 0 || opts.scrapeIntervalMs > 1000) {
    throw new RangeError(`scrapeIntervalMs must be an integer in 1..1000, got ${opts.scrapeIntervalMs}`);
  }
  await fs.promises.mkdir(path.join(opts.dir, 'data'), { recursive: true });
  await fs.promises.mkdir(path.dirname(opts.logFile), { recursive: true });
  const targetsFile = path.join(opts.dir, 'targets.json');
  const configFile = path.join(opts.dir, 'prometheus.yml');
  await writeTargets(targetsFile, opts.initialTargets ?? []);
  await fs.promises.writeFile(configFile, renderPrometheusConfig({ scrapeIntervalMs: opts.scrapeIntervalMs, targetsFile, ...(opts.metricRelabelConfigs ? { metricRelabelConfigs: opts.metricRelabelConfigs } : {}) }));

  if (opts.port !== undefined && !(await isPortFree(opts.port))) {
    throw new LabError(Errors.PortTaken, `Port ${opts.port} for Prometheus is already in use.`, {
      hint: 'choose another port, or leave it out to get a free one',
    });
  }

  // A port picked by freePort() can be taken before Prometheus binds it; then try another one.
  const maxAttempts = opts.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const logStart = fs.existsSync(opts.logFile) ? fs.statSync(opts.logFile).size : 0;
    const proc = spawnPrometheus(opts, configFile, port);
    let exit: PrometheusExit | undefined;
    void proc.exited.then((e) => (exit = e));

    let ready = true;
    try {
      await Wait.forHttp(`${url}/-/ready`)
        .withTimeout(READY_TIMEOUT_MS)
        .waitUntilReady({ name: 'Prometheus', gone: () => (exit ? 'exited' : undefined) });
    } catch (e) {
      if (!(e instanceof WaitFailure)) throw e;
      ready = false;
    }
    if (ready && !exit) return started(opts, proc, port, url, targetsFile);

    if (!exit) {
      killGroup(proc.pid, 'SIGKILL');
      await waitExit(proc.exited, STOP_GRACE_MS);
      throw new LabError(Errors.PrometheusFailed, `Prometheus was not ready within ${READY_TIMEOUT_MS / 1000}s.`, {
        hint: `see ${opts.logFile}; last lines:\n${readLogTail(opts.logFile, logStart)}`,
      });
    }
    const tail = readLogTail(opts.logFile, logStart);
    if (/address already in use/i.test(tail)) {
      if (attempt < maxAttempts) continue;
      throw new LabError(Errors.PortTaken, `Port ${port} for Prometheus is already in use.`, {
        hint: 'choose another port, or leave it out to get a free one',
      });
    }
    if (proc.pid < 0) {
      throw new LabError(Errors.PrometheusMissing, `Cannot start ${opts.binary}.`, { hint: INSTALL_HINT });
    }
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    throw new LabError(Errors.PrometheusFailed, `Prometheus exited during startup (${how}).`, {
      hint: `see ${opts.logFile}; last lines:\n${tail}`,
    });
  }
}

function started(opts: StartPrometheusOptions, proc: Attempt, port: number, url: string, targetsFile: string): StartedPrometheus {
  const client = new PrometheusClient(url);
  let exitedYet = false;
  void proc.exited.then(() => (exitedYet = true));
  let stopping: Promise<void> | undefined;

  return {
    url,
    port,
    pid: proc.pid,
    dir: opts.dir,
    client,
    exited: proc.exited,

    setTargets: (targets) => writeTargets(targetsFile, targets),

    waitForTargets: (addresses, timeoutMs) =>
      waitForTargets(client, addresses, timeoutMs, { name: 'Prometheus', gone: () => (exitedYet ? 'exited' : undefined) }, { logFile: opts.logFile }),

    stop() {
      stopping ??= (async () => {
        if (exitedYet) return;
        killGroup(proc.pid, 'SIGTERM');
        if (await waitExit(proc.exited, STOP_GRACE_MS)) return;
        killGroup(proc.pid, 'SIGKILL');
        await waitExit(proc.exited, STOP_GRACE_MS);
      })();
      return stopping;
    },
  };
}
