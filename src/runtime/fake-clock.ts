/**
 * Wall-clock faults at the OS boundary with libfaketime (Debian package `libfaketime`): a node that a clock fault
 * can target starts with the library preloaded and reads its wall-clock offset from a control file that the lab
 * rewrites while it runs. Any dynamically linked program is skewed the same way (the toys, a user's own service);
 * nothing in the node can tell that the lab did it. docs/clock-faults.md has the measurements behind the choices.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { StartedNode } from './runtime.js';

/** Where Debian's package puts it on amd64 (Multi-Arch path). */
export const DEBIAN_LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
export const LIBFAKETIME_ENV = 'CHAOSLAB_LIBFAKETIME';

/** How a node runs with a fake wall clock: the library to preload and its control file, as that node sees them. */
export interface FakeClock {
  /** libfaketime.so.1 (a host path; the Docker runtime uses the copy in its image). */
  library: string;
  /** The control file on the host; the Docker runtime bind-mounts its folder. */
  controlFile: string;
}

function isReadableFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The package's own file list: finds the library on any architecture. */
function fromDpkg(): string | undefined {
  try {
    const out = execFileSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.split('\n').find((l) => l.endsWith('/libfaketime.so.1') && isReadableFile(l));
  } catch {
    return undefined;
  }
}

/**
 * libfaketime.so.1: `CHAOSLAB_LIBFAKETIME`, else Debian's path, else what `dpkg -L libfaketime` lists. Missing:
 * a part failure (exit 3) naming the package, thrown before anything starts.
 */
export function findLibfaketime(env: Record<string, string | undefined> = process.env): string {
  const override = env[LIBFAKETIME_ENV];
  if (override) {
    if (isReadableFile(override)) return override;
    throw new LabError(Errors.LibfaketimeMissing, `${LIBFAKETIME_ENV}=${override} is not a readable file`, { hint: 'fix the path, or unset it and install the Debian package libfaketime' });
  }
  if (isReadableFile(DEBIAN_LIBFAKETIME)) return DEBIAN_LIBFAKETIME;
  const listed = fromDpkg();
  if (listed) return listed;
  throw new LabError(Errors.LibfaketimeMissing, 'the scenario has a clock fault, and libfaketime (Debian package libfaketime) is not installed');
}

/**
 * The preload, as a node's environment. `FAKETIME_NO_CACHE=1`: the file is read on every wall-clock call, so a step
 * is seen at once (a call costs ~2.9 µs instead of 78 ns; with the 1 s cache, 132 ns, a step could be seen up to a
 * second late, and a fault's timing is what a scenario judges). `FAKETIME_DONT_FAKE_MONOTONIC=1`: only wall time
 * moves; timers and durations keep real time, as after a bad NTP step.
 */
export function fakeClockEnv(library: string, controlFile: string): Record<string, string> {
  return {
    LD_PRELOAD: library,
    FAKETIME_TIMESTAMP_FILE: controlFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * libfaketime's relative offset: signed seconds with a fraction (`-3s`, `-0.5s`, `+2.125s`). Not `ms`: it reads
 * `-500ms` as minus 500 minutes.
 */
export function faketimeOffset(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) throw new RangeError(`clock offset must be finite, got ${offsetMs}`);
  const ms = Math.round(offsetMs);
  if (ms === 0) return '+0';
  const abs = Math.abs(ms);
  const s = `${Math.floor(abs / 1000)}${abs % 1000 ? `.${String(abs % 1000).padStart(3, '0').replace(/0+$/, '')}` : ''}`;
  return `${ms < 0 ? '-' : '+'}${s}s`;
}

/**
 * libfaketime's rate form for a drift: `<offset> x<rate>`. libfaketime scales time from the moment the process
 * started, so a rate written when the node is `ageMs` old would step its clock by (rate − 1) × age at once; the
 * offset written with it takes that back, so the clock is `offsetMs` off at the write and drifts from there.
 * Seconds to the µs: the compensation is fractions of a ms (500 ppm × 20 s = 10 ms).
 */
export function faketimeDrift(offsetMs: number, ppm: number, ageMs: number): string {
  if (![offsetMs, ppm, ageMs].every(Number.isFinite)) throw new RangeError(`clock drift needs finite numbers, got ${offsetMs}, ${ppm}, ${ageMs}`);
  const rate = 1 + ppm / 1e6;
  const sec = (offsetMs - (rate - 1) * ageMs) / 1000;
  return `${sec < 0 ? '-' : '+'}${Math.abs(sec).toFixed(6)}s x${rate.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/** libfaketime's "+0" keeps a rate written before (measured); the heal of a drift writes the rate back too. */
export const FAKETIME_HEALED_RATE = '+0 x1';

/** Linux's USER_HZ: /proc/<pid>/stat counts a process's start in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * How long ago the process started (what libfaketime's rate counts from), from /proc: the host's uptime minus
 * the process's start time in ticks (10 ms resolution, 5 µs of clock at 500 ppm). undefined where /proc does
 * not have it (another host's Docker engine, a pid that is gone).
 */
export function processAgeMs(pid: number, procRoot = '/proc'): number | undefined {
  const ticks = readStartTime(procRoot, pid);
  if (ticks === null) return undefined;
  try {
    const uptimeSec = Number(readFileSync(path.join(procRoot, 'uptime'), 'utf8').split(' ')[0]);
    const age = (uptimeSec - Number(ticks) / CLOCK_TICKS_PER_SECOND) * 1000;
    return Number.isFinite(age) && age >= 0 ? age : undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of `<procRoot>/<pid>/stat` (comm may hold spaces and parentheses: split after the last ')'). */
function readStartTime(procRoot: string, pid: number): string | null {
  try {
    const stat = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Writes the offset atomically (a temp file in the same folder, renamed over): a node reading on every call never
 * sees a half-written file, which libfaketime would read as no offset. World-readable: a container's user is nobody.
 */
export function writeClockOffset(controlFile: string, offsetMs: number): void {
  writeClockControl(controlFile, faketimeOffset(offsetMs));
}

/**
 * The control text as the lab last wrote it (trimmed): what a node incarnation that cannot read the file itself
 * (a pod) starts with. A missing file reads as `+0`, as libfaketime takes no file for true time.
 */
export function readClockControl(controlFile: string): string {
  try {
    return readFileSync(controlFile, 'utf8').trim() || '+0';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '+0';
    throw e;
  }
}

/** How a fault sets a started node's clock: its setClock, or undefined for a node started without libfaketime. */
export function nodeClock(node: Pick<StartedNode, 'spec' | 'setClock'> | undefined): ((text: string) => Promise<void>) | undefined {
  return node?.spec.fakeClock ? (text) => node.setClock(text) : undefined;
}

/** Writes libfaketime's control text (an offset, or an offset with a rate) atomically, as writeClockOffset. */
export function writeClockControl(controlFile: string, text: string): void {
  const tmp = path.join(path.dirname(controlFile), `.${path.basename(controlFile)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${text}\n`, { mode: 0o644 });
  renameSync(tmp, controlFile);
}
