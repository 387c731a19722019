/**
 * A Jepsen-style operation history. Meanings follow Jepsen (generator/interpreter.clj):
 *   ok   — the operation definitely happened;
 *   fail — it definitely did not;
 *   info — indeterminate: it may or may not have happened, and may still take effect later.
 * A process has at most one open operation. After an `info` the process is retired for good and a fresh
 * id is used, because its invocation stays open for the rest of the history. Checkers (set, counter,
 * linearizability) read the history offline; the recorder only appends.
 */
export type HistoryType = 'invoke' | 'ok' | 'fail' | 'info';
export type HistoryValue = number | string | null;

export interface HistoryOp {
  index: number;
  type: HistoryType;
  f: string;
  value: HistoryValue;
  process: number;
  /** Nanoseconds since the recorder started. */
  time: number;
  /** Why an op failed or is indeterminate (`timeout`, `ECONNRESET`, `status 503`). */
  error?: string;
}

/** An open invocation; pass it back to `complete`. */
export interface Invocation {
  readonly f: string;
  readonly value: HistoryValue;
  readonly process: number;
  completed: boolean;
}

/**
 * A history as its readers (checkers, the run folder) see it: the recorder in the lab, or a history fetched from a
 * load generator in another process (remote/remote-load-generator.ts).
 */
export interface RecordedHistory {
  readonly ops: readonly HistoryOp[];
  /** Nanoseconds since the history started, on the clock the ops' `time` uses (a checker's own ops). */
  elapsedNs(): number;
  toJsonLines(): string;
  toEdn(): string;
}

export class HistoryRecorder implements RecordedHistory {
  private readonly entries: HistoryOp[] = [];
  private readonly startNs: bigint;
  /** Free process ids, reused lowest-first so ids stay small and readable. */
  private readonly freeProcesses: number[] = [];
  private nextProcess = 0;
  private retired = 0;

  constructor(private readonly clockNs: () => bigint = () => process.hrtime.bigint()) {
    this.startNs = clockNs();
  }

  get ops(): readonly HistoryOp[] {
    return this.entries;
  }

  /** Nanoseconds since the recorder started, on the clock the ops' `time` uses (a checker's own ops). */
  elapsedNs(): number {
    return Number(this.clockNs() - this.startNs);
  }

  /** How many process ids were retired after an indeterminate result. */
  get retiredProcesses(): number {
    return this.retired;
  }

  invoke(f: string, value: HistoryValue): Invocation {
    const proc = this.takeProcess();
    this.append('invoke', f, value, proc);
    return { f, value, process: proc, completed: false };
  }

  /** Records the completion. A second completion of the same invocation is ignored. */
  complete(inv: Invocation, type: Exclude<HistoryType, 'invoke'>, opts: { value?: HistoryValue; error?: string } = {}): void {
    if (inv.completed) return;
    inv.completed = true;
    this.append(type, inv.f, opts.value === undefined ? inv.value : opts.value, inv.process, opts.error);
    if (type === 'info') this.retired++;
    else this.releaseProcess(inv.process);
  }

  toJsonLines(): string {
    return historyJsonLines(this.entries);
  }

  toEdn(): string {
    return historyEdn(this.entries);
  }

  private append(type: HistoryType, f: string, value: HistoryValue, proc: number, error?: string): void {
    const op: HistoryOp = {
      index: this.entries.length,
      type,
      f,
      value,
      process: proc,
      time: Number(this.clockNs() - this.startNs),
    };
    if (error !== undefined) op.error = error;
    this.entries.push(op);
  }

  private takeProcess(): number {
    if (this.freeProcesses.length === 0) return this.nextProcess++;
    // Lowest free id: a small binary heap would be faster, but free lists stay short (≤ in-flight limit).
    let best = 0;
    for (let i = 1; i < this.freeProcesses.length; i++) {
      if (this.freeProcesses[i]! < this.freeProcesses[best]!) best = i;
    }
    const id = this.freeProcesses[best]!;
    this.freeProcesses[best] = this.freeProcesses[this.freeProcesses.length - 1]!;
    this.freeProcesses.pop();
    return id;
  }

  private releaseProcess(id: number): void {
    this.freeProcesses.push(id);
  }
}

export function historyJsonLines(ops: readonly HistoryOp[]): string {
  return ops.map((op) => JSON.stringify(op)).join('\n') + (ops.length > 0 ? '\n' : '');
}

/** Jepsen's history.edn form: one map per line, e.g. `{:type :invoke, :f :send, :value 12, :process 3, :time 123, :index 0}`. */
export function historyEdn(ops: readonly HistoryOp[]): string {
  return ops.map(toEdnLine).join('\n') + (ops.length > 0 ? '\n' : '');
}

// EDN symbols/keywords: start with a letter or one of * + ! - _ ? < > = . and go on with those and digits.
const EDN_KEYWORD = /^[A-Za-z*+!_?<>=.-][A-Za-z0-9*+!_?<>=.$%&#:'/-]*$/;

export function ednString(s: string): string {
  return `"${s.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}"`;
}

function ednValue(v: HistoryValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'nil';
  return ednString(v);
}

/** Op names become keywords (`:put`) when they are valid EDN keywords, strings otherwise. */
function ednName(name: string): string {
  return EDN_KEYWORD.test(name) && !/^[-+.][0-9]/.test(name) ? `:${name}` : ednString(name);
}

export function toEdnLine(op: HistoryOp): string {
  const parts = [
    `:type :${op.type}`,
    `:f ${ednName(op.f)}`,
    `:value ${ednValue(op.value)}`,
    `:process ${op.process}`,
    `:time ${op.time}`,
    `:index ${op.index}`,
  ];
  if (op.error !== undefined) parts.push(`:error ${ednString(op.error)}`);
  return `{${parts.join(', ')}}`;
}
