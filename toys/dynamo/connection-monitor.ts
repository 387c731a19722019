/**
 * Watches the connection from a storage node to the metadata service with cheap pings (answered by the service's
 * HTTP layer, not its workers). `onLost` fires once per loss, on the first failed ping after a good one: that is
 * when a storage node re-fetches its membership, so a network blip makes every affected node re-fetch at once.
 */
import type { Timers } from './timers.js';

export interface ConnectionMonitorOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** Starts one ping; calls `done(true)` on an answer, `done(false)` on an error. The monitor enforces the timeout. */
export type Pinger = (timeoutMs: number, done: (ok: boolean) => void) => { abort(): void };

export class ConnectionMonitor {
  readonly #opts: ConnectionMonitorOptions;
  readonly #timers: Timers;
  readonly #ping: Pinger;
  readonly #onLost: () => void;
  readonly #onRestored: (() => void) | undefined;
  #connected = true;
  #cancel: (() => void) | undefined;
  #running = false;
  losses = 0;

  constructor(opts: ConnectionMonitorOptions, deps: { timers: Timers; ping: Pinger; onLost: () => void; onRestored?: () => void }) {
    this.#opts = opts;
    this.#timers = deps.timers;
    this.#ping = deps.ping;
    this.#onLost = deps.onLost;
    this.#onRestored = deps.onRestored;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#cancel = this.#timers.after(this.#opts.intervalMs, () => this.#tick());
  }

  stop(): void {
    this.#running = false;
    this.#cancel?.();
  }

  #tick(): void {
    if (!this.#running) return;
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      if (!this.#running) return;
      if (ok && !this.#connected) {
        this.#connected = true;
        this.#onRestored?.();
      } else if (!ok && this.#connected) {
        this.#connected = false;
        this.losses++;
        this.#onLost();
      }
      this.#cancel = this.#timers.after(this.#opts.intervalMs, () => this.#tick());
    };
    const cancelTimeout = this.#timers.after(this.#opts.timeoutMs, () => {
      handle.abort();
      settle(false);
    });
    const handle = this.#ping(this.#opts.timeoutMs, settle);
  }
}
