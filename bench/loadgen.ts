/**
 * Benchmark of the open-loop load generator against autocannon, on the same endpoint in the same process run.
 *   1. autocannon (closed loop, a few connections): the endpoint's max throughput as a good client sees it;
 *   2. our generator asked for well above that: its own max throughput (target ≥ 0.7 × autocannon);
 *   3. our generator at fixed rates: the rate it holds vs the rate asked (target within 1%), measured both by
 *      the generator and, independently, by the server counting what arrives.
 * Each measurement is repeated and the median kept.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { LoadGenerator, type LoadSpec, type LoadSummary } from '../src/workload/load-generator.js';
import { startBenchTarget, type ServerCounts } from './target-server.js';

export interface Row {
  metric: string;
  value: number;
  unit: string;
  target: string;
  /** null: informational, no target. */
  ok: boolean | null;
  note?: string;
}

export interface LoadBenchOptions {
  /** Path template of the GET endpoint (with {key}); default the bench target's `/kv/{key}` with writes mixed in. */
  getPath?: string;
  /** Default 3. */
  repetitions?: number;
  /** Per measurement; default 5000. */
  durationMs?: number;
  /** autocannon connections; default 10. */
  connections?: number;
  /** In-flight cap for our max-throughput run; default 4 × connections (open loop needs headroom, see below). */
  maxInFlight?: number;
  /** Asked rates for the held-rate runs; default [500, 2000]. */
  heldRates?: number[];
  /** Server-side request counts (the bench target provides them) for an independent held-rate check. */
  serverCounts?: { reset(): Promise<void>; read(): Promise<ServerCounts> };
  log?: (line: string) => void;
}

// autocannon ships no types; only the part used here is described.
interface AutocannonResult {
  requests: { total: number };
  duration: number;
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

function baseSpec(url: string, rate: number, durationMs: number, maxInFlight: number, seed: number, getPath = '/kv/{key}'): LoadSpec {
  return {
    targets: [url],
    rate,
    arrival: 'constant',
    // The bench target also takes writes; a toy endpoint is read-only (getOnly).
    operations: getPath === '/kv/{key}'
      ? [
          { name: 'get', method: 'GET', path: '/kv/{key}', weight: 9 },
          { name: 'put', method: 'PUT', path: '/kv/{key}', weight: 1, body: '{"v":{seq}}' },
        ]
      : [{ name: 'get', method: 'GET', path: getPath, weight: 1 }],
    keys: { count: 1000, distribution: 'zipf', exponent: 0.99 },
    timeoutMs: 2000,
    maxInFlight,
    durationMs,
    seed,
    recordHistory: false,
  };
}

async function runGenerator(spec: LoadSpec, client: 'raw' | 'node' = 'raw'): Promise<LoadSummary> {
  const gen = new LoadGenerator(spec, {}, { client });
  gen.start();
  return gen.done;
}

export async function benchLoadGenerator(url: string, opts: LoadBenchOptions = {}): Promise<Row[]> {
  const reps = opts.repetitions ?? 3;
  const durationMs = opts.durationMs ?? 5000;
  const connections = opts.connections ?? 10;
  // Our scheduler wakes on 1 ms timers, so a freed slot waits up to ~1 ms for the next due arrival; a closed-loop
  // client refills it at once. A few times the connections covers that gap at the same server load.
  const maxInFlight = opts.maxInFlight ?? 4 * connections;
  const heldRates = opts.heldRates ?? [500, 2000];
  const log = opts.log ?? (() => undefined);
  const require = createRequire(import.meta.url);
  const autocannon = require('autocannon') as Autocannon;

  const cannon: number[] = [];
  const ours: number[] = [];
  const oursNodeHttp: number[] = [];
  const held = new Map<number, { generator: number[]; server: number[]; okShare: number[]; lagP99: number[] }>();
  for (const r of heldRates) held.set(r, { generator: [], server: [], okShare: [], lagP99: [] });

  for (let rep = 0; rep < reps; rep++) {
    const ac = await autocannon({ url: `${url}${(opts.getPath ?? '/kv/{key}').replace('{key}', '1')}`, connections, duration: durationMs / 1000, pipelining: 1 });
    const acRate = ac.requests.total / ac.duration;
    cannon.push(acRate);
    log(`rep ${rep + 1}: autocannon ${acRate.toFixed(0)} req/s (errors ${ac.errors}, non2xx ${ac.non2xx})`);

    const max = await runGenerator(baseSpec(url, 2 * acRate, durationMs, maxInFlight, rep + 1, opts.getPath));
    const ourRate = ((max.ok + max.error) * 1000) / max.durationMs;
    ours.push(ourRate);
    log(`rep ${rep + 1}: generator max ${ourRate.toFixed(0)} req/s (asked ${max.askedRate.toFixed(0)}, dropped ${max.dropped}, errors ${max.error}, timeouts ${max.timeout})`);
    const viaNode = await runGenerator(baseSpec(url, 2 * acRate, durationMs, maxInFlight, rep + 1, opts.getPath), 'node');
    oursNodeHttp.push(((viaNode.ok + viaNode.error) * 1000) / viaNode.durationMs);
    log(`rep ${rep + 1}: generator max with node:http ${oursNodeHttp[rep]!.toFixed(0)} req/s`);

    for (const rate of heldRates) {
      await opts.serverCounts?.reset();
      const s = await runGenerator(baseSpec(url, rate, durationMs, 1000, 100 + rep, opts.getPath));
      const h = held.get(rate)!;
      h.generator.push(s.achievedRate / rate);
      h.okShare.push(s.ok / Math.max(1, s.sent));
      h.lagP99.push(s.sendLagMs.p99);
      if (opts.serverCounts) {
        const c = await opts.serverCounts.read();
        // n arrivals evenly spaced span (n − 1) gaps.
        const serverRate = c.count > 1 ? ((c.count - 1) * 1000) / (c.lastMs - c.firstMs) : 0;
        h.server.push(serverRate / rate);
        log(`rep ${rep + 1}: @${rate}: generator ${s.achievedRate.toFixed(1)}, server saw ${serverRate.toFixed(1)} req/s; ok ${s.ok}/${s.sent}; send lag p99 ${s.sendLagMs.p99} ms; latency p99 ${s.latencyMs.p99} ms`);
      } else {
        log(`rep ${rep + 1}: @${rate}: generator ${s.achievedRate.toFixed(1)} req/s; ok ${s.ok}/${s.sent}; send lag p99 ${s.sendLagMs.p99} ms`);
      }
    }
  }

  const within1 = (x: number): boolean => Math.abs(x - 1) <= 0.01;
  const ratio = median(ours) / median(cannon);
  const note = `median of ${reps}; ${durationMs / 1000} s each`;
  const rows: Row[] = [
    { metric: `autocannon max throughput (${connections} connections)`, value: round(median(cannon), 0), unit: 'req/s', target: 'reference', ok: null, note },
    { metric: `generator max throughput (maxInFlight ${maxInFlight})`, value: round(median(ours), 0), unit: 'req/s', target: 'reference', ok: null, note },
    { metric: 'generator / autocannon max throughput', value: round(ratio), unit: 'ratio', target: '≥ 0.7', ok: ratio >= 0.7, note },
    {
      metric: 'generator with node:http / autocannon max throughput',
      value: round(median(oursNodeHttp) / median(cannon)),
      unit: 'ratio',
      target: 'info (why raw sockets are the default)',
      ok: null,
      note,
    },
  ];
  for (const [rate, h] of held) {
    const g = median(h.generator);
    rows.push({ metric: `held / asked rate @${rate} req/s (generator count)`, value: round(g, 4), unit: 'ratio', target: '1 ± 0.01', ok: within1(g), note });
    if (h.server.length > 0) {
      const sv = median(h.server);
      rows.push({ metric: `held / asked rate @${rate} req/s (server count)`, value: round(sv, 4), unit: 'ratio', target: '1 ± 0.01', ok: within1(sv), note });
    }
    const okShare = median(h.okShare);
    rows.push({ metric: `ok share @${rate} req/s`, value: round(okShare, 4), unit: 'ratio', target: '≥ 0.99', ok: okShare >= 0.99, note });
    rows.push({ metric: `send lag p99 @${rate} req/s`, value: round(median(h.lagP99), 2), unit: 'ms', target: 'info', ok: null, note });
  }
  return rows;
}

/** Starts the child-process target, runs the benchmark, and always stops the target. */
export async function runLoadBench(opts: LoadBenchOptions = {}): Promise<Row[]> {
  const target = await startBenchTarget();
  try {
    return await benchLoadGenerator(target.url, {
      ...opts,
      serverCounts: { reset: () => target.resetCounts(), read: () => target.counts() },
    });
  } finally {
    await target.stop();
  }
}

/** The entry bench/main.ts expects. */
export const benchLoadGeneratorRows = (repetitions: number): Promise<Row[]> => runLoadBench({ repetitions });

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const reps = Number(process.argv[2] ?? 3); // node dist/bench/loadgen.js [repetitions]
  const rows = await runLoadBench({ repetitions: reps, log: (l) => console.error(l) });
  console.table(rows);
  process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1;
}
