import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PHASES = ['setup', 'steady', 'fault', 'recovery', 'teardown'] as const;
export type Phase = (typeof PHASES)[number];

export const REQUEST_OUTCOMES = ['ok', 'error', 'timeout', 'dropped'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/**
 * 1 ms .. 10 s, 1-2.5-5 per decade, and finer from 100 ms to 1 s where SLOs (300 ms, 500 ms) and timeouts
 * (200 ms) sit: histogram_quantile interpolates inside a bucket, so with only 0.25 and 0.5 a p99 of 260 ms
 * read as anything up to 500 ms and a 500 ms SLO judged by bucket width, not by the toy.
 */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10];

/** The lab's own view of a run, scraped by Prometheus next to the cluster's metrics. */
export interface LabMetrics {
  readonly registry: Registry;
  /** `link` is a link name, or a node name for node faults (kill, pause). */
  setFaultActive(fault: string, link: string, active: boolean): void;
  setPhase(phase: Phase): void;
  observeRequest(op: string, outcome: RequestOutcome, latencySeconds: number): void;
  /** The request rate the load generator was asked for, in req/s. */
  setTargetRate(reqPerSec: number): void;
}

/** The client side of the load as Prometheus sees it; the lab and the load server (workload/remote) export the same series. */
export interface ClientRequestMetrics {
  observeRequest(op: string, outcome: RequestOutcome, latencySeconds: number): void;
}

/** One definition of the client request series, so a load generator in another process exports the same names and labels. */
export function registerClientRequestMetrics(registry: Registry): ClientRequestMetrics {
  const requests = new Counter({
    name: 'chaoslab_client_requests_total',
    help: 'Client requests sent by the load generator, by operation and outcome.',
    labelNames: ['op', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'chaoslab_client_request_duration_seconds',
    help: 'Client request latency as the load generator saw it.',
    labelNames: ['op'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const knownOps = new Set<string>();
  return {
    observeRequest(op, outcome, latencySeconds) {
      if (!knownOps.has(op)) {
        // A counter series that first appears at 1 loses that increment in rate(); starting every
        // outcome at 0 makes the first error of a fault visible to error-rate assertions.
        knownOps.add(op);
        for (const o of REQUEST_OUTCOMES) requests.inc({ op, outcome: o }, 0);
      }
      requests.inc({ op, outcome });
      duration.observe({ op }, latencySeconds);
    },
  };
}

/** A fresh registry per run, never prom-client's global one, so runs and tests do not share state. */
export function createLabMetrics(registry: Registry = new Registry()): LabMetrics {
  const faultActive = new Gauge({
    name: 'chaoslab_fault_active',
    help: '1 while the fault is injected on the link (or node), 0 after its heal.',
    labelNames: ['fault', 'link'] as const,
    registers: [registry],
  });
  const phase = new Gauge({
    name: 'chaoslab_phase',
    help: '1 for the current phase of the run, 0 for the others.',
    labelNames: ['phase'] as const,
    registers: [registry],
  });
  const clientRequests = registerClientRequestMetrics(registry);
  const targetRate = new Gauge({
    name: 'chaoslab_load_target_rate',
    help: 'Request rate the load generator was asked for (req/s).',
    registers: [registry],
  });

  for (const p of PHASES) phase.set({ phase: p }, 0);

  return {
    registry,
    setFaultActive(fault, link, active) {
      faultActive.set({ fault, link }, active ? 1 : 0);
    },
    setPhase(current) {
      for (const p of PHASES) phase.set({ phase: p }, p === current ? 1 : 0);
    },
    observeRequest: clientRequests.observeRequest,
    setTargetRate(reqPerSec) {
      targetRate.set(reqPerSec);
    },
  };
}

export interface LabMetricsServer {
  port: number;
  /** `<host>:<port>`, ready to be a scrape target. */
  address: string;
  metrics: LabMetrics;
  stop(): Promise<void>;
}

/**
 * Serves `GET /metrics` on a free port of `host` (loopback by default; the Docker runtime passes its run
 * network's gateway, where the Prometheus container can reach the host).
 */
export async function startLabMetricsServer(metrics: LabMetrics = createLabMetrics(), opts: { host?: string } = {}): Promise<LabMetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method !== 'GET' || (url !== '/metrics' && !url.startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
    );
  });
  // Port 0: the kernel picks a free port atomically, so there is no race to retry.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    port,
    address: `${host}:${port}`,
    metrics,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connection alive; do not wait for it to let go.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
