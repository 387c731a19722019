import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors/lab-error.js';
import { Errors } from '../errors/catalog.js';
import { freePort, isPortFree } from '../common/ports.js';
import { sleep } from '../common/time.js';
import { isExecutableFile } from '../common/files.js';
import { trySignal } from '../runtime/proc.js';
import { Wait } from '../runtime/wait/index.js';
import { ToxiproxyApi } from './toxiproxy-api.js';

export const TOXIPROXY_BINARY_NAME = 'toxiproxy-server';
const MISSING_HINT =
  'run `npm run setup` (installs it with go install into .tools/bin) or put toxiproxy-server on PATH';

/**
 * Finds the toxiproxy-server binary: explicit override, then PATH (`envPath`, searched here
 * rather than via a shell; the CLI edge passes process.env.PATH), then `<projectRoot>/.tools/bin`.
 */
export function findToxiproxyBinary(opts: { projectRoot: string; envPath?: string; override?: string }): string {
  if (opts.override !== undefined && opts.override !== '') {
    const p = path.resolve(opts.override);
    if (isExecutableFile(p)) return p;
    throw new LabError(Errors.ToxiproxyMissing, `toxiproxy-server not found or not executable at ${p}`, {
      hint: MISSING_HINT,
    });
  }
  const tried: string[] = [];
  for (const dir of (opts.envPath ?? '').split(path.delimiter)) {
    if (dir === '') continue; // an empty PATH entry means cwd; never pick up binaries from there
    const p = path.resolve(dir, TOXIPROXY_BINARY_NAME);
    if (isExecutableFile(p)) return p;
  }
  if (opts.envPath) tried.push('PATH');
  const local = path.join(opts.projectRoot, '.tools', 'bin', TOXIPROXY_BINARY_NAME);
  if (isExecutableFile(local)) return local;
  tried.push(local);
  throw new LabError(Errors.ToxiproxyMissing, `toxiproxy-server not found (looked in ${tried.join(', ')})`, {
    hint: MISSING_HINT,
  });
}

export interface StartedToxiproxy {
  /** API base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  port: number;
  pid: number;
  /** Prometheus metrics path on `url` (the server runs with -proxy-metrics). */
  metricsPath: '/metrics';
  client: ToxiproxyApi;
  /** SIGTERM to the process group, SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** Lets the server outlive the lab (a kept run): drops the last-resort kill at the lab's exit. */
  release?(): void;
  /** Resolves when the server ends, by stop() or on its own (the run's part watch fails the variant then). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartToxiproxyOptions {
  binary: string;
  /** stdout and stderr go here (appended). */
  logFile: string;
  seed: number;
  /** Fixed API port; when omitted a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  /** Default 10 s. */
  readyTimeoutMs?: number;
}

const POLL_MS = 20;
const STOP_GRACE_MS = 2_000;
const BIND_ERROR = /address already in use/;
const SERVER_ERROR = /"Server finished with error"/;

/**
 * Starts toxiproxy-server on 127.0.0.1 in its own process group (so a reaper can kill the group)
 * and waits until `GET /version` answers.
 */
export async function startToxiproxy(opts: StartToxiproxyOptions): Promise<StartedToxiproxy> {
  if (opts.port !== undefined) {
    if (!(await isPortFree(opts.port))) throw portTaken(opts.port);
    return startOnce(opts, opts.port);
  }
  // freePort leaves a small race; retry a couple of times with a fresh port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(opts, port);
    } catch (e) {
      if (attempt < 3 && e instanceof LabError && e.code === Errors.PortTaken.code) continue;
      throw e;
    }
  }
}

function portTaken(port: number): LabError {
  return new LabError(Errors.PortTaken, `Toxiproxy API port 127.0.0.1:${port} is already taken`, {
    hint: 'choose another port or stop the process that holds it (`ss -ltnp`)',
  });
}

async function startOnce(opts: StartToxiproxyOptions, port: number): Promise<StartedToxiproxy> {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  // Only this attempt's output counts when we look for errors (the file is appended to).
  const logStart = fs.fstatSync(logFd).size;
  const args = ['-host', '127.0.0.1', '-port', String(port), '-proxy-metrics', '-seed', String(Math.trunc(opts.seed))];
  let child: ChildProcess;
  try {
    child = spawn(opts.binary, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    fs.closeSync(logFd); // the child holds its own copy
  }

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) resolve(); // never started: no 'exit' will follow
    });
  });

  const pid = child.pid;
  const url = `http://127.0.0.1:${port}`;
  const client = new ToxiproxyApi(url);

  let stopping: Promise<void> | undefined;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined || exit) return;
    // False when the group is already gone; EPERM and the like are thrown to the caller (stop() rejects).
    trySignal(-pid, signal);
  };
  // Last resort if the lab exits without stop(): never leave the server behind.
  const onExit = (): void => {
    try {
      killGroup('SIGKILL');
    } catch {
      // The lab is exiting: there is no journal left to record it in, and the reaper holds the group too.
    }
  };
  process.once('exit', onExit);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      killGroup('SIGTERM');
      const termed = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (!termed) {
        killGroup('SIGKILL');
        await Promise.race([exited, sleep(STOP_GRACE_MS)]);
      }
      process.removeListener('exit', onExit);
    })();
    return stopping;
  };

  const fail = async (e: LabError): Promise<never> => {
    await stop();
    throw e;
  };

  if (pid === undefined) {
    await exited;
    process.removeListener('exit', onExit);
    throw new LabError(Errors.ToxiproxyFailed, `could not start ${opts.binary}: ${spawnError?.message ?? 'unknown error'}`, {
      hint: 'check that the binary exists and is executable (`npm run setup` reinstalls it)',
      cause: spawnError,
    });
  }

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (exit) {
      const tail = readLogTail(opts.logFile, logStart);
      if (BIND_ERROR.test(tail)) return fail(portTaken(port));
      return fail(
        new LabError(
          Errors.ToxiproxyFailed,
          `toxiproxy-server exited during startup (${exit.signal ?? `code ${exit.code}`}); log tail:\n${tail}`,
          { hint: `see ${opts.logFile}` },
        ),
      );
    }
    // Toxiproxy logs a failed bind but keeps running, so look at the log as well as the API.
    const log = readLogTail(opts.logFile, logStart);
    if (BIND_ERROR.test(log)) return fail(portTaken(port));
    if (SERVER_ERROR.test(log)) {
      return fail(new LabError(Errors.ToxiproxyFailed, `toxiproxy-server failed to serve; log tail:\n${log}`, { hint: `see ${opts.logFile}` }));
    }
    if (await toxiproxyReady(port).isReady()) {
      // Re-check: a foreign server on the port could answer before toxiproxy logs its bind error.
      if (BIND_ERROR.test(readLogTail(opts.logFile, logStart))) return fail(portTaken(port));
      break;
    }
    if (Date.now() > deadline) {
      return fail(
        new LabError(
          Errors.ToxiproxyFailed,
          `toxiproxy-server did not answer GET ${url}/version within ${opts.readyTimeoutMs ?? 10_000} ms; log tail:\n${readLogTail(opts.logFile, logStart)}`,
          { hint: `see ${opts.logFile}` },
        ),
      );
    }
    await sleep(POLL_MS);
  }

  return {
    url,
    port,
    pid,
    metricsPath: '/metrics',
    client,
    stop,
    [Symbol.asyncDispose]: stop,
    release: () => process.removeListener('exit', onExit),
    exited: exited.then(() => exit ?? { code: null, signal: null }),
  };
}

/** Toxiproxy answers: `GET /version` says its version (local server and container alike). */
export function toxiproxyReady(port: number) {
  return Wait.forHttp(`http://127.0.0.1:${port}/version`, { body: (text) => text.includes('"version"') });
}

/** The last ~2 KB this attempt wrote to the log. */
function readLogTail(file: string, from: number, maxBytes = 2048): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(from, size - maxBytes);
      const buf = Buffer.alloc(Math.max(0, size - start));
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8').trimEnd();
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
