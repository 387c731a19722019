/**
 * Keys → partitions → storage nodes, shared by the router (to route), the storage node (to check it owns what it is
 * asked for) and the metadata service (to hand out memberships). Storage nodes are numbered by ordinal 1..n, the
 * number in their name (`storage-3` is ordinal 3), which is also their position in the router's peer list.
 */
import type { Membership } from './membership-client.js';

/** FNV-1a: stable across processes, unlike anything seeded. */
export function hashKey(key: string): number {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

export function partitionOf(key: string, partitions: number): number {
  return hashKey(key) % partitions;
}

/** Partition p is owned by the node with ordinal (p mod nodes) + 1. */
export function ownerOrdinal(partition: number, nodes: number): number {
  return (partition % nodes) + 1;
}

/** `storage-3` → 3; a name without a trailing number (a single node) → 1. */
export function ordinalOf(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : 1;
}

export interface Layout {
  partitions: number;
  nodes: number;
  /** Global secondary index partitions per table partition: they grow every membership (AWS's 2015 trigger). */
  indexesPerPartition: number;
}

export function membershipFor(ordinal: number, layout: Layout, version: number): Membership {
  if (ordinal < 1 || ordinal > layout.nodes) throw new RangeError(`no storage node with ordinal ${ordinal} (there are ${layout.nodes})`);
  const partitions: number[] = [];
  for (let p = 0; p < layout.partitions; p++) if (ownerOrdinal(p, layout.nodes) === ordinal) partitions.push(p);
  return { version, partitions, entries: partitions.length * (1 + layout.indexesPerPartition), nodes: layout.nodes, partitionCount: layout.partitions };
}

/** The metadata service's work for one membership: a fixed part plus a part per entry. */
export function membershipCostMs(entries: number, baseMs: number, perEntryMs: number): number {
  return baseMs + entries * perEntryMs;
}
