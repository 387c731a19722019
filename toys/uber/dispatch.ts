/**
 * uber/dispatch: a rider's request finds the nearest available driver by reading the index: the rider's cell and
 * its k-ring, asked of the shards that own them (critical work). Its own bounded pool and FIFO queue take
 * `costMs` per request (ranking, pricing). A match to a position that is old is a match to a driver who is no
 * longer there: dispatch knows where the driver truly is (cells.ts `driverPosition`) and counts how far off it was.
 *
 * Route: `POST /ride {rider}`. Metrics: `uber_dispatch_matches_total{result}` (matched, stale: the driver is over
 * `staleMeters` from the indexed position, none: no driver in reach), `uber_dispatch_match_age_seconds` (age of
 * the matched position), and the pool's (wire.ts).
 */
import { Counter, Histogram } from 'prom-client';
import { HttpError, runToyIfMain, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { distance, driverPosition, type Point } from './cells.js';
import { CRITICALITY_HEADER, gridFromParams, isObject, LAG_BUCKETS, poolFromParams, ShardDirectory } from './wire.js';

interface Found {
  driver: number;
  x: number;
  y: number;
  at: number;
}

export const dispatch: ToySetup = (toy) => {
  const costMs = toy.params.num('costMs', 2);
  const indexTimeoutMs = toy.params.num('indexTimeoutMs', 2000);
  const searchRings = toy.params.num('searchRings', 1);
  const staleMeters = toy.params.num('staleMeters', 250);
  const grid = gridFromParams(toy);
  const directory = new ShardDirectory(toy, grid.cellCount, toy.params.num('membershipPollMs', 500));
  const served = poolFromParams(toy, { workers: 8, maxQueue: 5000 });
  const rng = toy.rng.fork('riders');

  const matches = new Counter({
    name: 'uber_dispatch_matches_total',
    help: 'Ride requests by result: matched (the driver is where the index says), stale (the driver has moved more than staleMeters away), none (no driver within reach).',
    labelNames: ['result'],
    registers: [toy.registry],
  });
  for (const r of ['matched', 'stale', 'none']) matches.inc({ result: r }, 0);
  const age = new Histogram({
    name: 'uber_dispatch_match_age_seconds',
    help: 'Age of the driver position a ride was matched on.',
    buckets: LAG_BUCKETS,
    registers: [toy.registry],
  });

  toy.route('POST', '/ride', async (req) => {
    const body = await req.json();
    if (!isObject(body) || !Number.isInteger(body.rider)) throw new HttpError(400, 'expected {rider}');
    await served.run(costMs, 'critical');
    const angle = rng.next() * 2 * Math.PI;
    const r = Math.sqrt(rng.next()) * grid.radiusMeters * 0.7;
    const rider: Point = { x: r * Math.cos(angle), y: r * Math.sin(angle) };
    const ring = grid.kRing(grid.cellOf(rider), searchRings);
    const byShard = new Map<number, { client: PeerClient; cells: number[] }>();
    for (const cell of ring) {
      const { position, client } = directory.ownerOf(cell);
      const entry = byShard.get(position) ?? { client, cells: [] };
      entry.cells.push(cell);
      byShard.set(position, entry);
    }
    const replies = await Promise.all(
      [...byShard].map(async ([position, { client, cells }]) => {
        const reply = await client.post('/nearby', { cells }, { timeoutMs: indexTimeoutMs, headers: { [CRITICALITY_HEADER]: 'critical' } }).catch((e: unknown) => {
          throw new HttpError(503, `index shard ${position + 1}: ${e instanceof Error ? e.message : String(e)}`);
        });
        if (reply.status !== 200 || !isObject(reply.body) || !Array.isArray(reply.body.drivers)) throw new HttpError(503, `index shard ${position + 1} answered ${reply.status}`);
        return reply.body.drivers as Found[];
      }),
    );
    let best: Found | undefined;
    for (const d of replies.flat()) if (!best || distance(d, rider) < distance(best, rider)) best = d;
    if (!best) {
      matches.inc({ result: 'none' });
      return { body: { matched: false } };
    }
    const now = toy.clock.now();
    const off = distance(best, driverPosition(best.driver, now, grid.radiusMeters));
    age.observe(Math.max(0, now - best.at) / 1000);
    matches.inc({ result: off > staleMeters ? 'stale' : 'matched' });
    return { body: { matched: true, driver: best.driver, offMeters: Math.round(off) } };
  });
};

runToyIfMain(import.meta.url, dispatch);
