import { describe, expect, it } from 'vitest';
import { distance, driverPosition, HexGrid, ownerOf } from './cells.js';
import { MemberRegistry, shardList } from './membership.js';

describe('HexGrid', () => {
  const grid = new HexGrid(8, 500);

  it('has 3R(R+1)+1 cells, the centre in the middle', () => {
    expect(grid.cellCount).toBe(3 * 8 * 9 + 1);
    expect(grid.cellOf({ x: 0, y: 0 })).toBe((grid.cellCount - 1) / 2);
  });

  it('a k-ring is the cell and its 6 neighbours inside the city, fewer at the edge', () => {
    const centre = grid.cellOf({ x: 0, y: 0 });
    expect(grid.kRing(centre, 1)).toHaveLength(7);
    expect(grid.kRing(centre, 1)).toContain(centre);
    expect(grid.kRing(0, 1).length).toBeLessThan(7);
  });

  it('puts nearby points in the same or a neighbouring cell, and points outside the city in it', () => {
    const a = grid.cellOf({ x: 1000, y: 1000 });
    expect(grid.kRing(a, 1)).toContain(grid.cellOf({ x: 1200, y: 1100 }));
    expect(grid.cellOf({ x: 1e6, y: -1e6 })).toBeGreaterThanOrEqual(0);
  });
});

describe('ownership and drivers', () => {
  it('shards own contiguous ranges; a new shard takes a range from each', () => {
    const owners2 = Array.from({ length: 217 }, (_, c) => ownerOf(c, 217, 2));
    expect(owners2.filter((o) => o === 0)).toHaveLength(109);
    const owners4 = Array.from({ length: 217 }, (_, c) => ownerOf(c, 217, 4));
    expect(new Set(owners4)).toEqual(new Set([0, 1, 2, 3]));
    expect(owners4.every((o, c) => c === 0 || o >= owners4[c - 1]!)).toBe(true);
  });

  it('drivers move at city speed, inside the city, deterministically', () => {
    const a = driverPosition(7, 0, 4000);
    expect(driverPosition(7, 0, 4000)).toEqual(a);
    const moved = distance(a, driverPosition(7, 20_000, 4000));
    expect(moved).toBeGreaterThan(100);
    expect(moved).toBeLessThanOrEqual(200.001);
    for (let d = 0; d < 200; d++) expect(Math.hypot(driverPosition(d, d * 999, 4000).x, driverPosition(d, d * 999, 4000).y)).toBeLessThan(4000 * 0.81);
  });
});

describe('membership', () => {
  it('seed shards come first; joined members add shards by index; expired ones go', () => {
    const reg = new MemberRegistry(3000);
    reg.join({ name: 'geo-index-2', index: 1, address: '127.0.0.1:2' }, 0);
    reg.join({ name: 'geo-index-3', index: 2, address: '127.0.0.1:3' }, 0);
    reg.join({ name: 'geo-index-4', index: 3, address: '127.0.0.1:4' }, 2000);
    const list = shardList(['127.0.0.1:1', '127.0.0.1:22'], reg.live(1000));
    expect(list.map((m) => m.address)).toEqual(['127.0.0.1:1', '127.0.0.1:22', '127.0.0.1:3', '127.0.0.1:4']);
    expect(reg.live(4500).map((m) => m.name)).toEqual(['geo-index-4']);
    expect(reg.leave('geo-index-4')).toBe(true);
    expect(reg.live(4500)).toEqual([]);
  });
});
