/**
 * The twitter nodes over real HTTP, wired directly to each other (the lab would put Toxiproxy in between).
 * A small graph keeps it fast; the timelines are checked against the graph, not against the toy's own logic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type NodeConfig, type ParamValue, type RunningToy, type ToySetup } from '../lib/toy-node.js';
import { api } from './api.js';
import { cache } from './cache.js';
import { buildFollowerGraph } from './graph.js';
import { queue } from './queue.js';
import { store } from './store.js';
import { worker } from './worker.js';

const SEED = 11;
const GRAPH = { users: 300, celebrities: 2, celebrityFollowers: 200, follows: 5 };
const graph = buildFollowerGraph({ ...GRAPH, seed: SEED });
const running: RunningToy[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close(50)));
});

type Params = Record<string, ParamValue>;

async function start(name: string, setup: ToySetup, params: Params, peers: Record<string, string[]> = {}): Promise<RunningToy> {
  const [group, index] = [name.replace(/-\d+$/, ''), Number(name.split('-').pop())];
  const config: NodeConfig = { name, group, index, host: '127.0.0.1', ports: { http: 0 }, peers, params, seed: SEED, runId: 'test' };
  const t = await startToy(config, setup);
  running.push(t);
  return t;
}

const address = (t: RunningToy): string => t.url.replace('http://', '');

async function startCluster(opts: { api?: Params; worker?: Params; cache?: Params; store?: Params } = {}) {
  const shards = [await start('cache-0', cache, { ...opts.cache }), await start('cache-1', cache, { ...opts.cache })];
  const q = await start('queue-0', queue, {});
  const tweets = await start('store-0', store, { ...GRAPH, ...opts.store });
  const peers = { cache: shards.map(address), queue: [address(q)] };
  const workers = [await start('worker-0', worker, { ...GRAPH, ...opts.worker }, peers), await start('worker-1', worker, { ...GRAPH, ...opts.worker }, peers)];
  const front = await start('api-0', api, { ...GRAPH, ...opts.api }, { ...peers, store: [address(tweets)] });
  return { shards, queue: q, workers, api: front, store: tweets };
}

async function metric(t: RunningToy, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function waitDrained(q: RunningToy, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while ((await metric(q, 'twitter_fanout_queue_depth{')) > 0) {
    if (performance.now() > until) throw new Error('fanout queue did not drain');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Posts tweets (celebrities included) and returns [id, author] in order. */
async function postTweets(front: RunningToy, n: number): Promise<[number, number][]> {
  const posted: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const celebrity = i % 5 === 0;
    const res = await fetch(celebrity ? `${front.url}/celebrity/${i}/tweet` : `${front.url}/tweet/${2 + ((i * 37) % 298)}`, { method: 'POST' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: number; author: number };
    posted.push([body.id, body.author]);
  }
  return posted;
}

/** The home timeline straight from the graph: newest 20 tweets of the user's followees. */
function expectedTimeline(user: number, posted: [number, number][]): number[] {
  const followees = new Set(graph.followees(user));
  return posted
    .filter(([, author]) => followees.has(author))
    .map(([id]) => id)
    .sort((a, b) => b - a)
    .slice(0, 20);
}

async function readTimeline(front: RunningToy, user: number): Promise<{ status: number; ids: number[]; source?: string; fallback: string | null }> {
  const res = await fetch(`${front.url}/timeline/${user}`);
  const body = (await res.json()) as { timeline?: { id: number }[]; source?: string };
  return { status: res.status, ids: (body.timeline ?? []).map((t) => t.id), ...(body.source ? { source: body.source } : {}), fallback: res.headers.get('x-fallback') };
}

const SAMPLE_USERS = [2, 17, 50, 123, 201, 299];

describe('twitter nodes', () => {
  it('fanout-on-write: every follower timeline gets every tweet, delivered through the queue and the cache', async () => {
    const c = await startCluster();
    const posted = await postTweets(c.api, 60);
    await waitDrained(c.queue);
    for (const user of SAMPLE_USERS) {
      const r = await readTimeline(c.api, user);
      expect(r.status).toBe(200);
      expect(r.source).toBe('cache');
      expect(r.ids).toEqual(expectedTimeline(user, posted));
    }
    const celebrityTweets = posted.filter(([, a]) => a < 2).length;
    expect(await metric(c.api, 'twitter_tweets_total{path="fanout"')).toBe(60);
    const inserts = (await metric(c.shards[0]!, 'twitter_cache_inserts_total{result="new"')) + (await metric(c.shards[1]!, 'twitter_cache_inserts_total{result="new"'));
    expect(inserts).toBe(posted.reduce((n, [, a]) => n + graph.followerCount(a), 0));
    expect(celebrityTweets).toBe(12);
    expect(await metric(c.shards[0]!, 'twitter_delivery_latency_seconds_count')).toBeGreaterThan(0);
  });

  it('hybrid fanout: celebrity tweets skip the queue and are merged at read time, with the same timelines', async () => {
    const c = await startCluster({ api: { hybridThreshold: 100 } });
    const posted = await postTweets(c.api, 60);
    await waitDrained(c.queue);
    for (const user of SAMPLE_USERS) {
      const r = await readTimeline(c.api, user);
      expect(r.ids).toEqual(expectedTimeline(user, posted));
    }
    expect(await metric(c.api, 'twitter_tweets_total{path="read-merge"')).toBe(12);
    expect(await metric(c.api, 'twitter_read_merge_deliveries_total')).toBe(12 * 200);
    const fanned = (await metric(c.shards[0]!, 'twitter_cache_inserts_total{result="new"')) + (await metric(c.shards[1]!, 'twitter_cache_inserts_total{result="new"'));
    expect(fanned).toBe(posted.filter(([, a]) => a >= 2).reduce((n, [, a]) => n + graph.followerCount(a), 0));
  });

  it('read-time merges cost the tweet store: merging too many accounts saturates it, and reads slow down and fail', async () => {
    // Same store (2 workers, 5 ms per account merged, 300 ms queue bound) and the same burst of 40 reads at once.
    const burst = async (hybridThreshold: number) => {
      const c = await startCluster({ api: { hybridThreshold }, store: { workers: 2, mergeBaseMs: 2, mergePerAuthorMs: 5, maxWaitMs: 300 } });
      await postTweets(c.api, 300); // every ordinary user tweets at least once
      await waitDrained(c.queue);
      const users = Array.from({ length: 40 }, (_, i) => 2 + ((i * 7) % 298));
      const reads = await Promise.all(users.map((u) => readTimeline(c.api, u)));
      const lines = (await (await fetch(`${c.store.url}/metrics`)).text()).split('\n').filter((l) => l.includes('op="merge"'));
      const value = (prefix: string): number => Number(lines.find((l) => l.startsWith(prefix))?.split(' ').pop());
      const mergeMs = (1000 * value('twitter_store_request_duration_seconds_sum')) / value('twitter_store_request_duration_seconds_count');
      return {
        mergeMs,
        failed: reads.filter((r) => r.status !== 200).length,
        refused: await metric(c.store, 'twitter_store_requests_total{op="merge",outcome="refused"'),
      };
    };
    const celebritiesOnly = await burst(100); // 2 celebrities merged: a read merges at most 2 accounts
    const everyone = await burst(1); // every account with a follower merged: a read merges all its followees
    expect(celebritiesOnly.failed).toBe(0);
    expect(everyone.refused).toBeGreaterThan(0);
    expect(everyone.failed).toBe(everyone.refused);
    // The merges the store did take (queue + work) took longer each: cost per account, and a longer queue.
    expect(everyone.mergeMs).toBeGreaterThan(2 * celebritiesOnly.mergeMs);
  });

  it('breaker + read-merge fallback: with the cache gone, reads are rebuilt from the tweet store and trends are shed', async () => {
    const c = await startCluster({
      api: { hybridThreshold: 100, cacheTimeoutMs: 200, readMergeFallback: true, breaker: true, breakerMinCalls: 3, breakerWindow: 5, breakerCooldownMs: 60_000, shedding: true },
    });
    const posted = await postTweets(c.api, 40);
    await waitDrained(c.queue);
    await Promise.all(c.shards.map((s) => s.close(10)));
    for (const user of SAMPLE_USERS) {
      const r = await readTimeline(c.api, user);
      expect(r.status).toBe(200);
      expect(r.fallback).toBe('1');
      expect(r.ids).toEqual(expectedTimeline(user, posted));
    }
    expect(await metric(c.api, 'circuit_breaker_state{dep="cache"')).toBe(2);
    // Open breaker: later reads do not even try the cache.
    expect(await metric(c.api, 'twitter_cache_reads_total{outcome="rejected"')).toBe(SAMPLE_USERS.length - 3);
    const trends = await fetch(`${c.api.url}/trends`);
    expect(trends.status).toBe(503);
    expect(await metric(c.api, 'twitter_shed_total{work="trends"')).toBe(1);
  });

  it('the three mitigations pushed live (POST /admin/params) change the next tweets, reads and trends, without a restart', async () => {
    // Baseline params at start; only the breaker's sizes (not a mitigation) are small, as in the test above.
    const c = await startCluster({ api: { breakerMinCalls: 3, breakerWindow: 5, breakerCooldownMs: 60_000 } });
    const push = await fetch(`${c.api.url}/admin/params`, {
      method: 'POST',
      body: JSON.stringify({ hybridThreshold: 100, cacheTimeoutMs: 200, breaker: true, readMergeFallback: true, shedding: true, shedLagMs: 1000, shedCacheLatencyMs: 50 }),
    });
    expect(push.status).toBe(200);
    const posted = await postTweets(c.api, 40);
    await waitDrained(c.queue);
    expect(await metric(c.api, 'twitter_tweets_total{path="read-merge"')).toBeGreaterThan(0);
    await Promise.all(c.shards.map((s) => s.close(10)));
    for (const user of SAMPLE_USERS) {
      const r = await readTimeline(c.api, user);
      expect(r.status).toBe(200);
      expect(r.fallback).toBe('1');
      expect(r.ids).toEqual(expectedTimeline(user, posted));
    }
    expect(await metric(c.api, 'circuit_breaker_state{dep="cache"')).toBe(2);
    expect((await fetch(`${c.api.url}/trends`)).status).toBe(503);
    expect(await metric(c.api, 'twitter_shed_total{work="trends"')).toBe(1);
  });

  it('without a fallback, a failed cache read is a failed timeline read', async () => {
    const c = await startCluster({ api: { cacheTimeoutMs: 200 } });
    await Promise.all(c.shards.map((s) => s.close(10)));
    expect((await readTimeline(c.api, 5)).status).toBe(502);
  });

  it('the cache serves one command at a time: reads wait behind fanout writes, and it refuses past its backlog bound', async () => {
    const shard = await start('cache-0', cache, { insertCostMs: 1, maxBacklogMs: 600 });
    const users = Array.from({ length: 250 }, (_, i) => i * 2);
    const batch = (id: number) =>
      fetch(`${shard.url}/timelines/batch`, { method: 'POST', body: JSON.stringify({ items: [{ tweet: { id, author: 1, at: Date.now() }, users }] }) });
    const writes = [batch(1), batch(2)];
    while ((await metric(shard, 'twitter_cache_backlog_seconds')) < 0.4) await new Promise((r) => setTimeout(r, 2));
    const started = performance.now();
    const read = fetch(`${shard.url}/timeline/4`).then(async (r) => ({ status: r.status, ms: performance.now() - started, body: (await r.json()) as { timeline: { id: number }[] } }));
    writes.push(batch(3)); // queued behind the read: ~750 ms of work now
    while ((await metric(shard, 'twitter_cache_backlog_seconds')) < 0.6) await new Promise((r) => setTimeout(r, 2));
    expect((await batch(4)).status).toBe(503);
    const r = await read;
    // It waited for what was left of two batches of 250 inserts at 1 ms each, and saw those two only.
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThan(300);
    expect(r.body.timeline.map((t) => t.id)).toEqual([2, 1]);
    expect((await Promise.all(writes)).map((w) => w.status)).toEqual([200, 200, 200]);
    expect(await metric(shard, 'twitter_cache_commands_total{command="batch",outcome="refused"')).toBe(1);
  });

  it('queue: an empty-queue pull waits for work (long polling) and carries the previous round acks', async () => {
    const q = await start('queue-0', queue, { lingerMs: 5 });
    const post = async (path: string, body: unknown) => (await fetch(`${q.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
    const started = performance.now();
    const parked = post('/pull', { waitMs: 3000 });
    await new Promise((r) => setTimeout(r, 100));
    await post('/enqueue', { id: 1, author: 7, at: 1, fanout: 20 });
    const first = (await parked) as { jobs: { id: number }[] };
    expect(first.jobs.map((j) => j.id)).toEqual([1]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await metric(q, 'twitter_fanout_queue_depth')).toBe(1);
    const second = await post('/pull', { waitMs: 50, ack: [1] });
    expect(second).toEqual({ acked: 1, jobs: [] });
    expect(await metric(q, 'twitter_fanout_queue_depth')).toBe(0);
  });

  it('rejects bad requests with 400/404', async () => {
    const c = await startCluster();
    expect((await fetch(`${c.api.url}/tweet/abc`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${c.api.url}/tweet/300`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${c.shards[0]!.url}/timelines/batch`, { method: 'POST', body: '{"items": [{}]}' })).status).toBe(400);
    expect((await fetch(`${c.queue.url}/pull`, { method: 'POST', body: '{"ack": ["x"]}' })).status).toBe(400);
  });

  it('addresses celebrities and ordinary users by index, so a workload can keep them apart', async () => {
    const c = await startCluster();
    const author = async (path: string): Promise<number> => ((await (await fetch(`${c.api.url}${path}`, { method: 'POST' })).json()) as { author: number }).author;
    expect(await author('/celebrity/3/tweet')).toBe(1);
    // GRAPH: ids 0 and 1 are the celebrities, 2..299 the 298 ordinary users.
    expect(await author('/ordinary/0/tweet')).toBe(2);
    expect(await author('/ordinary/297/tweet')).toBe(299);
    expect(await author('/ordinary/298/tweet')).toBe(2);
    expect((await fetch(`${c.api.url}/ordinary/-1/tweet`, { method: 'POST' })).status).toBe(400);
  });

  it('refuses an impossible graph or an unknown param at start', async () => {
    await expect(start('api-0', api, { ...GRAPH, celebrityFollowers: 5000 }, { cache: ['127.0.0.1:1'], queue: ['127.0.0.1:1'] })).rejects.toThrow(/celebrityFollowers/);
    await expect(start('cache-0', cache, { insertCost: 1 })).rejects.toThrow(/unknown param "insertCost"/);
  });
});
