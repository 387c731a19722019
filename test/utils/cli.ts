/** Helpers for end-to-end tests: run the real CLI as a user would, and check what it left behind. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AssertionResult, RunResult, VariantResult } from '../../src/run/result.js';

export const root = path.resolve(import.meta.dirname, '..', '..');
export const cliPath = path.join(root, 'bin', 'chaoslab.js');

/** The `--json` document of `chaoslab run`, derived from the lab's own result type so the two cannot drift. */
export type JsonAssertion = Omit<AssertionResult, 'description' | 'query' | 'over' | 'series'>;
export type JsonVariant = Omit<VariantResult, 'mitigations' | 'params' | 't0' | 'assertions'> & { assertions: JsonAssertion[] };
export type JsonResult = Omit<RunResult, 'title' | 'startedAt' | 'endedAt' | 'variants'> & { variants: JsonVariant[] };

/** The `--json` document of `chaoslab up`: what was kept, and the base load it drove. */
export type UpJson = Pick<JsonResult, 'scenario' | 'seed' | 'runDir' | 'kept'> & { load: JsonVariant['load'] };

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What a finished CLI run left: its exit, its output, and (read on demand) the JSON document it printed last. */
export interface CliRun<J = JsonResult> {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout parsed as JSON (`--json`); throws with the run's output when there is none. */
  readonly json: J;
}

/** Starts the real CLI (`bin/chaoslab.js`) as a user would; `done` resolves when it exits. For Ctrl-C and kill tests. */
export function startCli<J = JsonResult>(args: string[], opts: CliOptions = {}): { child: ChildProcess; done: Promise<CliRun<J>> } {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? root, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun<J>>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout,
        stderr,
        get json(): J {
          return lastJsonLine<J>(code, stdout, stderr);
        },
      }),
    ),
  );
  return { child, done };
}

/** The seeds a replay's e2e test runs: CHAOSLAB_E2E_SEEDS as a count ("5" → 1..5) or a list ("3,7"); seed 1 by default. */
export function e2eSeeds(env: NodeJS.ProcessEnv = process.env): number[] {
  const raw = env.CHAOSLAB_E2E_SEEDS?.trim();
  if (!raw) return [1];
  if (/^\d+$/.test(raw)) return Array.from({ length: Number(raw) }, (_, i) => i + 1);
  return raw.split(',').map((s) => Number(s.trim()));
}

/** Runs the real CLI to the end: `{code, stdout, stderr, json}`. The one way e2e tests run chaoslab. */
export function runCli<J = JsonResult>(args: string[], opts: CliOptions = {}): Promise<CliRun<J>> {
  return startCli<J>(args, opts).done;
}

function lastJsonLine<J>(code: number | null, stdout: string, stderr: string): J {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as J;
  } catch {
    throw new Error(`chaoslab printed no JSON result (exit ${code}).\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`);
  }
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
