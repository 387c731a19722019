/**
 * The timeline read path's merge logic. A home timeline is the newest `limit` tweets of everyone the user
 * follows. Three ways to build it must agree:
 * - fanout-on-write: the cached timeline alone;
 * - hybrid: the cached timeline plus, merged in at read time, the tweets of followees that were not fanned out;
 * - read-merge (the fallback when the cache is unavailable): every followee's recent tweets from the tweet store.
 */
import type { FollowerGraph } from './graph.js';
import { mergeNewestFirst, type TweetRef } from './timeline.js';
import type { TweetStore } from './tweet-store.js';

/** Cached timeline + the user's followees' tweets that were merged at read time instead of fanned out. */
export function hybridTimeline(cached: readonly TweetRef[], user: number, graph: FollowerGraph, store: TweetStore, limit: number): TweetRef[] {
  const lists: (readonly TweetRef[])[] = [cached];
  for (const f of graph.followees(user)) {
    if (store.hasMergedAtRead(f)) lists.push(store.mergedAtRead(f));
  }
  return mergeNewestFirst(lists, limit);
}

/** Builds the timeline from the tweet store alone. */
export function readMergeTimeline(user: number, graph: FollowerGraph, store: TweetStore, limit: number): TweetRef[] {
  const lists: (readonly TweetRef[])[] = [];
  for (const f of graph.followees(user)) {
    const recent = store.recent(f, limit);
    if (recent.length > 0) lists.push(recent);
  }
  return mergeNewestFirst(lists, limit);
}

/** How many followees a read must merge at read time (the read-side cost of hybrid fanout). */
export function mergeSources(user: number, graph: FollowerGraph, store: TweetStore): number {
  let n = 0;
  for (const f of graph.followees(user)) if (store.hasMergedAtRead(f)) n++;
  return n;
}
