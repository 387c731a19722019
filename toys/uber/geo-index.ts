/**
 * uber/geo-index: one shard of the driver location index. Shards own ranges of hex cells (cells.ts); ingest writes
 * a driver's position to the shard owning its cell, dispatch asks the shards owning a rider's k-ring for the drivers
 * there. Every request goes through the shard's bounded worker pool and FIFO queue (pool.ts): an update costs
 * `updateCostMs`, a nearby query `nearbyCostMs`. A position not refreshed for `ttlMs` is no longer served.
 *
 * Membership (membership.ts): the first instance keeps the registry; every other instance joins it at start,
 * heartbeats, and leaves on SIGTERM, so ingest and dispatch learn of shards the lab starts or stops during a run.
 *
 * Routes: `POST /update {driver, x, y, at}` (background), `POST /nearby {cells: [..]}` (critical),
 * `POST /members/join {name, index, port}`, `DELETE /members/:name`, `GET /members`.
 * Replies carry `x-queue-delay-ms`: ingest samples updates by it. Metrics: `uber_index_update_lag_seconds` (app
 * sent a position → the index has it), `uber_index_drivers`, and the pool's (wire.ts).
 *
 * Param `extension` (default ""): a workshop module (toys/lib/extension.ts, exercise 6) exporting
 * `shouldShed(queueDelayMs: number, criticality: 'critical' | 'background'): boolean`, asked for every request before
 * the pool admits it: true refuses it at once (429, `uber_shed_total`), false queues it (GEO_INDEX_EXTENSION).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import { HttpError, runToyIfMain, sleep, type ToySetup } from '../lib/toy-node.js';
import { hostOf, MemberRegistry, parseMember } from './membership.js';
import { criticalityOf, gridFromParams, isObject, LAG_BUCKETS, poolFromParams } from './wire.js';

interface Entry {
  x: number;
  y: number;
  at: number;
  cell: number;
}

/** The shard's workshop extension point (exercise 6: shedding by queueing delay). */
export const GEO_INDEX_EXTENSION: ExtensionSpec = {
  what: "the geo-index's workshop module",
  functions: { shouldShed: { required: true, check: Checks.boolean } },
};

export const geoIndex: ToySetup = (toy) => {
  const updateCostMs = toy.params.num('updateCostMs', 20);
  const nearbyCostMs = toy.params.num('nearbyCostMs', 40);
  const ttlMs = toy.params.num('ttlMs', 30_000);
  const heartbeatMs = toy.params.num('heartbeatMs', 1000);
  const grid = gridFromParams(toy);
  const extension = loadExtension(toy, GEO_INDEX_EXTENSION);
  // On a failed call the pool's own policy decides (false here: the module did not ask to shed).
  const served = poolFromParams(toy, { workers: 1, maxQueue: 5000 }, extension ? (delay, criticality) => extension.call('shouldShed', [delay, criticality], false) : undefined);

  const drivers = new Map<number, Entry>();
  const cells = new Map<number, Set<number>>();
  const lag = new Histogram({
    name: 'uber_index_update_lag_seconds',
    help: 'From a driver app sending a position to this shard holding it (the staleness the index adds).',
    buckets: LAG_BUCKETS,
    registers: [toy.registry],
  });
  const updates = new Counter({ name: 'uber_index_updates_total', help: 'Driver positions applied to this shard.', registers: [toy.registry] });
  updates.inc(0);
  new Gauge({
    name: 'uber_index_drivers',
    help: 'Drivers this shard holds a position for that is fresher than the TTL.',
    registers: [toy.registry],
    collect() {
      const now = toy.clock.now();
      let n = 0;
      for (const e of drivers.values()) if (now - e.at <= ttlMs) n++;
      this.set(n);
    },
  });

  const delayHeader = () => ({ 'x-queue-delay-ms': String(Math.round(served.delayMs())) });

  toy.route('POST', '/update', async (req) => {
    const body = await req.json();
    if (!isObject(body) || !Number.isInteger(body.driver) || typeof body.x !== 'number' || typeof body.y !== 'number' || typeof body.at !== 'number') {
      throw new HttpError(400, 'expected {driver, x, y, at}');
    }
    await served.run(updateCostMs, criticalityOf(req.headers, 'background'));
    const driver = body.driver as number;
    const cell = grid.cellOf({ x: body.x, y: body.y });
    const old = drivers.get(driver);
    // Apps' updates can arrive out of order after retries: keep the newest.
    if (!old || old.at <= body.at) {
      if (old && old.cell !== cell) cells.get(old.cell)?.delete(driver);
      drivers.set(driver, { x: body.x, y: body.y, at: body.at, cell });
      let set = cells.get(cell);
      if (!set) cells.set(cell, (set = new Set()));
      set.add(driver);
    }
    updates.inc();
    lag.observe(Math.max(0, toy.clock.now() - body.at) / 1000);
    return { body: { ok: true }, headers: delayHeader() };
  });

  toy.route('POST', '/nearby', async (req) => {
    const body = await req.json();
    if (!isObject(body) || !Array.isArray(body.cells) || !body.cells.every((c) => Number.isInteger(c))) throw new HttpError(400, 'expected {cells: [ints]}');
    await served.run(nearbyCostMs, criticalityOf(req.headers, 'critical'));
    const now = toy.clock.now();
    const found: { driver: number; x: number; y: number; at: number }[] = [];
    for (const c of body.cells as number[]) {
      for (const d of cells.get(c) ?? []) {
        const e = drivers.get(d)!;
        if (now - e.at <= ttlMs) found.push({ driver: d, x: e.x, y: e.y, at: e.at });
      }
    }
    return { body: { drivers: found }, headers: delayHeader() };
  });

  // Membership: the registry lives on the first instance.
  const registry = new MemberRegistry(heartbeatMs * 3);
  // Instance indexes start at 1; membership numbers shards from 0 (their position among the seeds).
  if (toy.config.index <= 1) {
    toy.route('POST', '/members/join', async (req) => {
      const body = await req.json();
      if (!isObject(body) || typeof body.name !== 'string' || !Number.isInteger(body.index) || !Number.isInteger(body.port)) throw new HttpError(400, 'expected {name, index, port}');
      const member = parseMember({ name: body.name, index: body.index, address: `${hostOf(req.raw.socket.remoteAddress)}:${body.port as number}` })!;
      registry.join(member, toy.clock.now());
      return { body: { ok: true, member } };
    });
    toy.route('DELETE', '/members/:name', (req) => ({ body: { left: registry.leave(req.params.name ?? '') } }));
    toy.route('GET', '/members', () => ({ body: { members: registry.live(toy.clock.now()) } }));
  } else {
    const seed = toy.peer('geo-index', 0);
    const me = { name: toy.config.name, index: toy.config.index - 1, port: toy.config.ports.http };
    let leaving = false;
    const beat = async () => {
      while (!leaving) {
        try {
          await seed.post('/members/join', me, { timeoutMs: heartbeatMs * 2 });
        } catch {
          // The registry did not answer this time; the next beat tries again.
        }
        await sleep(heartbeatMs);
      }
    };
    void beat();
    // Leave at SIGTERM, before the server closes, so readers stop routing here while in-flight work drains.
    const leave = () => {
      if (leaving) return;
      leaving = true;
      seed.request('DELETE', `/members/${encodeURIComponent(me.name)}`, { timeoutMs: 500 }).catch(() => undefined);
    };
    process.once('SIGTERM', leave);
    toy.onShutdown(() => {
      process.off('SIGTERM', leave);
      leave();
    });
  }
};

runToyIfMain(import.meta.url, geoIndex);
