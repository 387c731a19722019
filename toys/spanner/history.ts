/**
 * The client's record of what it asked and what it was told, in Jepsen's terms (invoke, then ok / fail / info),
 * so a linearizability checker can judge it afterwards. Times are the host's monotonic clock in nanoseconds
 * (CLOCK_MONOTONIC, shared by every process on the machine and never skewed by a wall-clock fault), so the
 * histories of several clients merge into one.
 */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface RegisterOp {
  type: OpType;
  f: 'read' | 'write';
  key: string;
  value: string | null;
  process: number;
  time: number;
  error?: string;
}

export class RegisterHistory {
  readonly ops: RegisterOp[] = [];
  #nextProcess = 0;

  constructor(
    /** Added to every process id, so histories of several clients never share one. */
    private readonly processBase: number,
    private readonly clockNs: () => bigint = () => process.hrtime.bigint(),
    /** A bound on memory: a long run keeps its first `maxOps` operations. */
    private readonly maxOps = 200_000,
  ) {}

  /** Records the invocation; call the returned function once with the outcome. */
  invoke(f: 'read' | 'write', key: string, value: string | null): (type: Exclude<OpType, 'invoke'>, value?: string | null, error?: string) => void {
    // A fresh process per operation: a client that timed out never reuses the id of its open operation.
    const proc = this.processBase + this.#nextProcess++;
    const full = this.ops.length >= this.maxOps;
    if (!full) this.ops.push({ type: 'invoke', f, key, value, process: proc, time: Number(this.clockNs()) });
    let done = false;
    return (type, result = value, error) => {
      if (done || full) return;
      done = true;
      const op: RegisterOp = { type, f, key, value: result, process: proc, time: Number(this.clockNs()) };
      if (error !== undefined) op.error = error;
      this.ops.push(op);
    };
  }

  toJsonLines(): string {
    return this.ops.map((o) => JSON.stringify(o)).join('\n') + (this.ops.length ? '\n' : '');
  }
}
