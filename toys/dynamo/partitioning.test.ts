import { describe, expect, it } from 'vitest';
import { hashKey, membershipCostMs, membershipFor, ordinalOf, ownerOrdinal, partitionOf } from './partitioning.js';

describe('partitioning', () => {
  const layout = { partitions: 24, nodes: 6, indexesPerPartition: 2 };

  it('hashes keys stably and spreads them over partitions', () => {
    expect(hashKey('42')).toBe(hashKey('42'));
    const seen = new Set<number>();
    for (let k = 0; k < 1000; k++) seen.add(partitionOf(String(k), 24));
    expect(seen.size).toBe(24);
  });

  it('gives every partition exactly one owner, whose membership lists it', () => {
    const all = [1, 2, 3, 4, 5, 6].flatMap((o) => membershipFor(o, layout, 7).partitions);
    expect(all.sort((a, b) => a - b)).toEqual([...Array(24).keys()]);
    for (let p = 0; p < 24; p++) expect(membershipFor(ownerOrdinal(p, 6), layout, 1).partitions).toContain(p);
  });

  it('counts index partitions in the membership size, which drives the cost', () => {
    const m = membershipFor(3, layout, 1);
    expect(m).toEqual({ version: 1, partitions: [2, 8, 14, 20], entries: 12, nodes: 6, partitionCount: 24 });
    expect(membershipCostMs(m.entries, 100, 50)).toBe(700);
  });

  it('reads ordinals from node names', () => {
    expect(ordinalOf('storage-3')).toBe(3);
    expect(ordinalOf('storage')).toBe(1);
    expect(() => membershipFor(7, layout, 1)).toThrow(/ordinal 7/);
  });
});
