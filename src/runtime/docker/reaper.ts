/**
 * Crash-proof cleanup of a run's containers and network (testcontainers' Ryuk is the model). A detached watcher
 * process holds a pipe from the lab; when the pipe closes, however the lab died (kill -9 included), or the lab's
 * pid disappears, it removes everything labelled `chaoslab.run=<run id>` and exits. It needs no registration:
 * the label is the contract. `cleanDockerLeftovers` is the sweep behind `chaoslab clean` and the start of every
 * Docker run, for whatever a lost reaper (or a lab on a machine that died) left.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitReady } from '../helper-ready.js';
import { LabError } from '../../errors/lab-error.js';
import { isSameProcessAlive } from '../proc.js';
import { DockerEngine, type ListedObject } from './engine.js';
import { Errors } from '../../errors/catalog.js';
import { LABEL, parseOwner, thisHost } from './labels.js';

export interface DockerReaper {
  readonly runId: string;
  readonly pid: number;
  /** Normal teardown: the watcher sweeps the run's label once more (it should find nothing) and exits. */
  close(): Promise<void>;
  /** A kept run: the watcher exits without removing anything; the kept-run record owns the containers now. */
  release(): Promise<void>;
}

export interface DockerReaperOptions {
  runId: string;
  dockerHost?: string;
  /** Compiled `reaper-main.js`; defaults to the one beside this module (or in dist/ when run from source). */
  mainPath?: string;
}

const READY_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 15_000;

export async function startDockerReaper(opts: DockerReaperOptions): Promise<DockerReaper> {
  const mainPath = opts.mainPath ?? defaultMainPath();
  if (!existsSync(mainPath)) {
    throw new LabError(Errors.DockerFailed, `the Docker reaper is not built (${mainPath} is missing)`, { hint: 'Run `npm run build`.' });
  }
  // Detached: its own session, so Ctrl-C and hangups reach the lab, not the reaper.
  const child = spawn(process.execPath, [mainPath, opts.runId, String(process.pid), opts.dockerHost ?? ''], {
    detached: true,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    await waitReady(child, READY_TIMEOUT_MS);
  } catch (e) {
    child.kill('SIGKILL');
    throw new LabError(Errors.DockerFailed, `the Docker reaper did not start: ${(e as Error).message}`, { cause: e, hint: 'Run `npm run build`; check that the Docker engine answers.' });
  }
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  // The reaper must never keep the lab alive, and a dead reaper must not crash the lab (EPIPE).
  child.stdout!.destroy();
  child.stdin!.on('error', () => {});
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.unref();
  let closing: Promise<void> | undefined;
  const waitExit = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    return done;
  };
  return {
    runId: opts.runId,
    pid: child.pid!,
    release() {
      closing ??= (async () => {
        await new Promise<void>((r) => child.stdin!.write('release\n', () => r()));
        child.stdin!.end();
        // Stuck: SIGKILL leaves it no chance to sweep (SIGTERM would make it remove the run).
        if (!(await waitExit())) child.kill('SIGKILL');
      })();
      return closing;
    },
    close() {
      closing ??= (async () => {
        child.stdin!.end();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)))]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}


function defaultMainPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'reaper-main.js');
  // From TypeScript source (vitest): the reaper is a separate node process, so it needs the build.
  return resolve(dirname(here), '..', '..', '..', 'dist', 'src', 'runtime', 'docker', 'reaper-main.js');
}

export interface LeftoverRun {
  runId: string;
  owner: string | undefined;
  containers: ListedObject[];
  networks: ListedObject[];
}

/**
 * Removes the containers and networks of runs whose lab is gone: its owner label names this host and a pid that
 * is no longer the same process. Runs of live labs, and of labs on other hosts sharing the engine, are left alone
 * unless `all` is set, and so are kept runs named in `keptRunIds`. Returns what it removed.
 */
export async function cleanDockerLeftovers(engine: DockerEngine, opts: { all?: boolean; exceptRunId?: string; keptRunIds?: ReadonlySet<string> } = {}): Promise<LeftoverRun[]> {
  const [containers, networks] = await Promise.all([engine.listContainers([LABEL.run]), engine.listNetworks([LABEL.run])]);
  const runs = new Map<string, LeftoverRun>();
  const entry = (o: ListedObject): LeftoverRun | undefined => {
    const runId = o.labels[LABEL.run];
    // A kept run's lab is gone on purpose: its record owns it (`chaoslab down`).
    if (!runId || runId === opts.exceptRunId || opts.keptRunIds?.has(runId)) return undefined;
    let r = runs.get(runId);
    if (!r) runs.set(runId, (r = { runId, owner: o.labels[LABEL.owner], containers: [], networks: [] }));
    return r;
  };
  for (const c of containers) entry(c)?.containers.push(c);
  for (const n of networks) entry(n)?.networks.push(n);
  const stale = [...runs.values()].filter((r) => opts.all || isOwnerGone(r.owner));
  await Promise.all(stale.flatMap((r) => r.containers.map((c) => engine.removeContainer(c.id))));
  await Promise.all(stale.flatMap((r) => r.networks.map((n) => engine.removeNetwork(n.id))));
  return stale;
}

function isOwnerGone(ownerLabel: string | undefined): boolean {
  const owner = parseOwner(ownerLabel);
  // Unlabelled or unreadable: not ours to judge.
  if (!owner || owner.host !== thisHost()) return false;
  return !isSameProcessAlive(owner.pid, owner.startTime);
}

export { DockerEngine };
