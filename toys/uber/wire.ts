/**
 * What the uber nodes share: the pool (params, metrics, admission as an HTTP reply), the city grid from params,
 * the shard directory (seed shards + joined members, polled), and body checks (a bad body is a 400, never a crash).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { createAgent } from '../lib/http-client.js';
import { HttpError, PeerClient, sleep, type Toy } from '../lib/toy-node.js';
import { HexGrid, ownerOf } from './cells.js';
import { parseMember, shardList, type Member } from './membership.js';
import { CRITICALITIES, WorkerPool, type Criticality } from './pool.js';

export const CRITICALITY_HEADER = 'x-criticality';
/** Seconds: from a second (healthy) to the minutes a metastable backlog reaches. */
export const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 90, 120];

export function gridFromParams(toy: Toy): HexGrid {
  return new HexGrid(toy.params.num('rings', 8), toy.params.num('cellMeters', 500));
}

/**
 * Asked before the pool admits a request (the geo-index's workshop extension point, exercise 6): true refuses it
 * as shed (429, counted like the built-in shedding), false lets the pool decide (its own policy: off unless the
 * `shedding` param is on).
 */
export type ShedDecision = (queueDelayMs: number, criticality: Criticality) => boolean;

/** A node's bounded worker pool from its params, with its metrics. */
export function poolFromParams(toy: Toy, defaults: { workers: number; maxQueue: number }, shouldShed?: ShedDecision): Pooled {
  const shedding = toy.params.liveBool('shedding', false);
  const pool = new WorkerPool({
    workers: toy.params.num('workers', defaults.workers),
    maxQueue: toy.params.num('maxQueue', defaults.maxQueue),
    shedding: {
      // Live (a config push turns shedding on while the node runs): the pool reads it per admission.
      get enabled() {
        return shedding();
      },
      backgroundDelayMs: toy.params.num('shedBackgroundDelayMs', 100),
      criticalDelayMs: toy.params.num('shedCriticalDelayMs', 1000),
      backgroundFloor: toy.params.num('shedBackgroundFloor', 0.2),
    },
  });
  const rng = toy.rng.fork('pool');
  const outcomes = new Counter({
    name: 'uber_pool_requests_total',
    help: 'Requests at this node\'s worker pool by criticality and outcome (served, shed: refused by the queueing-delay bound, full: refused by the queue bound).',
    labelNames: ['criticality', 'outcome'],
    registers: [toy.registry],
  });
  const shed = new Counter({
    name: 'uber_shed_total',
    help: 'Requests refused by criticality shedding (the queueing delay was above the bound for their criticality).',
    labelNames: ['criticality'],
    registers: [toy.registry],
  });
  for (const c of CRITICALITIES) {
    shed.inc({ criticality: c }, 0);
    for (const o of ['served', 'shed', 'full']) outcomes.inc({ criticality: c, outcome: o }, 0);
  }
  const wait = new Histogram({
    name: 'uber_queue_wait_seconds',
    help: 'Time admitted requests wait in the FIFO queue for a worker.',
    labelNames: ['criticality'],
    buckets: LAG_BUCKETS,
    registers: [toy.registry],
  });
  new Gauge({
    name: 'uber_queue_depth',
    help: 'Requests admitted and waiting for a worker.',
    registers: [toy.registry],
    collect() {
      this.set(pool.queueDepth(performance.now()));
    },
  });
  new Gauge({
    name: 'uber_queue_delay_seconds',
    help: 'How long a request arriving now would wait for a worker (the queueing latency shedding looks at).',
    registers: [toy.registry],
    collect() {
      this.set(pool.queueDelayMs(performance.now()) / 1000);
    },
  });
  new Gauge({
    name: 'uber_pool_workers',
    help: 'Workers in this node\'s pool.',
    registers: [toy.registry],
    collect() {
      this.set(pool.options.workers);
    },
  });
  new Counter({
    name: 'uber_busy_seconds_total',
    help: 'Work admitted, in worker-seconds; its rate over uber_pool_workers is the utilisation.',
    registers: [toy.registry],
    collect() {
      this.reset();
      this.inc(pool.busyMs / 1000);
    },
  });

  return {
    pool,
    delayMs: () => pool.queueDelayMs(performance.now()),
    /** Waits for a worker and the work; throws 503 (full) or 429 (shed) when refused. */
    async run(costMs: number, criticality: Criticality): Promise<void> {
      const at = performance.now();
      if (shouldShed) {
        const waitMs = pool.queueDelayMs(at);
        if (shouldShed(waitMs, criticality)) {
          outcomes.inc({ criticality, outcome: 'shed' });
          shed.inc({ criticality });
          throw new HttpError(429, `shed: queueing delay ${Math.round(waitMs)} ms (the workshop module's decision for ${criticality} work)`);
        }
      }
      const a = pool.admit(at, costMs, criticality, rng.next());
      if (!a.ok) {
        outcomes.inc({ criticality, outcome: a.reason });
        if (a.reason === 'shed') {
          shed.inc({ criticality });
          throw new HttpError(429, `shed: queueing delay ${Math.round(a.waitMs)} ms is above the bound for ${criticality} work`);
        }
        throw new HttpError(503, `queue full (${pool.options.maxQueue} waiting)`);
      }
      outcomes.inc({ criticality, outcome: 'served' });
      wait.observe({ criticality }, a.waitMs / 1000);
      await sleep(a.doneInMs);
    },
  };
}

export interface Pooled {
  pool: WorkerPool;
  delayMs(): number;
  run(costMs: number, criticality: Criticality): Promise<void>;
}

export function criticalityOf(headers: Record<string, string | string[] | undefined>, fallback: Criticality): Criticality {
  const v = headers[CRITICALITY_HEADER];
  return v === 'critical' || v === 'background' ? v : fallback;
}

/**
 * The index shards as this node knows them: its configured seed shards plus those that joined the registry on the
 * first seed shard, refreshed every `pollMs`. Cell ownership follows the list.
 */
export class ShardDirectory {
  #shards: { member: Member; client: PeerClient }[];
  readonly #seeds: PeerClient[];
  #stopped = false;
  /** For joined shards (seed shards use the toy's own clients, which trace). */
  readonly #agent = createAgent();

  constructor(
    readonly toy: Toy,
    readonly cellCount: number,
    readonly pollMs: number,
  ) {
    this.#seeds = toy.peerGroup('geo-index');
    if (this.#seeds.length === 0) toy.peer('geo-index'); // throws the config error naming the missing peer
    this.#shards = shardList(this.#seeds.map((s) => s.address), []).map((member, i) => ({ member, client: this.#seeds[i]! }));
    const shardsGauge = new Gauge({ name: 'uber_index_shards_known', help: 'Index shards this node routes to (seed shards plus joined members).', registers: [toy.registry] });
    shardsGauge.set(this.#shards.length);
    const loop = async () => {
      while (!this.#stopped) {
        await sleep(pollMs);
        if (this.#stopped) return;
        try {
          const reply = await this.#seeds[0]!.get('/members', { timeoutMs: Math.max(500, pollMs) });
          const list = reply.status === 200 && typeof reply.body === 'object' && reply.body && Array.isArray((reply.body as { members?: unknown }).members) ? (reply.body as { members: unknown[] }).members : undefined;
          if (!list) continue;
          this.#update(list.map(parseMember).filter((m): m is Member => m !== undefined));
          shardsGauge.set(this.#shards.length);
        } catch {
          // The registry is busy or down: keep the last list.
        }
      }
    };
    void loop();
    toy.onShutdown(() => {
      this.#stopped = true;
      this.#agent.destroy();
    });
  }

  #update(joined: Member[]): void {
    const list = shardList(this.#seeds.map((s) => s.address), joined);
    const same = list.length === this.#shards.length && list.every((m, i) => m.address === this.#shards[i]!.member.address);
    if (same) return;
    const old = new Map(this.#shards.map((s) => [s.member.address, s.client]));
    this.#shards = list.map((member) => ({ member, client: old.get(member.address) ?? new PeerClient(member.address, this.#agent) }));
    this.toy.log(`index shards: ${list.map((m) => `${m.index + 1}@${m.address}`).join(', ')}`);
  }

  get size(): number {
    return this.#shards.length;
  }

  /** The shard owning a cell, by position in the list. */
  ownerOf(cell: number): { position: number; client: PeerClient } {
    const position = ownerOf(cell, this.cellCount, this.#shards.length);
    return { position, client: this.#shards[position]!.client };
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function intParam(value: string | undefined, what: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isInteger(n) || n < 0) throw new HttpError(400, `${what} must be an integer >= 0, got ${JSON.stringify(value)}`);
  return n;
}
