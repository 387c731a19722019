import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { freePort, isPortFree } from '../common/ports.js';
import { sleep } from '../common/time.js';
import { PrometheusClient, type ActiveTarget } from './prometheus-client.js';

const INSTALL_HINT = "install Debian's package: `apt-get install prometheus` (or run `npm run setup`)";
const DEFAULT_BINARY = '/usr/bin/prometheus';
const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 50;
const STOP_GRACE_MS = 3_000;
const JOB_NAME = 'chaoslab';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface ScrapeTarget {
  /** `host:port` */
  address: string;
  /** Defaults to `/metrics`. */
  metricsPath?: string;
  labels: Record<string, string>;
}

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
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
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

export function renderPrometheusConfig(opts: { scrapeIntervalMs: number; targetsFile: string }): string {
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
      },
    ],
  });
}

function validateTargets(targets: ScrapeTarget[]): void {
  for (const t of targets) {
    if (!/^[^\s/:]+:\d{1,5}$/.test(t.address)) {
      throw new LabError(Errors.InvalidField, `Scrape target address "${t.address}" is not host:port.`);
    }
    if (t.metricsPath !== undefined && !t.metricsPath.startsWith('/')) {
      throw new LabError(Errors.InvalidField, `Metrics path "${t.metricsPath}" must start with "/".`);
    }
    for (const name of Object.keys(t.labels)) {
      // `__`-prefixed labels are Prometheus internals (e.g. __address__), not user labels.
      if (!LABEL_NAME.test(name) || name.startsWith('__')) {
        throw new LabError(Errors.InvalidField, `"${name}" is not a valid Prometheus label name.`, {
          hint: 'use letters, digits and underscores, not starting with a digit or "__"',
        });
      }
    }
  }
}

function renderTargets(targets: ScrapeTarget[]): string {
  const groups = targets.map((t) => ({
    targets: [t.address],
    labels: t.metricsPath && t.metricsPath !== '/metrics' ? { ...t.labels, __metrics_path__: t.metricsPath } : t.labels,
  }));
  return JSON.stringify(groups, null, 2) + '\n';
}

/** Write-then-rename so Prometheus never reads a half-written file. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, content);
  await fs.promises.rename(tmp, file);
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
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function waitExit(exited: Promise<PrometheusExit>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
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
  const initial = opts.initialTargets ?? [];
  validateTargets(initial);
  await writeAtomically(targetsFile, renderTargets(initial));
  await fs.promises.writeFile(configFile, renderPrometheusConfig({ scrapeIntervalMs: opts.scrapeIntervalMs, targetsFile }));

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

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!exit && Date.now() < deadline) {
      if (await isReady(url)) {
        ready = true;
        break;
      }
      await sleep(POLL_MS);
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

    async setTargets(targets) {
      validateTargets(targets);
      await writeAtomically(targetsFile, renderTargets(targets));
    },

    async waitForTargets(addresses, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: ActiveTarget[] = [];
      let lastQueryError = '';
      for (;;) {
        if (exitedYet) {
          throw new LabError(Errors.PrometheusFailed, 'Prometheus exited while waiting for scrape targets.', {
            hint: `see ${opts.logFile}`,
          });
        }
        try {
          last = (await client.targets()).filter((t) => t.scrapePool === JOB_NAME);
          lastQueryError = '';
          if (addresses.every((a) => last.some((t) => t.discoveredLabels['__address__'] === a && t.health === 'up'))) {
            return;
          }
        } catch (e) {
          lastQueryError = e instanceof Error ? e.message : String(e);
        }
        if (Date.now() >= deadline) break;
        await sleep(POLL_MS);
      }
      const notUp = addresses
        .map((a) => {
          const t = last.find((x) => x.discoveredLabels['__address__'] === a);
          if (!t) return `${a} (not discovered)`;
          if (t.health === 'up') return undefined;
          return `${a} (${t.health}${t.lastError ? `: ${t.lastError}` : ', not scraped yet'})`;
        })
        .filter((x): x is string => x !== undefined);
      throw new LabError(
        Errors.PrometheusFailed,
        `Scrape targets not up after ${timeoutMs}ms: ${notUp.join('; ') || lastQueryError || 'unknown'}.`,
        { hint: 'check that each target serves metrics at its address and path' },
      );
    },

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
