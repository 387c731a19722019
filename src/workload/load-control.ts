/**
 * The load generator as the runner drives it (run/variant-steps.ts): start, change the rate and the mix, wait for the
 * end or stop, then read the history. `LoadGenerator` runs in the lab's process; `RemoteLoadGenerator`
 * (remote/remote-load-generator.ts) drives one in another process or pod over HTTP.
 */
import type { RecordedHistory } from './history.js';
import type { LoadSummary } from './load-generator.js';

export interface LoadControl {
  /** The summary once the load ended by itself or was stopped; rejects when the generator failed. */
  readonly done: Promise<LoadSummary>;
  /** The recorded history when `recordHistory` is on (a remote one: once `done` has settled). */
  readonly history: RecordedHistory | undefined;
  start(): void;
  /** Ramps linearly from the current rate to `rate` req/s over `rampMs`, starting now. */
  setRate(rate: number, rampMs: number): void;
  /** Changes the weights of the named operations; the others keep theirs. */
  setWeights(weights: Record<string, number>): void;
  /** Stops issuing, cancels outstanding requests, and resolves the summary (`done`). */
  stop(): Promise<LoadSummary>;
}
