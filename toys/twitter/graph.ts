/**
 * The follower graph: a static, seeded dataset. Every process that needs it (the API for read-time merges, the
 * fanout workers for fanout-on-write) builds the same graph from the same spec and run seed, as a replicated
 * read-only dataset would be. Users are integers 0..users-1; the first `celebrities` ids are the celebrities,
 * followed by `celebrityFollowers` users each; every other user follows `follows` ordinary accounts.
 */
import { createRng } from '../lib/rng.js';

export interface GraphSpec {
  users: number;
  celebrities: number;
  /** Followers of each celebrity (drawn from the ordinary users). */
  celebrityFollowers: number;
  /** Ordinary accounts each ordinary user follows. */
  follows: number;
  seed: number;
}

export class FollowerGraph {
  readonly #followers: Uint32Array[];
  readonly #followees: Uint32Array[];

  constructor(
    readonly spec: GraphSpec,
    followers: Uint32Array[],
    followees: Uint32Array[],
  ) {
    this.#followers = followers;
    this.#followees = followees;
  }

  get users(): number {
    return this.spec.users;
  }

  /** Who receives `author`'s tweets, ascending. */
  followers(author: number): Uint32Array {
    return this.#followers[author] ?? EMPTY;
  }

  /** Whom `user` follows, ascending. */
  followees(user: number): Uint32Array {
    return this.#followees[user] ?? EMPTY;
  }

  followerCount(author: number): number {
    return this.followers(author).length;
  }

  has(user: number): boolean {
    return Number.isInteger(user) && user >= 0 && user < this.spec.users;
  }
}

const EMPTY = new Uint32Array(0);

export function checkGraphSpec(spec: GraphSpec): string[] {
  const problems: string[] = [];
  const ordinary = spec.users - spec.celebrities;
  if (!Number.isInteger(spec.users) || spec.users < 2) problems.push(`users must be an integer >= 2, got ${spec.users}`);
  if (!Number.isInteger(spec.celebrities) || spec.celebrities < 0 || ordinary < 1) {
    problems.push(`celebrities must be an integer in 0..users-1, got ${spec.celebrities}`);
  }
  if (!Number.isInteger(spec.celebrityFollowers) || spec.celebrityFollowers < 0 || spec.celebrityFollowers > ordinary) {
    problems.push(`celebrityFollowers must be an integer in 0..${ordinary} (the ordinary users), got ${spec.celebrityFollowers}`);
  }
  if (!Number.isInteger(spec.follows) || spec.follows < 0 || spec.follows > ordinary - 1) {
    problems.push(`follows must be an integer in 0..${ordinary - 1}, got ${spec.follows}`);
  }
  return problems;
}

export function buildFollowerGraph(spec: GraphSpec): FollowerGraph {
  const problems = checkGraphSpec(spec);
  if (problems.length > 0) throw new RangeError(`bad follower graph: ${problems.join('; ')}`);
  const rng = createRng(spec.seed).fork('follower-graph');
  const { users, celebrities } = spec;
  const ordinary = users - celebrities;
  const followeeLists: number[][] = Array.from({ length: users }, () => []);

  // Partial Fisher-Yates over the ordinary ids draws `k` distinct users without rejection loops.
  const pool = Int32Array.from({ length: ordinary }, (_, i) => celebrities + i);
  const drawDistinct = (k: number, exclude: number): number[] => {
    const out: number[] = [];
    let end = ordinary;
    while (out.length < k) {
      const j = rng.int(end);
      const picked = pool[j]!;
      end--;
      pool[j] = pool[end]!;
      pool[end] = picked;
      if (picked !== exclude) out.push(picked);
    }
    return out;
  };

  for (let c = 0; c < celebrities; c++) {
    for (const u of drawDistinct(spec.celebrityFollowers, -1)) followeeLists[u]!.push(c);
  }
  for (let u = celebrities; u < users; u++) {
    for (const f of drawDistinct(spec.follows, u)) followeeLists[u]!.push(f);
  }

  const followerLists: number[][] = Array.from({ length: users }, () => []);
  for (let u = 0; u < users; u++) for (const f of followeeLists[u]!) followerLists[f]!.push(u);
  const sorted = (l: number[]): Uint32Array => Uint32Array.from(l).sort();
  return new FollowerGraph(spec, followerLists.map(sorted), followeeLists.map(sorted));
}
