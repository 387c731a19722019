/**
 * The linearizability checker: Porcupine (github.com/anishathalye/porcupine), wrapped in the small Go program
 * `checkers/linearizability` that setup builds into `.tools/bin/chaoslab-linearizability`. The lab records
 * the history, this judges it afterwards (Jepsen: record, then judge); the verdict is three-valued as
 * Jepsen's (`true`, `false`, `'unknown'` when the search ran out of time).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

export const LINEARIZABILITY_BINARY = 'chaoslab-linearizability';

export interface LinearizabilityOp {
  process: number;
  f: 'read' | 'write';
  key: string;
  value: string;
  callNs: number;
  returnNs: number | null;
}

/** What every verdict says: Jepsen's three-valued `valid`, and what was judged. */
interface VerdictCounts {
  valid: boolean | 'unknown';
  ops: number;
  keys: number;
  reads: number;
  writes: number;
  indeterminate: number;
  durationMs: number;
}

export interface LinearizabilityVerdict extends VerdictCounts {
  checker: string;
  /** On the first key that is not linearizable: the order that held, and what could not follow it. */
  counterexample?: {
    key: string;
    linearized: LinearizabilityOp[];
    cannotFollow: LinearizabilityOp[];
    staleRead?: LinearizabilityOp;
    expected?: string;
  };
  /** Porcupine's HTML visualization of the failing key, when asked for. */
  visualization?: string;
}

/** `.tools/bin` of the project first (what setup builds), then PATH. */
export function findLinearizabilityChecker(projectRoot: string, pathEnv = ''): string {
  const candidates = [path.join(projectRoot, '.tools', 'bin', LINEARIZABILITY_BINARY), ...pathEnv.split(path.delimiter).filter(Boolean).map((d) => path.join(d, LINEARIZABILITY_BINARY))];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next
    }
  }
  throw new LabError(Errors.CheckerMissing, `the linearizability checker (${LINEARIZABILITY_BINARY}) is not built`, {
    hint: 'run `npm run setup` (or `bash scripts/build-checkers.sh`), which builds it with Go from checkers/linearizability',
  });
}

/** Judges a history file (one JSON operation a line, with `key`); the verdict, never a throw for "not linearizable". */
export function checkLinearizable(binary: string, historyFile: string, opts: { timeoutMs?: number; visualize?: string } = {}): Promise<LinearizabilityVerdict> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const args = [`--timeout=${Math.round(timeoutMs / 1000)}s`, ...(opts.visualize ? [`--visualize=${opts.visualize}`] : []), historyFile];
  return new Promise((resolve, reject) => {
    // A little longer than the checker's own limit: it answers "unknown" itself when it runs out.
    execFile(binary, args, { timeout: timeoutMs + 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      if (code === 0 || code === 1 || code === 3) {
        try {
          resolve(JSON.parse(stdout) as LinearizabilityVerdict);
          return;
        } catch {
          // fall through: not the document it promises
        }
      }
      reject(
        new LabError(Errors.CheckerFailed, `the linearizability checker failed on ${historyFile}: ${stderr.trim() || (err ? err.message : 'no verdict on stdout')}`, {
          hint: 'the history file is kept in the run folder; `chaoslab-linearizability <file>` reproduces it',
        }),
      );
    });
  });
}

/** An operation of a counterexample as the report shows it: times in ms from the stale read's invocation. */
export interface CounterexampleOp {
  process: number;
  f: 'read' | 'write';
  value: string;
  callMs: number;
  /** null: indeterminate (the client never heard back). */
  returnMs: number | null;
}

/** Porcupine's counterexample, short enough for result.json, `--json` and report.html. */
export interface CounterexampleSummary {
  key: string;
  /** The read that saw a value no order of the operations could give it. */
  staleRead: CounterexampleOp;
  /** What the register held after the longest order Porcupine could justify. */
  expected: string;
  /** The write of `expected`, when that order has it. */
  missedWrite?: CounterexampleOp;
  /** The last operations of that order (at most 5), oldest first, then the stale read. */
  order: CounterexampleOp[];
  /** One sentence a person reads first. */
  explanation: string;
}

/** What the journal, result.json and the metrics keep of a verdict (the counterexample's stale read, not the whole order). */
export interface LinearizabilitySummary extends VerdictCounts {
  /** The read that saw a value the order could not give it, and the value it should have seen. */
  staleRead?: { key: string; value: string; expected: string; process: number };
  counterexample?: CounterexampleSummary;
}

/** How many operations of the order that held the summary keeps before the stale read. */
export const COUNTEREXAMPLE_ORDER_OPS = 5;

const roundMs = (ns: number) => Math.round(ns / 1e4) / 100;

/** The counterexample relative to the stale read's invocation, with a sentence saying why it is one. */
export function summarizeCounterexample(ce: NonNullable<LinearizabilityVerdict['counterexample']>): CounterexampleSummary | undefined {
  const read = ce.staleRead;
  if (!read) return undefined;
  const rel = (o: LinearizabilityOp): CounterexampleOp => ({ process: o.process, f: o.f, value: o.value, callMs: roundMs(o.callNs - read.callNs), returnMs: o.returnNs === null ? null : roundMs(o.returnNs - read.callNs) });
  const expected = ce.expected ?? '';
  const write = [...ce.linearized].reverse().find((o) => o.f === 'write' && o.value === expected);
  const missedWrite = write ? rel(write) : undefined;
  const staleRead = rel(read);
  const saw = read.value === '' ? 'nothing' : `"${read.value}"`;
  // The plainest proof first: a write acknowledged before the read began, else a read that had already seen newer.
  const seenBefore = [...ce.linearized].reverse().find((o) => o.f === 'read' && o.returnNs !== null && o.returnNs < read.callNs && o.value !== read.value);
  const why =
    missedWrite && missedWrite.returnMs !== null && missedWrite.returnMs < 0
      ? `"${expected}" had been acknowledged ${formatMs(-missedWrite.returnMs)} before the read was invoked (process ${write!.process})`
      : seenBefore
        ? `process ${seenBefore.process} had already read ${seenBefore.value === '' ? 'nothing' : `"${seenBefore.value}"`} ${formatMs((read.callNs - seenBefore.returnNs!) / 1e6)} before this read was invoked, and no order of the writes explains both`
        : `the operations before it leave ${expected === '' ? 'nothing' : `"${expected}"`} in the register`;
  return {
    key: ce.key,
    staleRead,
    expected,
    ...(missedWrite ? { missedWrite } : {}),
    order: [...ce.linearized.slice(-COUNTEREXAMPLE_ORDER_OPS).map(rel), staleRead],
    explanation: `A strong read of ${ce.key} (process ${read.process}) returned ${saw}, but ${why}: a stale read.`,
  };
}

const formatMs = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 10) / 100} s` : `${Math.round(ms * 10) / 10} ms`);

export function summarize(v: LinearizabilityVerdict): LinearizabilitySummary {
  const ce = v.counterexample;
  const counterexample = ce ? summarizeCounterexample(ce) : undefined;
  return {
    valid: v.valid,
    ops: v.ops,
    keys: v.keys,
    reads: v.reads,
    writes: v.writes,
    indeterminate: v.indeterminate,
    durationMs: v.durationMs,
    ...(ce?.staleRead ? { staleRead: { key: ce.key, value: ce.staleRead.value, expected: ce.expected ?? '', process: ce.staleRead.process } } : {}),
    ...(counterexample ? { counterexample } : {}),
  };
}

/** One register history as Jepsen's EDN (jepsen.independent tuples `[key value]`), for Knossos to re-check. */
export function registerHistoryEdn(lines: readonly RegisterHistoryOp[]): string {
  const str = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return lines
    .map((o, index) => `{:type :${o.type}, :f :${o.f}, :value [${str(o.key)} ${o.value === null ? 'nil' : str(o.value)}], :process ${o.process}, :time ${o.time}, :index ${index}}`)
    .join('\n') + (lines.length ? '\n' : '');
}

/** An operation as the nodes record it (and the checker reads it). */
export interface RegisterHistoryOp {
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: 'read' | 'write';
  key: string;
  value: string | null;
  process: number;
  time: number;
}

/** Parses and merges the nodes' histories by time (each node's lines are already in order); a bad line is an error. */
export function mergeHistories(texts: readonly string[]): RegisterHistoryOp[] {
  const all: RegisterHistoryOp[] = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const o = JSON.parse(line) as RegisterHistoryOp;
      if (!['invoke', 'ok', 'fail', 'info'].includes(o.type) || (o.f !== 'read' && o.f !== 'write') || typeof o.key !== 'string' || typeof o.process !== 'number' || typeof o.time !== 'number') {
        throw new Error(`not a register operation: ${line.slice(0, 200)}`);
      }
      all.push(o);
    }
  }
  // Stable: operations of one process at the same time keep their order.
  return all.map((o, i) => ({ o, i })).sort((a, b) => a.o.time - b.o.time || a.i - b.i).map(({ o }) => o);
}
