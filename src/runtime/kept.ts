/**
 * Kept runs: a cluster that `run --keep` or `up` left running for a game day, after the lab exited. The run's
 * reaper stood down (it would kill everything when the lab's pipe closes), so this record is now what owns the
 * processes or containers: `chaoslab down` and `chaoslab clean` stop what it lists, and the start-of-run sweeps
 * leave its run alone. One file per run, `<stateDir>/kept/<runId>.json`; a copy for people (`kept.json`) goes into
 * the run folder. Kept free of Docker imports: the process reaper loads this module.
 */
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessEntry } from './proc.js';
import { isOwnRegularFile, openStateDir, writePrivateFile } from './state-dir.js';

export interface KeptNode {
  name: string;
  /** `host:port` of its first port, as the lab reached it (127.0.0.1). */
  address: string;
}

/** What a kept run leaves up and where a game day points its tools. */
export interface KeptInfo {
  runId: string;
  scenario: string;
  variant: string;
  runDir: string;
  runtime: 'process' | 'docker' | 'kubernetes';
  keptAt: string;
  /** Point Grafana's Prometheus data source here. */
  prometheus: string;
  /** Toxiproxy's API (toxiproxy-cli -h, or curl) to inject faults by hand. */
  toxiproxy: string;
  /** Grafana provisioning files for this Prometheus (a data source and the lab's dashboards): Grafana's `paths.provisioning`. */
  grafana?: string;
  nodes: KeptNode[];
  /** Proxy name → `host:port` as the lab reaches it (links `from: client`) or nodes do. */
  proxies: Record<string, string>;
}

export interface KeptRecord extends KeptInfo {
  version: 1;
  /** Process runtime: the process groups to stop (identity checked by start time, so a recycled pid is safe). */
  processes?: ProcessEntry[];
  /** Docker runtime: DOCKER_HOST of the engine, if not the local socket; containers are found by the run label. */
  dockerHost?: string;
}

export const KEPT_FILE = 'kept.json';

export function keptDir(stateDir: string): string {
  return path.join(stateDir, 'kept');
}

/** Atomic (write then rename): `down` never reads a torn record. */
export function writeKept(stateDir: string, record: KeptRecord): void {
  openStateDir(stateDir, { create: true });
  const dir = keptDir(stateDir);
  // Inside the checked folder only this user can make it; an existing one is checked the same way.
  openStateDir(dir, { create: true });
  writePrivateFile(path.join(dir, `${record.runId}.json`), `${JSON.stringify(record, null, 2)}\n`);
  // For people: what is up and how to stop it, beside the run's logs. Best effort: the state dir is what counts.
  try {
    const { version: _v, processes: _p, dockerHost: _d, ...info } = record;
    writeFileSync(path.join(record.runDir, KEPT_FILE), `${JSON.stringify({ ...info, stop: downCommand(record.runDir) }, null, 2)}\n`);
  } catch {
    // the run folder went away; the record still lets `down --all` stop it
  }
}

export function listKept(stateDir: string): KeptRecord[] {
  if (openStateDir(stateDir, { create: false }) === undefined || openStateDir(keptDir(stateDir), { create: false }) === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(keptDir(stateDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((n) => readKept(path.join(keptDir(stateDir), n)))
    .filter((r): r is KeptRecord => r !== undefined)
    .sort((a, b) => a.keptAt.localeCompare(b.keptAt));
}

export function keptRunIds(stateDir: string): Set<string> {
  return new Set(listKept(stateDir).map((r) => r.runId));
}

/** The record of the run kept in `runDir` (compared as resolved paths), if any. */
export function findKept(stateDir: string, runDir: string): KeptRecord | undefined {
  const want = path.resolve(runDir);
  return listKept(stateDir).find((r) => path.resolve(r.runDir) === want);
}

/** After its parts were stopped: the record and the run folder's copy go. */
export function forgetKept(stateDir: string, record: Pick<KeptRecord, 'runId' | 'runDir'>): void {
  for (const f of [path.join(keptDir(stateDir), `${record.runId}.json`), path.join(record.runDir, KEPT_FILE)]) {
    try {
      unlinkSync(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** A run folder as people read it: relative to `cwd` when it is below it, else absolute. */
export function shownPath(runDir: string, cwd?: string): string {
  const rel = cwd === undefined ? '' : path.relative(cwd, runDir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : runDir;
}

/** The command that stops a kept run. */
export function downCommand(runDir: string, cwd?: string): string {
  const shown = shownPath(runDir, cwd);
  return `npx chaoslab down ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
}

function readKept(file: string): KeptRecord | undefined {
  if (!isOwnRegularFile(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as KeptRecord;
    return r.version === 1 && typeof r.runId === 'string' && typeof r.runDir === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}
