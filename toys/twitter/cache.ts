/**
 * twitter/cache: one shard of the timeline cache (think one Redis). Users are spread over shards by
 * `user % shards`; this shard only ever sees its own users.
 *
 * Every command runs on one simulated thread (ServiceQueue): a batch of fanout inserts costs
 * `batchCostMs + insertCostMs` per insert, a timeline read `readCostMs`, a trends scan `trendsCostMs`. So the
 * shard does a bounded number of inserts per second, and reads wait behind the writes queued before them.
 * A command that would wait more than `maxBacklogMs` is refused with 503. Work the shard accepted is done even
 * if the caller stopped waiting, as in Redis.
 *
 * Routes: `POST /timelines/batch {"items": [{"tweet": {id, author, at}, "users": [..]}]}`,
 * `GET /timeline/:user?limit=N`, `GET /trends`.
 * Metrics: `twitter_delivery_latency_seconds` (tweet written → in a follower's cached timeline, per follower),
 * `twitter_cache_commands_total{command,outcome}`, `twitter_cache_inserts_total`, `twitter_cache_backlog_seconds`,
 * `twitter_cache_busy_seconds_total` (its rate is the shard's utilisation).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { HttpError, runToyIfMain, sleep, type ToySetup } from '../lib/toy-node.js';
import { ServiceQueue } from './service-queue.js';
import { TimelineStore } from './timeline.js';
import { DELIVERY_BUCKETS, intParam, parseBatch, processMetrics } from './wire.js';

/** Trend counts halve this often, so trends follow what is being tweeted now. */
const TREND_HALF_LIFE_MS = 30_000;

export const cache: ToySetup = (toy) => {
  const insertCostMs = toy.params.num('insertCostMs', 0.6);
  const batchCostMs = toy.params.num('batchCostMs', 1);
  const readCostMs = toy.params.num('readCostMs', 0.5);
  const trendsCostMs = toy.params.num('trendsCostMs', 10);
  const maxBacklogMs = toy.params.num('maxBacklogMs', 5000);
  const timelineLength = toy.params.num('timelineLength', 50);

  processMetrics(toy);
  const server = new ServiceQueue(maxBacklogMs);
  const timelines = new TimelineStore(timelineLength);
  let trendCounts = new Map<number, number>();
  const trendDecay = setInterval(() => {
    const next = new Map<number, number>();
    for (const [author, n] of trendCounts) if (n >= 2) next.set(author, n / 2);
    trendCounts = next;
  }, TREND_HALF_LIFE_MS);
  trendDecay.unref();
  toy.onShutdown(() => clearInterval(trendDecay));

  const delivery = new Histogram({
    name: 'twitter_delivery_latency_seconds',
    help: 'From a tweet being written to it being in a follower cached timeline, one observation per follower reached by fanout.',
    buckets: DELIVERY_BUCKETS,
    registers: [toy.registry],
  });
  const commands = new Counter({
    name: 'twitter_cache_commands_total',
    help: 'Cache commands by command (batch, read, trends) and outcome (ok, refused).',
    labelNames: ['command', 'outcome'],
    registers: [toy.registry],
  });
  for (const command of ['batch', 'read', 'trends']) for (const outcome of ['ok', 'refused']) commands.inc({ command, outcome }, 0);
  const inserts = new Counter({
    name: 'twitter_cache_inserts_total',
    help: 'Timeline inserts applied (new), or found already there (duplicate: a retried or redelivered fanout).',
    labelNames: ['result'],
    registers: [toy.registry],
  });
  inserts.inc({ result: 'new' }, 0);
  inserts.inc({ result: 'duplicate' }, 0);
  new Gauge({
    name: 'twitter_cache_backlog_seconds',
    help: 'Work this shard has accepted and not yet done: how long a command arriving now waits.',
    registers: [toy.registry],
    collect() {
      this.set(server.backlogMs(performance.now()) / 1000);
    },
  });
  new Counter({
    name: 'twitter_cache_busy_seconds_total',
    help: 'Work accepted by this shard, in seconds of its single thread; the rate is its utilisation.',
    registers: [toy.registry],
    collect() {
      this.reset();
      this.inc(server.busyMs / 1000);
    },
  });

  /** Completion of the last admitted command: commands finish in admission order, whatever timers do. */
  let lastDone: Promise<void> = Promise.resolve();

  /** Waits for the shard to run a command of `costMs`; false when the shard refuses it. */
  async function run(command: string, costMs: number): Promise<boolean> {
    const waitMs = server.admit(performance.now(), costMs);
    if (waitMs === undefined) {
      commands.inc({ command, outcome: 'refused' });
      return false;
    }
    // Timers have millisecond resolution; chaining on the previous command keeps a cheap read admitted just
    // after a batch from finishing before it.
    const previous = lastDone;
    const done = sleep(waitMs).then(() => previous);
    lastDone = done;
    await done;
    commands.inc({ command, outcome: 'ok' });
    return true;
  }

  const busy = (): never => {
    throw new HttpError(503, `cache shard busy: more than ${maxBacklogMs} ms of work queued`);
  };

  toy.route('POST', '/timelines/batch', async (req) => {
    const items = parseBatch(await req.json());
    const n = items.reduce((sum, i) => sum + i.users.length, 0);
    if (!(await run('batch', batchCostMs + insertCostMs * n))) return busy();
    const now = toy.clock.now();
    let fresh = 0;
    for (const { tweet, users } of items) {
      let added = 0;
      for (const user of users) {
        if (!timelines.insert(user, tweet)) continue;
        added++;
        delivery.observe(Math.max(0, now - tweet.at) / 1000);
      }
      fresh += added;
      trendCounts.set(tweet.author, (trendCounts.get(tweet.author) ?? 0) + added);
    }
    inserts.inc({ result: 'new' }, fresh);
    inserts.inc({ result: 'duplicate' }, n - fresh);
    return { body: { inserted: fresh, duplicates: n - fresh } };
  });

  toy.route('GET', '/timeline/:user', async (req) => {
    const user = intParam(req.params.user, 'user');
    const limit = req.query.has('limit') ? intParam(req.query.get('limit') ?? undefined, 'limit') : timelineLength;
    if (!(await run('read', readCostMs))) return busy();
    return { body: { user, timeline: timelines.get(user, limit) } };
  });

  toy.route('GET', '/trends', async () => {
    if (!(await run('trends', trendsCostMs))) return busy();
    const top = [...trendCounts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10);
    return { body: { trends: top.map(([author, score]) => ({ author, score: Math.round(score) })) } };
  });
};

runToyIfMain(import.meta.url, cache);
