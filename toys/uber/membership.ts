/**
 * The geo-index's own membership: how ingest and dispatch learn of index shards that were started after them (a
 * pre-scaled shard) and forget those that were stopped. The lab never rewrites anyone's peers: a new shard joins
 * by calling the group's first instance (the registry), heartbeats, and leaves when it shuts down; a shard that
 * stops heartbeating expires. The registry records the address it saw the join come from (with the port the
 * shard names), as seen inside the cluster, which is how ingest and dispatch will reach it.
 *
 * The shard list every reader computes is the same: the seed shards it was configured with, plus the joined
 * ones, ordered by instance index. Cell ranges follow from that list (cells.ts `ownerOf`).
 */
export interface Member {
  name: string;
  index: number;
  address: string;
}

export class MemberRegistry {
  readonly #members = new Map<string, Member & { seenAt: number }>();

  constructor(readonly expiryMs: number) {}

  join(m: Member, now: number): void {
    this.#members.set(m.name, { ...m, seenAt: now });
  }

  leave(name: string): boolean {
    return this.#members.delete(name);
  }

  /** Members heard from within `expiryMs`; expired ones are forgotten. */
  live(now: number): Member[] {
    const out: Member[] = [];
    for (const [name, m] of this.#members) {
      if (now - m.seenAt > this.expiryMs) this.#members.delete(name);
      else out.push({ name: m.name, index: m.index, address: m.address });
    }
    return out.sort((a, b) => a.index - b.index);
  }
}

/** Seed shards (from the node's config: index order) plus joined members, by instance index, one per index. */
export function shardList(seeds: string[], joined: Member[]): Member[] {
  const byIndex = new Map<number, Member>();
  seeds.forEach((address, index) => byIndex.set(index, { name: `seed-${index}`, index, address }));
  for (const m of joined) if (!byIndex.has(m.index)) byIndex.set(m.index, m);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export function parseMember(v: unknown): Member | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || !Number.isInteger(o.index) || typeof o.address !== 'string') return undefined;
  return { name: o.name, index: o.index as number, address: o.address };
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; IPv6 gets brackets. */
export function hostOf(remoteAddress: string | undefined): string {
  const a = remoteAddress ?? '127.0.0.1';
  if (a.startsWith('::ffff:')) return a.slice(7);
  return a.includes(':') ? `[${a}]` : a;
}
