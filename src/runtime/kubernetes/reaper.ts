/**
 * Crash-proof cleanup of a run's namespace: a detached watcher (reaper-main.ts) holds a pipe from the lab and
 * deletes the namespace when the pipe closes, however the lab died. The same pattern as the Docker reaper.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import { waitReady } from '../helper-ready.js';

export interface KubeReaper {
  readonly pid: number;
  /** Normal teardown: the watcher deletes the namespace (again: the lab deleted it) and exits. */
  close(): Promise<void>;
  /** A kept run: the watcher exits without deleting anything. */
  release(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 15_000;

export async function startKubeReaper(opts: { namespace: string; context: string; mainPath?: string }): Promise<KubeReaper> {
  const mainPath = opts.mainPath ?? defaultMainPath();
  if (!existsSync(mainPath)) throw new LabError(Errors.KubernetesFailed, `the Kubernetes reaper is not built (${mainPath} is missing)`, { hint: 'Run `npm run build`.' });
  const child = spawn(process.execPath, [mainPath, opts.namespace, String(process.pid), opts.context], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    await waitReady(child, READY_TIMEOUT_MS);
  } catch (e) {
    child.kill('SIGKILL');
    throw new LabError(Errors.KubernetesFailed, `the Kubernetes reaper did not start: ${(e as Error).message}`, { cause: e, hint: 'Run `npm run build`; check that the API server answers.' });
  }
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  child.stdout!.destroy();
  child.stdin!.on('error', () => {});
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.unref();
  const waitExit = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    return done;
  };
  let closing: Promise<void> | undefined;
  return {
    pid: child.pid!,
    release() {
      closing ??= (async () => {
        await new Promise<void>((r) => child.stdin!.write('release\n', () => r()));
        child.stdin!.end();
        if (!(await waitExit())) child.kill('SIGKILL');
      })();
      return closing;
    },
    close() {
      closing ??= (async () => {
        child.stdin!.end();
        await waitExit();
      })();
      return closing;
    },
  };
}

function defaultMainPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'reaper-main.js');
  return resolve(dirname(here), '..', '..', '..', 'dist', 'src', 'runtime', 'kubernetes', 'reaper-main.js');
}
