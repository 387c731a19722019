/**
 * The lab's own metrics (phases, active faults, checker counts), pushed to the load server in the cluster, which
 * serves them to Prometheus (`/metrics/lab`). Pods cannot always reach the user's machine (a cluster far from the
 * laptop); the load server's port-forward goes the other way, so the lab pushes. Every `intervalMs` and once more
 * on `flush()`: a value set just before the judge (a checker's count) is there within one push and one scrape,
 * inside the two scrape intervals the judge waits.
 */
import { LOAD_API } from './load-api.js';

export interface LabMetricsPush {
  /** Pushes now (and waits for it). */
  flush(): Promise<void>;
  stop(): void;
}

export interface LabMetricsPushOptions {
  token: string;
  /** Well under Prometheus's scrape interval (1 s). */
  intervalMs?: number;
  /** Replaces the global fetch (unit tests). */
  fetch?: typeof fetch;
  /** A push that failed: reported once per outage, not every interval. */
  onError?: (e: unknown) => void;
}

export function pushLabMetrics(baseUrl: string, text: () => Promise<string>, opts: LabMetricsPushOptions): LabMetricsPush {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const intervalMs = opts.intervalMs ?? 250;
  let failing = false;
  let inFlight: Promise<void> | undefined;
  const push = (): Promise<void> =>
    (inFlight ??= (async () => {
      try {
        const res = await doFetch(new URL(LOAD_API.labMetrics, baseUrl), {
          method: 'PUT',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'text/plain' },
          body: await text(),
          signal: AbortSignal.timeout(Math.max(1000, intervalMs * 4)),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`the load server answered HTTP ${res.status} to ${LOAD_API.labMetrics}`);
        failing = false;
      } catch (e) {
        if (!failing) opts.onError?.(e);
        failing = true;
      } finally {
        inFlight = undefined;
      }
    })());
  const timer = setInterval(() => void push(), intervalMs);
  timer.unref();
  void push();
  return {
    flush: async () => {
      await inFlight;
      await push();
    },
    stop: () => clearInterval(timer),
  };
}
