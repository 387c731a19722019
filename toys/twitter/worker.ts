/**
 * twitter/worker: a fanout worker. It pulls tweets from the queue, looks up every follower in the graph, writes
 * the tweet into each follower's cached timeline (batched per cache shard, at most `concurrency` writes in
 * flight), and acknowledges the tweets once every follower has them. A failed write is retried after
 * `retryDelayMs` until it succeeds: fanout is never dropped, so when the cache cannot keep up the queue grows.
 * The acknowledgement rides on the next pull, which waits at the queue until there is work (long polling).
 *
 * Params: graph params (see wire.ts), `concurrency` (4), `maxBatch` (500 inserts per write), `pullMaxJobs` (100),
 * `pullMaxInserts` (4000 followers per pull), `cacheTimeoutMs` (5000), `retryDelayMs` (200), `pollMs` (1000: how long a pull waits for work).
 * Metrics: `twitter_worker_writes_total{outcome}`, `twitter_worker_inserts_total`, `twitter_worker_write_duration_seconds`.
 */
import { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, TimeoutError, ToyConfigError, runToyIfMain, sleep, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { planBatches, type ShardBatch } from './fanout.js';
import { graphFromParams, intField, processMetrics } from './wire.js';

interface PulledJob {
  id: number;
  author: number;
  at: number;
  /** Set when the tweet's request was traced: the batch writes continue that trace. */
  traceparent?: string;
}

export const worker: ToySetup = (toy) => {
  const graph = graphFromParams(toy);
  const concurrency = toy.params.num('concurrency', 4);
  const maxBatch = toy.params.num('maxBatch', 500);
  const pullMaxJobs = toy.params.num('pullMaxJobs', 100);
  const pullMaxInserts = toy.params.num('pullMaxInserts', 4000);
  const cacheTimeoutMs = toy.params.num('cacheTimeoutMs', 5000);
  const retryDelayMs = toy.params.num('retryDelayMs', 200);
  const pollMs = toy.params.num('pollMs', 1000);
  processMetrics(toy);
  const queueClient = toy.peer('queue');
  const shards = toy.peerGroup('cache');
  if (shards.length === 0) throw new ToyConfigError(`${toy.config.name} needs peers.cache (the timeline cache shards)`);

  const writes = new Counter({
    name: 'twitter_worker_writes_total',
    help: 'Batch writes to the timeline cache by outcome: ok, refused (503), timeout, error.',
    labelNames: ['outcome'],
    registers: [toy.registry],
  });
  for (const outcome of ['ok', 'refused', 'timeout', 'error']) writes.inc({ outcome }, 0);
  const inserted = new Counter({
    name: 'twitter_worker_inserts_total',
    help: 'Timeline inserts written successfully (followers reached).',
    registers: [toy.registry],
  });
  const writeDuration = new Histogram({
    name: 'twitter_worker_write_duration_seconds',
    help: 'Time of one batch write to the cache, whatever its outcome.',
    buckets: LATENCY_BUCKETS,
    registers: [toy.registry],
  });

  let running = true;
  const stopped = new AbortController();

  /** Writes one batch, retrying until it lands or the worker stops. */
  async function write(batch: ShardBatch, shard: PeerClient): Promise<void> {
    const body = { items: batch.items };
    while (running) {
      const end = writeDuration.startTimer();
      let outcome: 'ok' | 'refused' | 'timeout' | 'error';
      try {
        const reply = await shard.post('/timelines/batch', body, { timeoutMs: cacheTimeoutMs });
        outcome = reply.status === 200 ? 'ok' : reply.status === 503 ? 'refused' : 'error';
      } catch (e) {
        outcome = e instanceof TimeoutError ? 'timeout' : 'error';
      }
      end();
      writes.inc({ outcome });
      if (outcome === 'ok') {
        inserted.inc(batch.inserts);
        return;
      }
      await pause(retryDelayMs);
    }
  }

  async function fanout(jobs: PulledJob[]): Promise<void> {
    const work = jobs.map((j) => ({ tweet: { id: j.id, author: j.author, at: j.at }, followers: graph.followers(j.author) }));
    const batches = planBatches(work, shards.length, maxBatch);
    const traced = new Map(jobs.filter((j) => j.traceparent !== undefined).map((j) => [j.id, j.traceparent!]));
    let next = 0;
    const lane = async (): Promise<void> => {
      while (running && next < batches.length) {
        const batch = batches[next++]!;
        // A batch carrying a traced tweet continues that tweet's trace (the first one's, when it carries several).
        const traceparent = traced.size === 0 ? undefined : batch.items.map((i) => traced.get(i.tweet.id)).find((t) => t !== undefined);
        if (traceparent === undefined) await write(batch, shards[batch.shard]!);
        else await toy.trace.continue(traceparent, 'fanout write', () => write(batch, shards[batch.shard]!), { 'twitter.shard': batch.shard, 'twitter.inserts': batch.inserts, 'twitter.tweets': batch.items.length });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, lane));
  }

  /** Acknowledges the previous round's jobs and takes the next ones, waiting up to `pollMs` for work. */
  async function pull(ack: number[]): Promise<PulledJob[]> {
    const reply = await queueClient.post('/pull', { maxJobs: pullMaxJobs, maxInserts: pullMaxInserts, waitMs: pollMs, ack }, { timeoutMs: pollMs + 2000 });
    if (reply.status !== 200) throw new Error(`pull answered ${reply.status}`);
    const jobs = (reply.body as { jobs?: unknown }).jobs;
    if (!Array.isArray(jobs)) throw new Error('pull answered without jobs');
    return jobs.map((j: unknown) => {
      const traceparent = (j as { traceparent?: unknown }).traceparent;
      return { id: intField(j, 'id'), author: intField(j, 'author'), at: intField(j, 'at'), ...(typeof traceparent === 'string' ? { traceparent } : {}) };
    });
  }

  function pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: stopped.signal }).catch(() => undefined);
  }

  async function loop(): Promise<void> {
    // Acks ride on the next pull; if that pull fails they are sent again with the one after.
    let ack: number[] = [];
    while (running) {
      let jobs: PulledJob[];
      try {
        jobs = await pull(ack);
        ack = [];
      } catch (e) {
        if (!running) break;
        toy.log(`pull failed: ${e instanceof Error ? e.message : String(e)}`);
        await pause(500);
        continue;
      }
      if (jobs.length === 0) continue;
      await fanout(jobs);
      ack = jobs.map((j) => j.id);
    }
  }

  const done = loop();
  toy.onShutdown(async () => {
    running = false;
    stopped.abort();
    // In-flight writes may wait up to cacheTimeoutMs; do not hold the shutdown for them.
    await Promise.race([done, sleep(200)]);
  });
};

runToyIfMain(import.meta.url, worker);
