/**
 * Readiness waiting, after testcontainers' wait strategies: a strategy knows how to tell that a target is ready
 * and owns its timeout; `waitUntilReady(target, deadline?)` polls until it is, the target is gone, or time is up.
 * Runtimes, parts (Toxiproxy, Prometheus) and reapers share these instead of each polling on its own.
 */
import { sleep } from '../../common/time.js';

/** What is waited for. */
export interface WaitTarget {
  /** As messages name it, e.g. `node backend-1`, `Toxiproxy in Docker`. */
  readonly name: string;
  /** Why it can never become ready (it exited, with how), or undefined while it runs. */
  gone?(): string | undefined;
}

export type WaitOutcome = 'timeout' | 'gone';

/** Thrown when a wait ends unready. Callers turn it into their own `LabError`; `outcome` says which case. */
export class WaitFailure extends Error {
  constructor(
    readonly outcome: WaitOutcome,
    readonly target: string,
    /** For `timeout`: the last probe's answer; for `gone`: how the target ended. */
    readonly detail: string,
    readonly timeoutMs: number,
  ) {
    super(outcome === 'gone' ? `${target} ${detail} before it was ready` : `${target} was not ready within ${timeoutMs} ms (${detail})`);
    this.name = 'WaitFailure';
  }
}

/** Time, injectable so the waiting logic is tested without waiting. */
export interface WaitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: WaitClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/** One look at the target: `true` when ready, else what it answered (`status 503`, `ECONNREFUSED`, ...). */
export type ProbeResult = true | string;

export interface WaitStrategy {
  readonly timeoutMs: number;
  /** A copy with another timeout. */
  withTimeout(ms: number): WaitStrategy;
  /**
   * Resolves once ready. `deadline` (epoch ms) cuts the strategy's own timeout short, so strategies composed with
   * `Wait.forAll` share one budget. Throws `WaitFailure`.
   */
  waitUntilReady(target: WaitTarget, deadline?: number): Promise<void>;
}

/** A strategy that asks `probe` every `intervalMs`; subclasses say what one probe is. */
export abstract class PollingWaitStrategy implements WaitStrategy {
  constructor(
    readonly timeoutMs: number,
    protected readonly intervalMs: number,
    protected readonly clock: WaitClock = realClock,
  ) {}

  /** `remainingMs`: how long this probe may take at most. */
  protected abstract probe(remainingMs: number): Promise<ProbeResult>;
  protected abstract copy(timeoutMs: number): PollingWaitStrategy;

  withTimeout(ms: number): WaitStrategy {
    return this.copy(ms);
  }

  /** One probe, for callers that interleave their own checks (a log that says the bind failed). */
  async isReady(probeTimeoutMs = 500): Promise<boolean> {
    return (await this.probe(probeTimeoutMs)) === true;
  }

  async waitUntilReady(target: WaitTarget, deadline?: number): Promise<void> {
    const own = this.clock.now() + this.timeoutMs;
    const end = deadline === undefined ? own : Math.min(own, deadline);
    const timeoutMs = Math.max(0, end - (own - this.timeoutMs));
    let last = 'no answer yet';
    while (this.clock.now() < end) {
      const gone = target.gone?.();
      if (gone !== undefined) throw new WaitFailure('gone', target.name, gone, timeoutMs);
      const result = await this.probe(Math.max(1, end - this.clock.now()));
      if (result === true) return;
      last = result;
      await this.clock.sleep(this.intervalMs);
    }
    const gone = target.gone?.();
    if (gone !== undefined) throw new WaitFailure('gone', target.name, gone, timeoutMs);
    throw new WaitFailure('timeout', target.name, last, timeoutMs);
  }
}
