/**
 * A spare metadata host must copy the membership table from the primary before it can answer. The copy is an
 * ordinary request in the primary's queue, with a timeout and a retry: while the primary is overloaded the copy
 * never gets through, which is how the 2015 overload "blocked efforts to add capacity".
 */
import type { Timers } from './timers.js';

/** Starts one copy; `done(true)` when the table arrived, `done(false)` on an error answer. */
export type TableCopier = (timeoutMs: number, done: (ok: boolean) => void) => { abort(): void };

export interface ReplicaSyncOptions {
  timeoutMs: number;
  retryMs: number;
}

export class ReplicaSync {
  #synced = false;
  #running = false;
  #cancel: (() => void) | undefined;
  attempts = 0;

  constructor(
    readonly opts: ReplicaSyncOptions,
    private readonly deps: { timers: Timers; copy: TableCopier; onSynced?: () => void; onAttempt?: (ok: boolean) => void },
  ) {}

  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    if (this.#running || this.#synced) return;
    this.#running = true;
    this.#attempt();
  }

  stop(): void {
    this.#running = false;
    this.#cancel?.();
  }

  #attempt(): void {
    if (!this.#running) return;
    this.attempts++;
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      if (!this.#running) return;
      this.deps.onAttempt?.(ok);
      if (ok) {
        this.#synced = true;
        this.#running = false;
        this.deps.onSynced?.();
      } else {
        this.#cancel = this.deps.timers.after(this.opts.retryMs, () => this.#attempt());
      }
    };
    const cancelTimeout = this.deps.timers.after(this.opts.timeoutMs, () => {
      handle.abort();
      settle(false);
    });
    const handle = this.deps.copy(this.opts.timeoutMs, settle);
  }
}
