/**
 * Process identity and group killing, shared by the reaper process and `cleanStale`. Kept free of lab imports
 * so the reaper starts fast. Linux-only identity: a pid is "ours" only if its /proc start time still matches,
 * so a recycled pid is never killed.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot), as text; null where /proc is missing. */
  startTime: string | null;
  label: string;
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

/** Signals the process group led by `pid` (nodes are started detached), else the lone pid. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM (plus SIGCONT, so paused nodes can act on it) to every group still ours, SIGKILL after `graceMs`.
 * Returns the entries that were alive and got signalled.
 */
export async function killGroups(entries: readonly ProcessEntry[], graceMs = 2000): Promise<ProcessEntry[]> {
  const targets = entries.filter((e) => isSameProcessAlive(e.pid, e.startTime));
  for (const e of targets) {
    signalGroup(e.pid, 'SIGTERM');
    signalGroup(e.pid, 'SIGCONT');
  }
  const alive = (): ProcessEntry[] => targets.filter((e) => isSameProcessAlive(e.pid, e.startTime));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(20);
  const stubborn = alive();
  for (const e of stubborn) signalGroup(e.pid, 'SIGKILL');
  const killDeadline = Date.now() + 1000;
  while (stubborn.length > 0 && alive().length > 0 && Date.now() < killDeadline) await sleep(10);
  // Leaders are gone; sweep members they left behind. Group only: the leader's pid may be recycled,
  // but Linux never hands out a pid still used as a group id, so -pid hits only leftovers (or nothing).
  for (const e of targets) {
    try {
      process.kill(-e.pid, 'SIGKILL');
    } catch {
      // empty group
    }
  }
  return targets;
}
