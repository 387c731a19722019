import { describe, expect, it } from 'vitest';
import { TimelineStore, mergeNewestFirst, type TweetRef } from './timeline.js';
import { TweetStore } from './tweet-store.js';

const t = (id: number, author = 1): TweetRef => ({ id, author, at: 1000 + id });
const ids = (l: readonly TweetRef[]): number[] => l.map((x) => x.id);

describe('twitter/timeline mergeNewestFirst', () => {
  it('merges newest-first lists, drops duplicates and stops at the limit', () => {
    const merged = mergeNewestFirst([[t(9), t(5), t(2)], [t(8), t(5), t(1)], [], [t(7)]], 5);
    expect(ids(merged)).toEqual([9, 8, 7, 5, 2]);
    expect(ids(mergeNewestFirst([[t(3)], [t(3)], [t(3)]], 10))).toEqual([3]);
    expect(mergeNewestFirst([], 10)).toEqual([]);
  });
});

describe('twitter/timeline TimelineStore', () => {
  it('keeps the newest `capacity` tweets whatever the insert order', () => {
    const s = new TimelineStore(3);
    for (const id of [4, 1, 6, 2, 5]) s.insert(7, t(id));
    expect(ids(s.get(7))).toEqual([6, 5, 4]);
    expect(ids(s.get(7, 2))).toEqual([6, 5]);
  });

  it('is idempotent: a retried insert changes nothing', () => {
    const s = new TimelineStore(10);
    expect(s.insert(1, t(5))).toBe(true);
    expect(s.insert(1, t(5))).toBe(false);
    expect(ids(s.get(1))).toEqual([5]);
  });

  it('refuses a tweet older than everything in a full timeline', () => {
    const s = new TimelineStore(2);
    s.insert(1, t(5));
    s.insert(1, t(6));
    expect(s.insert(1, t(3))).toBe(false);
    expect(ids(s.get(1))).toEqual([6, 5]);
    expect(s.get(99)).toEqual([]);
  });
});

describe('twitter/tweet-store', () => {
  it('assigns increasing ids and keeps each author newest first, bounded', () => {
    const s = new TweetStore(2);
    const a = s.add(1, 10, 'fanout');
    const b = s.add(2, 11, 'read-merge');
    const c = s.add(1, 12, 'fanout');
    const d = s.add(1, 13, 'fanout');
    expect([a.id, b.id, c.id, d.id]).toEqual([1, 2, 3, 4]);
    expect(ids(s.recent(1))).toEqual([4, 3]);
    expect(ids(s.recent(1, 1))).toEqual([4]);
    expect(s.hasMergedAtRead(1)).toBe(false);
    expect(ids(s.mergedAtRead(2))).toEqual([2]);
    expect(s.count).toBe(4);
  });
});
