/**
 * A storage node's view of its membership (the partitions it owns), fetched from the metadata service.
 *
 * Baseline behaviour, as AWS described DynamoDB's storage servers in 2015: refresh periodically and after losing the
 * connection to the metadata service; a fetch that misses its time allowance is retried (after a short fixed delay)
 * and the node takes itself out of service until a fetch succeeds.
 *
 * Mitigations, each a switch of `MembershipPolicy`:
 * - `serveStale` (static stability): a failed fetch does not invalidate the last known good membership; the node
 *   keeps serving from it for up to `maxStaleMs`.
 * - `backoff: 'full-jitter'`: retry after U(0, min(cap, base·2^(failures-1))) instead of a fixed delay.
 * - `retryBudget`: retries spend tokens from a bucket refilled at `retryBudget` per second (at most `retryBudgetBurst`);
 *   without a token the retry waits for one. Fetches for a refresh or a lost connection are not retries.
 * - `breakerFailures`: after that many consecutive failures the breaker opens for `breakerOpenMs`; attempts in that
 *   time are not sent. Then one probe goes out (half-open): success closes the breaker, failure opens it again.
 *
 * Pure logic: time, randomness and the network come in through `Timers`, `random` and `Fetcher`.
 */
import type { Timers } from './timers.js';

export interface Membership {
  /** Increases with every change the metadata service makes. */
  version: number;
  /** Partitions this node owns. */
  partitions: number[];
  /** Entries in the membership document (partitions and their index partitions); drives the service's cost. */
  entries: number;
  /** Storage nodes in the fleet: the number of refresh slots. */
  nodes: number;
  /** Partitions in the table, to map keys to partitions. */
  partitionCount: number;
}

export type FetchReply =
  | { kind: 'ok'; membership: Membership }
  /** The service shed the request at once (429): its queue is full. */
  | { kind: 'rejected' }
  /** Connection refused or reset, or a 5xx. */
  | { kind: 'error'; reason: string };

export type FetchResult = 'ok' | 'timeout' | 'rejected' | 'error';
export type FetchReason = 'bootstrap' | 'refresh' | 'reconnect' | 'retry';

export interface FetchAttempt {
  /** The allowance; the client gives up after it (and tells the fetcher to abort). */
  timeoutMs: number;
  /** Index of the metadata host to ask (0 = the primary). */
  host: number;
  reason: FetchReason;
}

/** Starts one fetch; calls `done` at most once. `abort` is called when the client gives up first. */
export type Fetcher = (attempt: FetchAttempt, done: (reply: FetchReply) => void) => { abort(): void };

export interface MembershipPolicy {
  /** The allowance for a fetch: past it the reply is useless to the node. */
  timeoutMs: number;
  /** The allowance for the very first fetch, when the node has never had a membership (a cold start is patient). */
  bootstrapTimeoutMs: number;
  /** Period of the scheduled refresh. */
  refreshIntervalMs: number;
  /**
   * Scheduled refreshes happen in this node's slot of the period (slot k of `membership.nodes` equal slots), aligned
   * to the shared wall clock, so a fleet spreads its load instead of refreshing in step.
   */
  refreshSlot: number;
  /** Uniform extra delay in [0, jitter) added to each scheduled refresh. */
  refreshJitterMs: number;
  serveStale: boolean;
  /** With `serveStale`, how old a membership may get before the node stops trusting it. */
  maxStaleMs: number;
  backoff: 'fixed' | 'full-jitter';
  /** `fixed`: delay before every retry. */
  retryDelayMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Retry tokens per second; 0 = no budget (retries unlimited). */
  retryBudget: number;
  retryBudgetBurst: number;
  /** Consecutive failures that open the breaker; 0 = no breaker. */
  breakerFailures: number;
  breakerOpenMs: number;
  /** Metadata hosts this node may ask (1 = only the primary). After a failure it moves to the next one. */
  hosts: number;
}

export const BASELINE_POLICY: MembershipPolicy = {
  timeoutMs: 1000,
  bootstrapTimeoutMs: 10_000,
  refreshIntervalMs: 6000,
  refreshSlot: 0,
  refreshJitterMs: 100,
  serveStale: false,
  maxStaleMs: 300_000,
  backoff: 'fixed',
  retryDelayMs: 100,
  backoffBaseMs: 1000,
  backoffCapMs: 16_000,
  retryBudget: 0,
  retryBudgetBurst: 3,
  breakerFailures: 0,
  breakerOpenMs: 5000,
  hosts: 1,
};

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface MembershipEvents {
  /** Every fetch that was sent, when it ends. */
  onFetch?(result: FetchResult, durationMs: number, reason: FetchReason, host: number): void;
  /** An attempt the breaker kept from being sent. */
  onBreakerSkip?(): void;
  /** A retry that waited for a budget token. */
  onBudgetWait?(waitMs: number): void;
  onServingChange?(serving: boolean): void;
  onBreakerChange?(state: BreakerState): void;
}

/**
 * Decisions a workshop module may take instead of the policy (toys/lib/extension.ts guards the calls).
 * - `retryDelay(attempt, lastError)`: ms before the retry after the `attempt`-th consecutive failure; null = no
 *   retry, wait for the next scheduled refresh.
 * - `allowAttempt(failures, msSinceLastFailure)`: false = do not send this retry (fail fast, as an open breaker
 *   does); the node asks again after the next retry delay.
 */
export interface MembershipDecisions {
  retryDelay?(attempt: number, lastError: Exclude<FetchResult, 'ok'>, defaultMs: number): number | null;
  allowAttempt?(failures: number, msSinceLastFailure: number): boolean;
}

export interface MembershipClientDeps {
  timers: Timers;
  /** Wall-clock milliseconds shared by the fleet; refresh slots are aligned to it. */
  wallNow: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
  fetch: Fetcher;
  events?: MembershipEvents;
  decisions?: MembershipDecisions;
}

export class MembershipClient {
  readonly policy: MembershipPolicy;
  readonly #d: MembershipClientDeps;
  #membership: Membership | undefined;
  #fetchedAt = 0;
  /** False after a failed fetch unless the policy serves stale. */
  #valid = false;
  #inFlight: { abort(): void } | undefined;
  #cancelNext: (() => void) | undefined;
  #failures = 0;
  #lastFailureAt = 0;
  #lastError: Exclude<FetchResult, 'ok'> = 'error';
  #host = 0;
  #breaker: BreakerState = 'closed';
  #openUntil = 0;
  #tokens: number;
  #tokensAt = 0;
  #servingReported = false;
  #stopped = true;

  constructor(policy: MembershipPolicy, deps: MembershipClientDeps) {
    if (policy.timeoutMs <= 0 || policy.refreshIntervalMs <= 0) throw new RangeError('timeoutMs and refreshIntervalMs must be > 0');
    if (policy.hosts < 1) throw new RangeError('hosts must be >= 1');
    this.policy = policy;
    this.#d = deps;
    this.#tokens = policy.retryBudgetBurst;
  }

  /** Fetches at once (bootstrap), then keeps the membership fresh until `stop`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#tokensAt = this.#d.timers.now();
    this.#attempt('bootstrap');
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelNext?.();
    this.#cancelNext = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
  }

  /** The connection to the metadata service was lost: re-fetch now (the baseline's trigger for a herd). */
  connectionLost(): void {
    if (this.#stopped || this.#inFlight) return;
    this.#cancelNext?.();
    this.#attempt('reconnect');
  }

  get membership(): Membership | undefined {
    return this.#membership;
  }

  /** Whether the node may answer requests: it has a membership it trusts. */
  get serving(): boolean {
    if (!this.#membership || !this.#valid) return false;
    return !this.policy.serveStale || this.cacheAgeMs() <= this.policy.maxStaleMs;
  }

  owns(partition: number): boolean {
    return this.serving && this.#membership!.partitions.includes(partition);
  }

  /** Age of the membership the node holds (since the fetch that brought it); 0 before the first. */
  cacheAgeMs(): number {
    return this.#membership ? this.#d.timers.now() - this.#fetchedAt : 0;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  get breakerState(): BreakerState {
    return this.#breaker;
  }

  get fetchInFlight(): boolean {
    return this.#inFlight !== undefined;
  }

  get host(): number {
    return this.#host;
  }

  #attempt(reason: FetchReason): void {
    this.#cancelNext = undefined;
    if (this.#stopped) return;
    const now = this.#d.timers.now();
    const p = this.policy;

    if (p.breakerFailures > 0 && this.#breaker === 'open') {
      if (now < this.#openUntil) {
        this.#d.events?.onBreakerSkip?.();
        this.#schedule(this.#openUntil - now, 'retry');
        return;
      }
      this.#setBreaker('half-open');
    }
    const allow = this.#d.decisions?.allowAttempt;
    if (reason === 'retry' && allow && this.#failures > 0 && !allow(this.#failures, now - this.#lastFailureAt)) {
      this.#d.events?.onBreakerSkip?.();
      this.#scheduleRetry();
      return;
    }
    if (reason === 'retry' && p.retryBudget > 0) {
      this.#refill(now);
      if (this.#tokens < 1) {
        const waitMs = Math.ceil(((1 - this.#tokens) / p.retryBudget) * 1000);
        this.#d.events?.onBudgetWait?.(waitMs);
        this.#schedule(waitMs, 'retry');
        return;
      }
      this.#tokens -= 1;
    }

    const timeoutMs = this.#membership ? p.timeoutMs : p.bootstrapTimeoutMs;
    const host = this.#host;
    const started = now;
    let settled = false;
    let handle: { abort(): void } | undefined;
    const settle = (result: FetchResult, membership?: Membership): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      this.#inFlight = undefined;
      if (this.#stopped) return;
      this.#d.events?.onFetch?.(result, this.#d.timers.now() - started, reason, host);
      if (result === 'ok') this.#succeeded(membership!);
      else this.#failed(result);
    };
    // The allowance is the client's own: a reply after it is ignored, whatever the network does.
    const cancelTimeout = this.#d.timers.after(timeoutMs, () => {
      handle?.abort();
      settle('timeout');
    });
    // Set before calling the fetcher: a fetcher may answer synchronously (e.g. connection refused).
    this.#inFlight = { abort: () => handle?.abort() };
    handle = this.#d.fetch({ timeoutMs, host, reason }, (reply) => {
      if (reply.kind === 'ok') settle('ok', reply.membership);
      else settle(reply.kind);
    });
  }

  #succeeded(m: Membership): void {
    this.#membership = m;
    this.#fetchedAt = this.#d.timers.now();
    this.#valid = true;
    this.#failures = 0;
    if (this.#breaker !== 'closed') this.#setBreaker('closed');
    this.#reportServing();
    this.#schedule(this.#untilNextSlot(), 'refresh');
  }

  #failed(error: Exclude<FetchResult, 'ok'>): void {
    const p = this.policy;
    this.#failures++;
    this.#lastFailureAt = this.#d.timers.now();
    this.#lastError = error;
    // The baseline's flaw: a slow answer makes the node distrust what it holds and leave service.
    if (!p.serveStale) this.#valid = false;
    this.#reportServing();
    if (p.breakerFailures > 0 && (this.#breaker === 'half-open' || this.#failures >= p.breakerFailures)) {
      this.#openUntil = this.#d.timers.now() + p.breakerOpenMs;
      this.#setBreaker('open');
    }
    this.#host = (this.#host + 1) % p.hosts;
    this.#scheduleRetry();
  }

  /** The next retry, after the module's delay if it decides (null: none, wait for the next refresh slot). */
  #scheduleRetry(): void {
    const fallback = this.retryDelayMs(this.#failures);
    const decide = this.#d.decisions?.retryDelay;
    const delay = decide ? decide(this.#failures, this.#lastError, fallback) : fallback;
    if (delay === null) this.#schedule(this.#untilNextSlot(), 'refresh');
    else this.#schedule(delay, 'retry');
  }

  /** Delay before the retry that follows the `failures`-th consecutive failure. */
  retryDelayMs(failures: number): number {
    const p = this.policy;
    if (p.backoff === 'fixed') return p.retryDelayMs;
    const ceiling = Math.min(p.backoffCapMs, p.backoffBaseMs * 2 ** Math.max(0, failures - 1));
    return this.#d.random() * ceiling;
  }

  /** Time until this node's next refresh slot, at least half a period away, plus jitter. */
  #untilNextSlot(): number {
    const p = this.policy;
    const wall = this.#d.wallNow();
    const slots = Math.max(1, this.#membership?.nodes ?? 1);
    const offset = (p.refreshSlot % slots) * (p.refreshIntervalMs / slots);
    let next = Math.floor((wall - offset) / p.refreshIntervalMs) * p.refreshIntervalMs + offset + p.refreshIntervalMs;
    if (next - wall < p.refreshIntervalMs / 2) next += p.refreshIntervalMs;
    return next - wall + this.#d.random() * p.refreshJitterMs;
  }

  #schedule(ms: number, reason: FetchReason): void {
    this.#cancelNext?.();
    this.#cancelNext = this.#d.timers.after(ms, () => this.#attempt(reason));
  }

  #refill(now: number): void {
    const p = this.policy;
    this.#tokens = Math.min(p.retryBudgetBurst, this.#tokens + ((now - this.#tokensAt) / 1000) * p.retryBudget);
    this.#tokensAt = now;
  }

  #setBreaker(state: BreakerState): void {
    this.#breaker = state;
    this.#d.events?.onBreakerChange?.(state);
  }

  #reportServing(): void {
    const s = this.serving;
    if (s !== this.#servingReported) {
      this.#servingReported = s;
      this.#d.events?.onServingChange?.(s);
    }
  }
}
