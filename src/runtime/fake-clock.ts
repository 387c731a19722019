/**
 * Wall-clock faults at the OS boundary with libfaketime (Debian package `libfaketime`): a node that a clock fault
 * can target starts with the library preloaded and reads its wall-clock offset from a control file that the lab
 * rewrites while it runs. Any dynamically linked program is skewed the same way (the toys, a user's own service);
 * nothing in the node can tell that the lab did it. docs/clock-faults.md has the measurements behind the choices.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

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
 * Writes the offset atomically (a temp file in the same folder, renamed over): a node reading on every call never
 * sees a half-written file, which libfaketime would read as no offset. World-readable: a container's user is nobody.
 */
export function writeClockOffset(controlFile: string, offsetMs: number): void {
  const tmp = path.join(path.dirname(controlFile), `.${path.basename(controlFile)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${faketimeOffset(offsetMs)}\n`, { mode: 0o644 });
  renameSync(tmp, controlFile);
}
