import { describe, expect, it } from 'vitest';
import { createRng } from '../lib/rng.js';
import { FANOUT_FOR_EVERYONE, deliveryPath, planBatches, shardOf, type FanoutPolicy } from './fanout.js';
import { buildFollowerGraph } from './graph.js';
import { hybridTimeline, mergeSources, readMergeTimeline } from './read-merge.js';
import { TimelineStore, type TweetRef } from './timeline.js';
import { TweetStore } from './tweet-store.js';

const tweet = (id: number, author: number): TweetRef => ({ id, author, at: id });

describe('twitter/fanout deliveryPath', () => {
  const hybrid: FanoutPolicy = { hybridThreshold: 1000, adaptiveThreshold: 0, adaptiveLagMs: 0 };

  it('fans out everything without hybrid fanout', () => {
    expect(deliveryPath(1_000_000, FANOUT_FOR_EVERYONE, 60_000)).toBe('fanout');
  });

  it('merges big accounts at read time above the threshold', () => {
    expect(deliveryPath(1000, hybrid, 0)).toBe('fanout');
    expect(deliveryPath(1001, hybrid, 0)).toBe('read-merge');
  });

  it('lowers the threshold only while the fanout lags (adaptive fanout)', () => {
    const adaptive: FanoutPolicy = { hybridThreshold: 1000, adaptiveThreshold: 50, adaptiveLagMs: 2000 };
    expect(deliveryPath(200, adaptive, 1000)).toBe('fanout');
    expect(deliveryPath(200, adaptive, 3000)).toBe('read-merge');
    expect(deliveryPath(40, adaptive, 3000)).toBe('fanout');
    expect(deliveryPath(200, { ...adaptive, hybridThreshold: 0 }, 3000)).toBe('read-merge');
  });
});

describe('twitter/fanout planBatches', () => {
  it('puts every follower of every tweet in exactly one batch, on its shard, within maxBatch', () => {
    const work = [
      { tweet: tweet(1, 0), followers: Array.from({ length: 1000 }, (_, i) => i + 10) },
      { tweet: tweet(2, 5), followers: [3, 4, 5, 6, 7] },
    ];
    const batches = planBatches(work, 3, 100);
    const seen = new Map<string, number>();
    for (const b of batches) {
      expect(b.inserts).toBeLessThanOrEqual(100);
      expect(b.inserts).toBe(b.items.reduce((n, i) => n + i.users.length, 0));
      for (const item of b.items) {
        for (const u of item.users) {
          expect(shardOf(u, 3)).toBe(b.shard);
          const k = `${item.tweet.id}:${u}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
      }
    }
    expect(seen.size).toBe(1005);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('coalesces small tweets into one write per shard', () => {
    const work = Array.from({ length: 20 }, (_, i) => ({ tweet: tweet(i + 1, i), followers: [i * 2, i * 2 + 1] }));
    const batches = planBatches(work, 2, 500);
    expect(batches.map((b) => [b.shard, b.inserts, b.items.length])).toEqual([
      [0, 20, 20],
      [1, 20, 20],
    ]);
  });

  it('refuses nonsense sizes', () => {
    expect(() => planBatches([], 0, 10)).toThrow(/shards/);
    expect(() => planBatches([], 2, 0)).toThrow(/maxBatch/);
  });
});

/**
 * The property the whole mitigation rests on: a hybrid timeline (cached fanout + read-time merge of big
 * accounts), and a timeline rebuilt from the tweet store alone, equal the timeline fanout-on-write builds.
 */
describe('twitter/fanout: merged timelines equal fanned-out ones', () => {
  const graph = buildFollowerGraph({ users: 600, celebrities: 3, celebrityFollowers: 450, follows: 8, seed: 9 });
  const LIMIT = 20;
  const SHARDS = 3;

  function replay(policyOf: (i: number) => FanoutPolicy, lagOf: (i: number) => number, seed: number) {
    const rng = createRng(seed);
    const store = new TweetStore(LIMIT);
    const everyone = new TimelineStore(LIMIT);
    const hybrid = new TimelineStore(LIMIT);
    const work: { tweet: TweetRef; followers: Uint32Array }[] = [];
    for (let i = 0; i < 3000; i++) {
      // Celebrities tweet a lot, as in the surge.
      const author = rng.next() < 0.1 ? rng.int(3) : 3 + rng.int(597);
      const path = deliveryPath(graph.followerCount(author), policyOf(i), lagOf(i));
      const t = store.add(author, i, path);
      for (const u of graph.followers(author)) everyone.insert(u, t);
      if (path === 'fanout') work.push({ tweet: t, followers: graph.followers(author) });
    }
    // Workers deliver out of order and sometimes twice (retries, redelivered jobs).
    const batches = planBatches(work, SHARDS, 37);
    for (let i = batches.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [batches[i], batches[j]] = [batches[j]!, batches[i]!];
    }
    for (const b of [...batches, ...batches.slice(0, 50)]) for (const item of b.items) for (const u of item.users) hybrid.insert(u, item.tweet);
    return { store, everyone, hybrid };
  }

  it('with a static hybrid threshold', () => {
    const { store, everyone, hybrid } = replay(() => ({ hybridThreshold: 100, adaptiveThreshold: 0, adaptiveLagMs: 0 }), () => 0, 1);
    let merging = 0;
    for (let u = 0; u < graph.users; u++) {
      const expected = everyone.get(u);
      expect(hybridTimeline(hybrid.get(u), u, graph, store, LIMIT)).toEqual(expected);
      expect(readMergeTimeline(u, graph, store, LIMIT)).toEqual(expected);
      if (mergeSources(u, graph, store) > 0) merging++;
    }
    expect(merging).toBeGreaterThan(400);
  });

  it('with an adaptive threshold that moves while tweets flow', () => {
    const policy: FanoutPolicy = { hybridThreshold: 100, adaptiveThreshold: 5, adaptiveLagMs: 1000 };
    const { store, everyone, hybrid } = replay(() => policy, (i) => (Math.floor(i / 400) % 2 === 0 ? 0 : 5000), 2);
    for (let u = 0; u < graph.users; u++) {
      expect(hybridTimeline(hybrid.get(u), u, graph, store, LIMIT)).toEqual(everyone.get(u));
    }
  });

  it('with fanout for everyone, the cache alone is the timeline', () => {
    const { store, everyone, hybrid } = replay(() => FANOUT_FOR_EVERYONE, () => 0, 3);
    for (let u = 0; u < graph.users; u += 7) {
      expect(hybrid.get(u)).toEqual(everyone.get(u));
      expect(mergeSources(u, graph, store)).toBe(0);
    }
  });
});
