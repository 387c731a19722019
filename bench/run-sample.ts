/**
 * One start-up and teardown sample of the real CLI: spawn `chaoslab run` → load and timeline running (first fault
 * armed, the `load-start` record); then, optionally, a measurement while the cluster is up; then Ctrl-C → exit.
 * Every wait is bounded: a run that never arms, or never exits, is reported (and killed), never waited on forever.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The project: this file runs compiled (dist/bench) from `npm run bench`, and as source in the unit tests. */
export const root = existsSync(path.join(here, '..', 'package.json')) ? path.resolve(here, '..') : path.resolve(here, '..', '..');
export const cli = path.join(root, 'bin', 'chaoslab.js');

export interface JournalLine {
  kind: string;
  t: number;
  at: string;
  pid?: number;
  part?: string;
  nodes?: { pid?: number; name?: string }[];
  skewMs?: number;
  final?: boolean;
  error?: { message?: string };
}

export function readJournal(runDir: string): JournalLine[] {
  const f = path.join(runDir, 'journal.jsonl');
  if (!existsSync(f)) return [];
  // The last line may be half-written while the run is live.
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as JournalLine];
      } catch {
        return [];
      }
    });
}

export function latestRunDir(out: string): string | undefined {
  if (!existsSync(out)) return undefined;
  const d = readdirSync(out).sort();
  return d.length ? path.join(out, d[d.length - 1]!) : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Host pids the journal names: Toxiproxy's and Prometheus's processes and the nodes' (process runtime). */
export function journalPids(journal: JournalLine[]): { pid: number; role: string }[] {
  return journal.flatMap((r) =>
    r.kind === 'part-started' && r.pid
      ? [{ pid: r.pid, role: r.part ?? 'part' }]
      : r.kind === 'cluster-up'
        ? (r.nodes ?? []).flatMap((n) => (n.pid ? [{ pid: n.pid, role: 'node' }] : []))
        : [],
  );
}

export interface SampleOptions<T> {
  args?: string[];
  /** How long the run may take to arm (default 12 s, as the process runtime's target needs). */
  armTimeoutMs?: number;
  /** Ctrl-C → exit; past it the lab is killed and the sample says so (default 120 s). */
  exitTimeoutMs?: number;
  /** Runs while the cluster is up (after `load-start`), before Ctrl-C; its result is returned. */
  whileUp?: (ctx: { runDir: string; labPid: number }) => Promise<T>;
}

export interface Sample<T = unknown> {
  /** NaN when the run never armed. */
  startMs: number;
  /** NaN when the lab did not exit within exitTimeoutMs (then it was killed). */
  teardownMs: number;
  /** Host processes the journal named that are still alive after the exit. */
  leftOver: number;
  /** Why the run did not arm or exit: the journal's first error, or the bound it hit. */
  problem?: string;
  measured?: T;
}

export async function startAndTeardown<T = never>(scenario: string, opts: SampleOptions<T> = {}): Promise<Sample<T>> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bench-'));
  try {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, 'run', scenario, '--variant', 'baseline', '--out', out, ...(opts.args ?? [])], { stdio: 'ignore' });
    let done = false;
    const exited = new Promise<void>((r) =>
      child.on('close', () => {
        done = true;
        r();
      }),
    );
    let startMs = NaN;
    const armBy = Date.now() + (opts.armTimeoutMs ?? 12_000);
    while (Number.isNaN(startMs) && !done && Date.now() < armBy) {
      await new Promise((r) => setTimeout(r, 50));
      const dir = latestRunDir(out);
      const armed = dir ? readJournal(dir).find((r) => r.kind === 'load-start') : undefined;
      if (armed) startMs = Date.parse(armed.at) - t0;
    }
    const dir = latestRunDir(out);
    const errorOf = () => (dir ? readJournal(dir).find((r) => r.kind === 'error')?.error?.message : undefined);
    let problem: string | undefined;
    if (Number.isNaN(startMs)) problem = errorOf() ?? (done ? 'the run ended before it armed' : `not armed within ${(opts.armTimeoutMs ?? 12_000) / 1000} s`);
    let measured: T | undefined;
    if (!Number.isNaN(startMs) && opts.whileUp && dir && !done && child.pid) {
      try {
        measured = await opts.whileUp({ runDir: dir, labPid: child.pid });
      } catch (e) {
        problem = `measuring: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    const pids = dir ? journalPids(readJournal(dir)).map((p) => p.pid) : [];
    const stopAt = Date.now();
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), opts.exitTimeoutMs ?? 120_000)))]);
    clearTimeout(timer);
    let teardownMs = Date.now() - stopAt;
    if (!inTime) {
      child.kill('SIGKILL');
      await exited;
      teardownMs = NaN;
      problem ??= `no exit within ${(opts.exitTimeoutMs ?? 120_000) / 1000} s of Ctrl-C (killed; \`npx chaoslab clean\` sweeps what it left)`;
    }
    return { startMs, teardownMs, leftOver: pids.filter(alive).length, ...(problem ? { problem } : {}), ...(measured !== undefined ? { measured } : {}) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
