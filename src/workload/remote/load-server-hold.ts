/**
 * Keeps a load server alive between loads. The server closes after `idleMs` without a control call (the lab is
 * gone); a run's steps between two variants' loads (checkers, stopping and starting nodes) can be longer than
 * that, so whoever started the server (the runtime, for the run's whole life) calls its status at a steady pace
 * until it releases it. The lab dying stops the calls, and the server ends by itself.
 */
import { LOAD_API } from './load-api.js';

export interface LoadServerHold {
  release(): void;
}

export interface HoldOptions {
  /** Well under the server's idle deadline (60 s by default). */
  intervalMs?: number;
  token?: string;
  /** Replaces the global fetch (unit tests). */
  fetch?: typeof fetch;
}

export function holdLoadServer(baseUrl: string, opts: HoldOptions = {}): LoadServerHold {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const intervalMs = opts.intervalMs ?? 10_000;
  const headers: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  const timer = setInterval(() => {
    // Failures are the load's to report (RemoteLoadGenerator), not the hold's: a missed call costs nothing.
    doFetch(new URL(LOAD_API.status, baseUrl), { headers, signal: AbortSignal.timeout(intervalMs) }).then(
      (res) => res.body?.cancel(),
      () => undefined,
    );
  }, intervalMs);
  // The hold alone must not keep the lab's process alive.
  timer.unref();
  return { release: () => clearInterval(timer) };
}
