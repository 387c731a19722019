/**
 * Timelines: lists of tweet references, newest first. Tweet ids grow with time (one API assigns them), so
 * "newest first" is "highest id first", and two timelines merge like sorted lists.
 */

export interface TweetRef {
  id: number;
  author: number;
  /** When the tweet was written (ms since the epoch, the API's clock). */
  at: number;
}

/**
 * Merges lists that are each newest first into one newest-first list of at most `limit`, without duplicates
 * (the same tweet may arrive both fanned out and merged at read time).
 */
export function mergeNewestFirst(lists: readonly (readonly TweetRef[])[], limit: number): TweetRef[] {
  const out: TweetRef[] = [];
  const heads = lists.map(() => 0);
  let lastId = Infinity;
  while (out.length < limit) {
    let best = -1;
    let bestId = -Infinity;
    for (let i = 0; i < lists.length; i++) {
      const t = lists[i]![heads[i]!];
      if (t !== undefined && t.id > bestId) {
        best = i;
        bestId = t.id;
      }
    }
    if (best < 0) break;
    const t = lists[best]![heads[best]!]!;
    heads[best]!++;
    if (t.id === lastId) continue;
    out.push(t);
    lastId = t.id;
  }
  return out;
}

/**
 * The cached home timelines of one cache shard: each holds the newest `capacity` tweets, as a Redis list
 * trimmed on every push. Inserts are idempotent (a retried batch changes nothing) and may arrive out of order.
 */
export class TimelineStore {
  readonly #timelines = new Map<number, TweetRef[]>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`timeline capacity must be an integer >= 1, got ${capacity}`);
  }

  /** False when the tweet is already there, or is older than everything in a full timeline. */
  insert(user: number, tweet: TweetRef): boolean {
    let list = this.#timelines.get(user);
    if (list === undefined) {
      list = [];
      this.#timelines.set(user, list);
    }
    // Binary search for the first entry older than the tweet (ids descending).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.id > tweet.id) lo = mid + 1;
      else hi = mid;
    }
    if (list[lo]?.id === tweet.id) return false;
    if (lo >= this.capacity) return false;
    list.splice(lo, 0, tweet);
    if (list.length > this.capacity) list.pop();
    return true;
  }

  /** Newest first; an empty list for a user with no timeline yet. */
  get(user: number, limit = this.capacity): TweetRef[] {
    return (this.#timelines.get(user) ?? []).slice(0, limit);
  }

  get users(): number {
    return this.#timelines.size;
  }
}
