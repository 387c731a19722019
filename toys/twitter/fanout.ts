/**
 * Fanout-on-write: which tweets are pushed into followers' cached timelines, and how that work is cut into
 * per-shard batches. Every follower costs one timeline insert in the cache; that is the amplification.
 */
import type { DeliveryPath } from './tweet-store.js';
import type { TweetRef } from './timeline.js';

export interface FanoutPolicy {
  /**
   * Hybrid fanout: tweets of authors with MORE followers than this are merged at read time instead of fanned
   * out. 0 = fanout-on-write for everyone (the 2010-era design).
   */
  hybridThreshold: number;
  /**
   * Adaptive fanout: while the fanout lag exceeds `adaptiveLagMs`, the threshold drops to this (more authors are
   * merged at read time until the queue catches up). 0 = off.
   */
  adaptiveThreshold: number;
  adaptiveLagMs: number;
}

export const FANOUT_FOR_EVERYONE: FanoutPolicy = { hybridThreshold: 0, adaptiveThreshold: 0, adaptiveLagMs: 0 };

/** Where a tweet with `followerCount` followers goes, given the fanout lag the API last heard of. */
export function deliveryPath(followerCount: number, policy: FanoutPolicy, fanoutLagMs: number): DeliveryPath {
  let threshold = policy.hybridThreshold;
  if (policy.adaptiveThreshold > 0 && fanoutLagMs > policy.adaptiveLagMs) {
    threshold = threshold > 0 ? Math.min(threshold, policy.adaptiveThreshold) : policy.adaptiveThreshold;
  }
  return threshold > 0 && followerCount > threshold ? 'read-merge' : 'fanout';
}

export const shardOf = (user: number, shards: number): number => user % shards;

/** One cache write: tweets and, per tweet, the followers on `shard` whose timelines get it. */
export interface ShardBatch {
  shard: number;
  items: { tweet: TweetRef; users: number[] }[];
  /** Timeline inserts in the batch (the cache's cost). */
  inserts: number;
}

export interface FanoutWork {
  tweet: TweetRef;
  followers: ArrayLike<number>;
}

/**
 * Groups the followers of several tweets by cache shard and cuts each shard's inserts into batches of at most
 * `maxBatch`, keeping tweets in order. Small tweets share a batch: one write per shard, not per tweet.
 */
export function planBatches(work: readonly FanoutWork[], shards: number, maxBatch: number): ShardBatch[] {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be an integer >= 1, got ${shards}`);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be an integer >= 1, got ${maxBatch}`);
  const batches: ShardBatch[] = [];
  for (let shard = 0; shard < shards; shard++) {
    let current: ShardBatch | undefined;
    for (const { tweet, followers } of work) {
      let item: { tweet: TweetRef; users: number[] } | undefined;
      for (let i = 0; i < followers.length; i++) {
        const user = followers[i]!;
        if (shardOf(user, shards) !== shard) continue;
        if (current === undefined || current.inserts >= maxBatch) {
          current = { shard, items: [], inserts: 0 };
          batches.push(current);
          item = undefined;
        }
        if (item === undefined) {
          item = { tweet, users: [] };
          current.items.push(item);
        }
        item.users.push(user);
        current.inserts++;
      }
    }
  }
  return batches;
}
