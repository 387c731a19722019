/**
 * uber/ingest: receives drivers' GPS updates and writes each to the index shard owning the driver's cell. Its own
 * bounded pool and FIFO queue take `costMs` per update (parsing, validation, the cell lookup). With sampling on
 * (sampling.ts), it forwards at most one update per driver every `sampleIntervalMs` while the owning shard reports
 * a queueing delay above `sampleDelayMs`, and answers the rest at once.
 *
 * Route: `POST /location {driver, x, y, at}`. Metrics: `uber_location_updates_total{result}` (forwarded, sampled,
 * failed), and the pool's (wire.ts).
 */
import { Counter } from 'prom-client';
import { HttpError, runToyIfMain, TimeoutError, type Params, type ToySetup } from '../lib/toy-node.js';
import { AdaptiveSampler, type SamplingPolicy } from './sampling.js';
import { CRITICALITY_HEADER, gridFromParams, isObject, poolFromParams, ShardDirectory } from './wire.js';

/** `sampling` is live: read per update, so a config push turns sampling on while the node runs. */
export function samplingPolicy(params: Params): SamplingPolicy {
  const sampling = params.liveBool('sampling', false);
  return {
    get enabled() {
      return sampling();
    },
    delayMs: params.num('sampleDelayMs', 100),
    intervalMs: params.num('sampleIntervalMs', 8000),
  };
}

export const ingest: ToySetup = (toy) => {
  const costMs = toy.params.num('costMs', 2);
  const indexTimeoutMs = toy.params.num('indexTimeoutMs', 2000);
  const sampler = new AdaptiveSampler(samplingPolicy(toy.params));
  const grid = gridFromParams(toy);
  const directory = new ShardDirectory(toy, grid.cellCount, toy.params.num('membershipPollMs', 500));
  const served = poolFromParams(toy, { workers: 8, maxQueue: 5000 });
  /** The queueing delay each shard last reported, by its position in the directory. */
  const shardDelayMs = new Map<number, number>();

  const results = new Counter({
    name: 'uber_location_updates_total',
    help: 'Location updates by result: forwarded to the index, sampled (answered without forwarding while the shard is loaded), failed (the shard refused or timed out).',
    labelNames: ['result'],
    registers: [toy.registry],
  });
  for (const r of ['forwarded', 'sampled', 'failed']) results.inc({ result: r }, 0);

  toy.route('POST', '/location', async (req) => {
    const body = await req.json();
    if (!isObject(body) || !Number.isInteger(body.driver) || typeof body.x !== 'number' || typeof body.y !== 'number' || typeof body.at !== 'number') {
      throw new HttpError(400, 'expected {driver, x, y, at}');
    }
    await served.run(costMs, 'background');
    const cell = grid.cellOf({ x: body.x, y: body.y });
    const { position, client } = directory.ownerOf(cell);
    if (!sampler.forward(body.driver as number, toy.clock.now(), shardDelayMs.get(position) ?? 0)) {
      results.inc({ result: 'sampled' });
      return { body: { ok: true, sampled: true } };
    }
    try {
      const reply = await client.post('/update', body, { timeoutMs: indexTimeoutMs, headers: { [CRITICALITY_HEADER]: 'background' } });
      const delay = Number(reply.headers['x-queue-delay-ms']);
      if (Number.isFinite(delay)) shardDelayMs.set(position, delay);
      if (reply.status !== 200) {
        results.inc({ result: 'failed' });
        throw new HttpError(reply.status === 429 ? 429 : 503, `index shard ${position + 1} answered ${reply.status}`);
      }
    } catch (e) {
      if (e instanceof HttpError) throw e;
      results.inc({ result: 'failed' });
      if (e instanceof TimeoutError) shardDelayMs.set(position, indexTimeoutMs);
      throw new HttpError(e instanceof TimeoutError ? 504 : 503, `index shard ${position + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
    results.inc({ result: 'forwarded' });
    return { body: { ok: true } };
  });
};

runToyIfMain(import.meta.url, ingest);
