/**
 * The tweet store: every author's recent tweets, newest first, and the ids. A tweet that is merged at read time
 * instead of fanned out is flagged, so timeline reads know which followees they must merge in themselves.
 */
import type { TweetRef } from './timeline.js';

export type DeliveryPath = 'fanout' | 'read-merge';

export class TweetStore {
  readonly #recent = new Map<number, TweetRef[]>();
  readonly #merged = new Map<number, TweetRef[]>();
  #nextId = 1;
  #count = 0;

  /** `perAuthor` must be at least the timeline length, so a read-time merge can rebuild a whole timeline. */
  constructor(readonly perAuthor: number) {
    if (!Number.isInteger(perAuthor) || perAuthor < 1) throw new RangeError(`perAuthor must be an integer >= 1, got ${perAuthor}`);
  }

  add(author: number, at: number, path: DeliveryPath): TweetRef {
    const tweet: TweetRef = { id: this.#nextId++, author, at };
    this.#count++;
    pushNewest(this.#recent, author, tweet, this.perAuthor);
    if (path === 'read-merge') pushNewest(this.#merged, author, tweet, this.perAuthor);
    return tweet;
  }

  /** The author's newest tweets, newest first. */
  recent(author: number, limit = this.perAuthor): readonly TweetRef[] {
    const list = this.#recent.get(author);
    return list === undefined ? [] : list.length <= limit ? list : list.slice(0, limit);
  }

  /** The author's newest tweets that were NOT fanned out, newest first. */
  mergedAtRead(author: number): readonly TweetRef[] {
    return this.#merged.get(author) ?? [];
  }

  hasMergedAtRead(author: number): boolean {
    return this.#merged.has(author);
  }

  get count(): number {
    return this.#count;
  }
}

function pushNewest(map: Map<number, TweetRef[]>, author: number, tweet: TweetRef, cap: number): void {
  let list = map.get(author);
  if (list === undefined) {
    list = [];
    map.set(author, list);
  }
  list.unshift(tweet);
  if (list.length > cap) list.pop();
}
