/**
 * twitter/api: the tweet API and the timeline read API (the load generator's target).
 *
 * - `POST /tweet/:author` stores the tweet and, unless it is merged at read time, enqueues its fanout.
 *   `POST /celebrity/:n/tweet` is the same for the n-th celebrity (`n % celebrities`), and `POST /ordinary/:n/tweet` for
 *   the n-th ordinary user (`celebrities + n % ordinary users`), so a workload can address each kind of account
 *   (user ids 0..celebrities-1 are the celebrities: `/tweet/{key}` over all ids sometimes picks one).
 * - Tweets are written to the tweet store, a node of its own behind a Toxiproxy link (store.ts), with a finite
 *   worker pool: every store call costs time, and more under load.
 * - `GET /timeline/:user` reads the user's cached timeline from its cache shard and merges in, at read time, the
 *   tweets of followees that were not fanned out (hybrid fanout): one call to the tweet store, whose cost grows
 *   with the number of accounts merged. A failed merge is a failed read (the timeline would miss tweets).
 * - `GET /trends` (non-essential) asks every cache shard for its trend counts, a costly scan.
 *
 * Params (defaults are the 2010-era design: fanout-on-write for everyone, no timeouts, no breaker, no shedding):
 * graph params (wire.ts); `hybridThreshold` (0 = off: followers above which tweets are merged at read time);
 * `adaptiveThreshold` (0 = off) and `adaptiveLagMs`: a lower threshold used while the fanout queue lags;
 * `timelineLength` (50, tweets kept per author: at least the cache's timeline length); `readLimit` (20);
 * `cacheTimeoutMs` (0 = wait as long as the cache takes); `readMergeFallback` (false): on a failed cache read,
 * rebuild the timeline from the tweet store; `breaker` (false) with `breakerWindow`, `breakerMinCalls`,
 * `breakerFailureRatio`, `breakerCooldownMs`, `breakerProbes`; `storeTimeoutMs` (1000, any call to the tweet
 * store); `shedding` (false) with `shedLagMs` and `shedCacheLatencyMs`; `queueTimeoutMs` (1000).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { HttpError, TimeoutError, ToyConfigError, runToyIfMain, sleep, type Reply, type ToySetup } from '../lib/toy-node.js';
import { BREAKER_STATE_VALUE, CircuitBreaker } from './breaker.js';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import { deliveryPath, shardOf, type FanoutPolicy } from './fanout.js';
import { Ewma, shouldShed, type SheddingPolicy } from './shedding.js';
import type { DeliveryPath } from './tweet-store.js';
import { mergeNewestFirst, type TweetRef } from './timeline.js';
import { READ_BUCKETS, graphFromParams, intParam, parseTweet, parseTweets, processMetrics } from './wire.js';

/**
 * The API's workshop extension point (exercise 5): `fanoutOnWrite(followerCount: number, fanoutLagMs: number):
 * boolean` for every tweet; false = merge it into readers' timelines at read time (hybrid fanout).
 */
export const API_EXTENSION: ExtensionSpec = {
  what: "the API's workshop module",
  functions: { fanoutOnWrite: { required: true, check: Checks.boolean } },
};

export const api: ToySetup = (toy) => {
  const p = toy.params;
  const extension = loadExtension(toy, API_EXTENSION);
  const graph = graphFromParams(toy);
  // The mitigations' params are live (a config push while the API runs): each is read per request, never captured.
  const hybridThreshold = p.liveNum('hybridThreshold', 0);
  const policy: FanoutPolicy = {
    get hybridThreshold() {
      return hybridThreshold();
    },
    adaptiveThreshold: p.num('adaptiveThreshold', 0),
    adaptiveLagMs: p.num('adaptiveLagMs', 2000),
  };
  const timelineLength = p.num('timelineLength', 50);
  const readLimit = p.num('readLimit', 20);
  const cacheTimeoutMs = p.liveNum('cacheTimeoutMs', 0);
  const readMergeFallback = p.liveBool('readMergeFallback', false);
  const breakerOn = p.liveBool('breaker', false);
  const breakerOptions = {
    window: p.num('breakerWindow', 20),
    minCalls: p.num('breakerMinCalls', 10),
    failureRatio: p.num('breakerFailureRatio', 0.5),
    cooldownMs: p.num('breakerCooldownMs', 2000),
    probes: p.num('breakerProbes', 3),
  };
  const storeTimeoutMs = p.num('storeTimeoutMs', 1000);
  const shedOn = p.liveBool('shedding', false);
  const shedLagMs = p.liveNum('shedLagMs', 2000);
  const shedCacheLatencyMs = p.liveNum('shedCacheLatencyMs', 100);
  const shedding: SheddingPolicy = {
    get enabled() {
      return shedOn();
    },
    get lagMs() {
      return shedLagMs();
    },
    get cacheLatencyMs() {
      return shedCacheLatencyMs();
    },
  };
  const queueTimeoutMs = p.num('queueTimeoutMs', 1000);
  if (readLimit > timelineLength) throw new ToyConfigError(`readLimit (${readLimit}) must not exceed timelineLength (${timelineLength})`);

  processMetrics(toy);
  const queue = toy.peer('queue');
  const shards = toy.peerGroup('cache');
  if (shards.length === 0) throw new ToyConfigError(`${toy.config.name} needs peers.cache (the timeline cache shards)`);
  const tweetStore = toy.peer('store');
  /** Authors whose tweets this API chose to merge at read time: a read must ask the store for them. */
  const mergedAuthors = new Set<number>();

  const tweets = new Counter({
    name: 'twitter_tweets_total',
    help: 'Tweets written, by delivery path: fanout (pushed to followers) or read-merge (merged at read time).',
    labelNames: ['path'],
    registers: [toy.registry],
  });
  tweets.inc({ path: 'fanout' }, 0);
  tweets.inc({ path: 'read-merge' }, 0);
  const readMergedDeliveries = new Counter({
    name: 'twitter_read_merge_deliveries_total',
    help: 'Followers reached by tweets merged at read time (visible to them as soon as stored).',
    registers: [toy.registry],
  });
  const readDuration = new Histogram({
    name: 'twitter_timeline_read_duration_seconds',
    help: 'Timeline reads as the API served them, by source: cache, hybrid (cache + read-time merge), read-merge (fallback), error.',
    labelNames: ['source'],
    buckets: READ_BUCKETS,
    registers: [toy.registry],
  });
  const cacheReads = new Counter({
    name: 'twitter_cache_reads_total',
    help: 'Timeline reads sent to the cache, by outcome: ok, timeout, error, rejected (breaker open: not sent).',
    labelNames: ['outcome'],
    registers: [toy.registry],
  });
  for (const outcome of ['ok', 'timeout', 'error', 'rejected']) cacheReads.inc({ outcome }, 0);
  const breakerState = new Gauge({
    name: 'circuit_breaker_state',
    help: 'State of the breaker in front of a dependency: 0 closed, 1 half-open, 2 open.',
    labelNames: ['dep'],
    registers: [toy.registry],
  });
  breakerState.set({ dep: 'cache' }, 0);
  const transitions = new Counter({
    name: 'circuit_breaker_transitions_total',
    help: 'Breaker state changes, by dependency and new state.',
    labelNames: ['dep', 'to'],
    registers: [toy.registry],
  });
  const shed = new Counter({
    name: 'twitter_shed_total',
    help: 'Requests for non-essential work refused to protect the core path, by work.',
    labelNames: ['work'],
    registers: [toy.registry],
  });
  shed.inc({ work: 'trends' }, 0);
  const storeCalls = new Counter({
    name: 'twitter_api_store_calls_total',
    help: 'Calls from the API to the tweet store, by op (write, merge, recent) and outcome (ok, timeout, error).',
    labelNames: ['op', 'outcome'],
    registers: [toy.registry],
  });
  for (const op of ['write', 'merge', 'recent']) for (const outcome of ['ok', 'timeout', 'error']) storeCalls.inc({ op, outcome }, 0);
  const storeCallDuration = new Histogram({
    name: 'twitter_api_store_call_duration_seconds',
    help: 'Tweet-store calls as the API waits for them (link + queue + work), by op: the cost a read-time merge adds to a read.',
    labelNames: ['op'],
    buckets: READ_BUCKETS,
    registers: [toy.registry],
  });
  const enqueueFailures = new Counter({
    name: 'twitter_enqueue_failures_total',
    help: 'Tweets stored but whose fanout could not be enqueued (the client got a 503).',
    registers: [toy.registry],
  });

  const breaker = new CircuitBreaker(breakerOptions, (to) => {
    breakerState.set({ dep: 'cache' }, BREAKER_STATE_VALUE[to]);
    transitions.inc({ dep: 'cache', to });
    toy.log(`cache breaker ${to}`);
  });
  const cacheLatency = new Ewma(0.1);
  let fanoutLagMs = 0;
  new Gauge({
    name: 'twitter_api_fanout_lag_seen_seconds',
    help: 'The fanout lag the queue last reported to this API (its input to adaptive fanout and shedding).',
    registers: [toy.registry],
    collect() {
      this.set(fanoutLagMs / 1000);
    },
  });
  new Gauge({
    name: 'twitter_api_cache_latency_ewma_seconds',
    help: 'Smoothed latency of cache reads as this API sees them (an input to shedding).',
    registers: [toy.registry],
    collect() {
      this.set(cacheLatency.value / 1000);
    },
  });

  async function postTweet(author: number): Promise<Reply> {
    if (!graph.has(author)) throw new HttpError(404, `no user ${author} (users are 0..${graph.users - 1})`);
    const followers = graph.followerCount(author);
    const byPolicy: DeliveryPath = deliveryPath(followers, policy, fanoutLagMs);
    const path: DeliveryPath = extension ? (extension.call('fanoutOnWrite', [followers, fanoutLagMs], byPolicy === 'fanout') ? 'fanout' : 'read-merge') : byPolicy;
    const stored = await callStore('write', () => tweetStore.post('/tweets', { author, at: toy.clock.now(), path }, { timeoutMs: storeTimeoutMs }));
    if (!stored.ok) throw new HttpError(503, `tweet not stored: ${stored.detail}`);
    const tweet = parseTweet(stored.body);
    if (path === 'read-merge') mergedAuthors.add(author);
    tweets.inc({ path });
    if (path === 'read-merge') {
      readMergedDeliveries.inc(followers);
      return { status: 201, body: { ...tweet, path } };
    }
    try {
      const reply = await queue.post('/enqueue', { ...tweet, fanout: followers }, { timeoutMs: queueTimeoutMs });
      if (reply.status !== 200) throw new Error(`queue answered ${reply.status}`);
      const lag = (reply.body as { lagMs?: unknown }).lagMs;
      if (typeof lag === 'number') fanoutLagMs = lag;
    } catch (e) {
      enqueueFailures.inc();
      throw new HttpError(503, `tweet ${tweet.id} stored but its fanout was not enqueued: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { status: 201, body: { ...tweet, path } };
  }

  toy.route('POST', '/tweet/:author', (req) => postTweet(intParam(req.params.author, 'author')));
  toy.route('POST', '/celebrity/:n/tweet', (req) => {
    const n = intParam(req.params.n, 'n');
    if (graph.spec.celebrities === 0) throw new HttpError(404, 'this graph has no celebrities');
    return postTweet(n % graph.spec.celebrities);
  });
  toy.route('POST', '/ordinary/:n/tweet', (req) => {
    const n = intParam(req.params.n, 'n');
    const { celebrities } = graph.spec;
    return postTweet(celebrities + (n % (graph.users - celebrities)));
  });

  /** One call to the tweet store, counted and timed; never throws. */
  async function callStore(op: 'write' | 'merge' | 'recent', call: () => Promise<{ status: number; body: unknown }>): Promise<{ ok: true; body: unknown } | { ok: false; failure: 'timeout' | 'error'; detail: string }> {
    const end = storeCallDuration.startTimer({ op });
    try {
      const reply = await call();
      if (reply.status !== 200 && reply.status !== 201) throw new Error(`tweet store answered ${reply.status}`);
      storeCalls.inc({ op, outcome: 'ok' });
      return { ok: true, body: reply.body };
    } catch (e) {
      const failure = e instanceof TimeoutError ? 'timeout' : 'error';
      storeCalls.inc({ op, outcome: failure });
      return { ok: false, failure, detail: e instanceof Error ? e.message : String(e) };
    } finally {
      end();
    }
  }

  /** The cache part of a read; undefined when the cache failed or the breaker kept us away. */
  async function readCache(user: number): Promise<{ timeline?: TweetRef[]; failure?: 'timeout' | 'error' | 'rejected'; detail?: string }> {
    const now = performance.now();
    if (breakerOn() && !breaker.allow(now)) {
      cacheReads.inc({ outcome: 'rejected' });
      return { failure: 'rejected', detail: 'cache breaker open' };
    }
    const shard = shards[shardOf(user, shards.length)]!;
    const started = performance.now();
    try {
      const reply = await shard.get(`/timeline/${user}?limit=${readLimit}`, { timeoutMs: cacheTimeoutMs() });
      cacheLatency.add(performance.now() - started);
      if (reply.status !== 200) throw new Error(`cache answered ${reply.status}`);
      const timeline = parseTweets(reply.body);
      cacheReads.inc({ outcome: 'ok' });
      if (breakerOn()) breaker.success(performance.now());
      return { timeline };
    } catch (e) {
      cacheLatency.add(performance.now() - started);
      const failure = e instanceof TimeoutError ? 'timeout' : 'error';
      cacheReads.inc({ outcome: failure });
      if (breakerOn()) breaker.failure(performance.now());
      return { failure, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  toy.route('GET', '/timeline/:user', async (req) => {
    const user = intParam(req.params.user, 'user');
    if (!graph.has(user)) throw new HttpError(404, `no user ${user}`);
    const end = readDuration.startTimer();
    const cached = await readCache(user);
    if (cached.timeline) {
      let merging = false;
      for (const f of graph.followees(user)) if (mergedAuthors.has(f)) merging = true;
      if (!merging) {
        end({ source: 'cache' });
        return { body: { user, source: 'cache', timeline: cached.timeline } };
      }
      const merged = await callStore('merge', () => tweetStore.get(`/merged/${user}?limit=${readLimit}`, { timeoutMs: storeTimeoutMs }));
      if (merged.ok) {
        const timeline = mergeNewestFirst([cached.timeline, parseTweets(merged.body)], readLimit);
        end({ source: 'hybrid' });
        return { body: { user, source: 'hybrid', timeline } };
      }
      end({ source: 'error' });
      return { status: merged.failure === 'timeout' ? 504 : 502, body: { error: `read-time merge failed: ${merged.detail}` } };
    }
    if (readMergeFallback()) {
      const rebuilt = await callStore('recent', () => tweetStore.get(`/recent/${user}?limit=${readLimit}`, { timeoutMs: storeTimeoutMs }));
      if (rebuilt.ok) {
        end({ source: 'read-merge' });
        return { body: { user, source: 'read-merge', timeline: parseTweets(rebuilt.body) }, headers: { 'x-fallback': '1' } };
      }
    }
    end({ source: 'error' });
    const status = cached.failure === 'timeout' ? 504 : cached.failure === 'rejected' ? 503 : 502;
    return { status, body: { error: `timeline unavailable: ${cached.detail ?? cached.failure}` } };
  });

  toy.route('GET', '/trends', async () => {
    const signals = { fanoutLagMs, cacheLatencyMs: cacheLatency.value, breaker: breakerOn() ? breaker.state(performance.now()) : 'closed' as const };
    if (shouldShed(shedding, signals)) {
      shed.inc({ work: 'trends' });
      return { status: 503, body: { error: 'trends are switched off while timelines are under pressure', shed: true }, headers: { 'x-shed': '1' } };
    }
    const scores = new Map<number, number>();
    const replies = await Promise.all(shards.map((s) => s.get('/trends', { timeoutMs: cacheTimeoutMs() }).catch((e: unknown) => e as Error)));
    for (const r of replies) {
      if (r instanceof Error || r.status !== 200) throw new HttpError(502, `trends unavailable: ${r instanceof Error ? r.message : `cache answered ${r.status}`}`);
      for (const t of (r.body as { trends?: { author: number; score: number }[] }).trends ?? []) {
        scores.set(t.author, (scores.get(t.author) ?? 0) + t.score);
      }
    }
    const trends = [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10).map(([author, score]) => ({ author, score }));
    return { body: { trends } };
  });
};

runToyIfMain(import.meta.url, api);
