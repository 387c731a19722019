/**
 * Process identity and group killing, shared by the reaper process and `cleanStale`. Kept free of lab imports
 * so the reaper starts fast. Linux-only identity: a pid is "ours" only if its /proc start time still matches
 * (a recycled pid is never killed), it runs as this user, and its command line is the one recorded when it was
 * registered (a forged or stale record naming someone else's process is refused).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot), as text; null where /proc is missing. */
  startTime: string | null;
  label: string;
  /** Real uid from /proc/<pid>/status when registered. */
  uid?: number;
  /** /proc/<pid>/cmdline when registered, NULs as spaces. */
  cmdline?: string;
}

/** What /proc says about a live process: what an entry must match before the lab signals it. */
export interface ProcessIdentity {
  startTime: string;
  uid: number | null;
  cmdline: string | null;
}

interface ProcStat {
  state: string;
  startTime: string;
  pgid: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const startTime = rest[19];
    const pgid = Number(rest[2]);
    return state !== undefined && startTime !== undefined ? { state, startTime, pgid } : null;
  } catch {
    return null;
  }
}

/** The /proc state letter (R, S, T stopped, Z zombie, ...), or null if there is no such process. */
export function readState(pid: number): string | null {
  return readStat(pid)?.state ?? null;
}

/** Pids of every live process in group `pgid` (the leader included), read from /proc; [] where /proc is missing. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat?.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(Number(name));
  }
  return members;
}

export function readStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/** Real uid (first field of `Uid:` in /proc/<pid>/status), or null. */
export function readUid(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The argv as /proc has it, NULs as spaces; null if unreadable. */
export function readCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** The entry to record for a process the lab just started (identity read from /proc). */
export function processEntry(pid: number, label: string): ProcessEntry {
  const uid = readUid(pid);
  const cmdline = readCmdline(pid);
  return { pid, startTime: readStartTime(pid), label, ...(uid !== null ? { uid } : {}), ...(cmdline !== null ? { cmdline } : {}) };
}

/**
 * Whether `entry` may be signalled given what /proc says now. Where /proc has no identity (null startTime,
 * another OS) only existence can be checked, as before. Otherwise all must match: start time, this user (the
 * process's uid, whatever the record claims), and the recorded command line, which a record must have.
 */
export function identityMatches(entry: ProcessEntry, seen: ProcessIdentity | null, myUid: number | null): boolean {
  if (seen === null) return false;
  if (seen.startTime !== entry.startTime) return false;
  if (myUid !== null && seen.uid !== myUid) return false;
  if (entry.uid !== undefined && seen.uid !== entry.uid) return false;
  return entry.cmdline !== undefined && seen.cmdline !== null && cmdlineMatches(entry.cmdline, seen.cmdline);
}

/**
 * The command line seen now is the recorded one, or what a wrapper recorded at the spawn `exec`ed into
 * (`sh -c 'exec sleep 60'` becomes `sleep 60`).
 */
function cmdlineMatches(recorded: string, seen: string): boolean {
  return seen === recorded || (seen !== '' && recorded.includes(seen));
}

const myUid = (): number | null => process.getuid?.() ?? null;

/** True when `entry` still names the very process the lab started: safe to signal. */
export function isOurProcess(entry: ProcessEntry): boolean {
  // No recorded start time: acceptable only where /proc cannot tell anyway.
  if (entry.startTime === null) return !existsSync('/proc/self/stat') && isSameProcessAlive(entry.pid, null);
  const stat = readStat(entry.pid);
  if (stat === null || stat.state === 'Z' || stat.state === 'X') return false;
  return identityMatches(entry, { startTime: stat.startTime, uid: readUid(entry.pid), cmdline: readCmdline(entry.pid) }, myUid());
}

/** True while the same process (not a zombie, not a recycled pid) still exists. */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  if (startTime === null) {
    // No /proc to check identity: fall back to existence.
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const stat = readStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Sends `signal` to `target` (a pid, or -pgid for a group). False when there is no such process: it is gone,
 * which is what a stop wants. Any other failure (EPERM: not ours) is thrown, never swallowed.
 */
export function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Signals the process group led by `pid` (nodes are started detached), else the lone pid. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // kill(-0) or kill(-1) would reach this whole group or every process there is.
  if (!Number.isInteger(pid) || pid <= 1) return;
  if (!trySignal(-pid, signal)) trySignal(pid, signal);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM (plus SIGCONT, so paused nodes can act on it) to every group still ours, SIGKILL after `graceMs`.
 * Returns the entries that were alive and got signalled. A signal that fails for another reason than the
 * process being gone goes to `onError` (the others are still stopped); without `onError` the first is thrown
 * once all were tried.
 */
export async function killGroups(entries: readonly ProcessEntry[], graceMs = 2000, onError?: (entry: ProcessEntry, error: unknown) => void): Promise<ProcessEntry[]> {
  const failures: unknown[] = [];
  const attempt = (e: ProcessEntry, f: () => void): void => {
    try {
      f();
    } catch (err) {
      if (onError) onError(e, err);
      else failures.push(err);
    }
  };
  // Identity first: a forged or stale record never gets anyone else's process signalled.
  const targets = entries.filter((e) => Number.isInteger(e.pid) && e.pid > 1 && isOurProcess(e));
  for (const e of targets) {
    attempt(e, () => {
      signalGroup(e.pid, 'SIGTERM');
      signalGroup(e.pid, 'SIGCONT');
    });
  }
  const alive = (): ProcessEntry[] => targets.filter((e) => isSameProcessAlive(e.pid, e.startTime));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(20);
  const stubborn = alive();
  for (const e of stubborn) attempt(e, () => signalGroup(e.pid, 'SIGKILL'));
  const killDeadline = Date.now() + 1000;
  while (stubborn.length > 0 && alive().length > 0 && Date.now() < killDeadline) await sleep(10);
  // Leaders are gone; sweep members they left behind. Group only: the leader's pid may be recycled,
  // but Linux never hands out a pid still used as a group id, so -pid hits only leftovers (or nothing).
  for (const e of targets) attempt(e, () => trySignal(-e.pid, 'SIGKILL'));
  if (failures.length > 0) throw failures[0];
  return targets;
}
