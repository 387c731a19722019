/** Helpers for end-to-end tests: run the real CLI as a user would, and check what it left behind. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..', '..');
export const cliPath = path.join(root, 'bin', 'chaoslab.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return startCli(args, opts).done;
}

/** The `--json` document a run printed. */
export function jsonOf(r: CliRun): JsonResult {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as JsonResult;
  } catch {
    throw new Error(`no JSON on stdout (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

export interface JsonAssertion {
  name: string;
  passed: boolean;
  expected: string;
  outcome: string;
  observed: { samples: number; min: number | null; max: number | null; mean: number | null; last: number | null };
  reason: string;
  timeToRecoverSec?: number | null;
}
export interface JsonVariant {
  name: string;
  expect: string;
  passed: boolean;
  status: string;
  assertions: JsonAssertion[];
  faults: { step: string; scheduledMs: number; appliedMs: number | null; healedMs: number | null }[];
  load: Record<string, number> | null;
  checkers?: Record<string, unknown>;
}
export interface JsonResult {
  scenario: string;
  seed: number;
  control: boolean;
  passed: boolean;
  runDir: string;
  variants: JsonVariant[];
}

export function variant(r: JsonResult, name: string): JsonVariant {
  const v = r.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name} in ${JSON.stringify(r).slice(0, 500)}`);
  return v;
}

export function assertion(v: JsonVariant, name: string): JsonAssertion {
  const a = v.assertions.find((x) => x.name === name);
  if (!a) throw new Error(`no assertion "${name}" in variant ${v.name}: ${v.assertions.map((x) => x.name).join(', ')}`);
  return a;
}

/** Every pid the run recorded (parts and nodes), from its journal. */
export function pidsOf(runDir: string): { pid: number; what: string }[] {
  const file = path.join(runDir, 'journal.jsonl');
  if (!existsSync(file)) return [];
  const out: { pid: number; what: string }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { kind: string; pid?: number; part?: string; nodes?: { name: string; pid?: number }[] };
    if (r.kind === 'part-started' && r.pid) out.push({ pid: r.pid, what: r.part ?? 'part' });
    if (r.kind === 'cluster-up') for (const n of r.nodes ?? []) if (n.pid) out.push({ pid: n.pid, what: n.name });
  }
  return out;
}

/** Alive and not a zombie (PID 1 here does not always reap orphans). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(fn: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return fn();
}

/** One line per assertion that did not meet its expectation: what a failing test should print. */
export function failures(r: JsonResult): string {
  return r.variants
    .flatMap((v) => v.assertions.filter((a) => !a.passed).map((a) => `${v.name}: ${a.name}: ${a.outcome} (expected ${a.expected}): ${a.reason}`))
    .join('\n');
}
