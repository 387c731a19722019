/**
 * twitter/store: the tweet store, a node of its own behind a Toxiproxy link (api_to_store). Every tweet is
 * written here, and it serves the read side of hybrid fanout: the tweets of accounts that were not fanned out,
 * merged into a timeline at read time, and the read-merge fallback (a timeline rebuilt from every followee).
 *
 * It has finite capacity: a pool of `workers` (WorkerPool) with a queue bounded by `maxWaitMs`. A write costs
 * `writeCostMs`; a merge costs `mergeBaseMs + mergePerAuthorMs` per author it merges, so the more accounts are
 * merged at read time, the more each read costs, and the latency of every request grows with the store's load.
 * A request that would wait past `maxWaitMs` is refused (503). The follower graph is built from the same params
 * and seed as the api's and the workers'.
 *
 * Routes: `POST /tweets {author, at, path}` → the stored tweet; `GET /merged/:user?limit=N` → the user's
 * followees' tweets that were merged at read time; `GET /recent/:user?limit=N` → the timeline rebuilt from every
 * followee (fallback). Metrics: `twitter_store_requests_total{op,outcome}`, `twitter_store_request_duration_seconds{op}`
 * (queue + work), `twitter_store_busy_seconds_total`, `twitter_store_queue_wait_seconds`, `twitter_store_merged_authors_total`.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { HttpError, runToyIfMain, sleep, type ToySetup } from '../lib/toy-node.js';
import { hybridTimeline, mergeSources, readMergeTimeline } from './read-merge.js';
import { TweetStore, type DeliveryPath } from './tweet-store.js';
import { READ_BUCKETS, graphFromParams, intField, intParam, processMetrics } from './wire.js';
import { WorkerPool } from './worker-pool.js';

export const store: ToySetup = (toy) => {
  const p = toy.params;
  const graph = graphFromParams(toy);
  const workers = p.num('workers', 4);
  const maxWaitMs = p.num('maxWaitMs', 2000);
  const writeCostMs = p.num('writeCostMs', 0.5);
  const mergeBaseMs = p.num('mergeBaseMs', 2);
  const mergePerAuthorMs = p.num('mergePerAuthorMs', 4);
  const timelineLength = p.num('timelineLength', 50);
  const maxLimit = timelineLength;

  processMetrics(toy);
  const pool = new WorkerPool(workers, maxWaitMs);
  const tweets = new TweetStore(timelineLength);
  const reg = [toy.registry];
  const requests = new Counter({ name: 'twitter_store_requests_total', help: 'Tweet-store requests by op (write, merge, recent) and outcome (ok, refused).', labelNames: ['op', 'outcome'], registers: reg });
  for (const op of ['write', 'merge', 'recent']) for (const outcome of ['ok', 'refused']) requests.inc({ op, outcome }, 0);
  const duration = new Histogram({ name: 'twitter_store_request_duration_seconds', help: 'Tweet-store request time inside the store (queue wait + work), by op.', labelNames: ['op'], buckets: READ_BUCKETS, registers: reg });
  const mergedAuthors = new Counter({ name: 'twitter_store_merged_authors_total', help: 'Authors merged into timelines at read time (each one costs mergePerAuthorMs).', registers: reg });
  new Counter({
    name: 'twitter_store_busy_seconds_total',
    help: 'Work the store admitted, in worker-seconds; its rate divided by the worker count is its utilisation.',
    registers: reg,
    collect() {
      this.reset();
      this.inc(pool.busyMs / 1000);
    },
  });
  new Gauge({
    name: 'twitter_store_queue_wait_seconds',
    help: 'How long a request arriving now would wait for a worker.',
    registers: reg,
    collect() {
      this.set(pool.waitMs(performance.now()) / 1000);
    },
  });
  new Gauge({ name: 'twitter_store_workers', help: 'Workers in the store pool (its capacity).', registers: reg }).set(workers);

  /** Waits for a worker and does the work; a refused request is a 503 at once. */
  async function serve(op: 'write' | 'merge' | 'recent', costMs: number): Promise<void> {
    const admitted = pool.admit(performance.now(), costMs);
    if (!admitted) {
      requests.inc({ op, outcome: 'refused' });
      throw new HttpError(503, `tweet store busy: a request would wait more than ${maxWaitMs} ms`);
    }
    const end = duration.startTimer({ op });
    await sleep(admitted.doneInMs);
    end();
    requests.inc({ op, outcome: 'ok' });
  }

  const limitOf = (q: URLSearchParams): number => Math.min(maxLimit, q.has('limit') ? intParam(q.get('limit') ?? undefined, 'limit') : 20);

  toy.route('POST', '/tweets', async (req) => {
    const body = await req.json();
    const author = intField(body, 'author');
    if (!graph.has(author)) throw new HttpError(404, `no user ${author}`);
    const path = (body as { path?: unknown }).path;
    if (path !== 'fanout' && path !== 'read-merge') throw new HttpError(400, '"path" must be "fanout" or "read-merge"');
    const at = (body as { at?: unknown }).at;
    if (typeof at !== 'number') throw new HttpError(400, '"at" must be a number (ms)');
    await serve('write', writeCostMs);
    return { status: 201, body: tweets.add(author, at, path as DeliveryPath) };
  });

  toy.route('GET', '/merged/:user', async (req) => {
    const user = intParam(req.params.user, 'user');
    if (!graph.has(user)) throw new HttpError(404, `no user ${user}`);
    const sources = mergeSources(user, graph, tweets);
    await serve('merge', mergeBaseMs + mergePerAuthorMs * sources);
    mergedAuthors.inc(sources);
    return { body: { user, sources, timeline: hybridTimeline([], user, graph, tweets, limitOf(req.query)) } };
  });

  toy.route('GET', '/recent/:user', async (req) => {
    const user = intParam(req.params.user, 'user');
    if (!graph.has(user)) throw new HttpError(404, `no user ${user}`);
    const authors = graph.followees(user).length;
    await serve('recent', mergeBaseMs + mergePerAuthorMs * authors);
    mergedAuthors.inc(authors);
    return { body: { user, sources: authors, timeline: readMergeTimeline(user, graph, tweets, limitOf(req.query)) } };
  });
};

runToyIfMain(import.meta.url, store);
