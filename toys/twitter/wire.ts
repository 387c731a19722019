/**
 * What the twitter nodes share: the graph params (every process builds the same graph), the histogram buckets,
 * and the checks of the JSON bodies they exchange. A bad body is a 400, never a crash.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge } from 'prom-client';
import { HttpError, ToyConfigError, type Toy } from '../lib/toy-node.js';
import { buildFollowerGraph, checkGraphSpec, type FollowerGraph } from './graph.js';
import type { TweetRef } from './timeline.js';

/** Builds the follower graph from the node's params and the run seed; refuses an impossible one at start (exit 2). */
export function graphFromParams(toy: Toy): FollowerGraph {
  const spec = {
    users: toy.params.num('users', 5000),
    celebrities: toy.params.num('celebrities', 3),
    celebrityFollowers: toy.params.num('celebrityFollowers', 4000),
    follows: toy.params.num('follows', 20),
    seed: toy.config.seed,
  };
  const problems = checkGraphSpec(spec);
  if (problems.length > 0) throw new ToyConfigError(`bad follower graph params: ${problems.join('; ')}`);
  return buildFollowerGraph(spec);
}

/**
 * CPU used and event-loop delay of this process. On a shared two-core machine they tell a node that is busy
 * (CPU rises) from one that is starved by its neighbours (delay rises, CPU does not).
 */
export function processMetrics(toy: Toy): void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  toy.onShutdown(() => void delay.disable());
  new Counter({
    name: 'twitter_process_cpu_seconds_total',
    help: 'CPU time (user + system) used by this node process.',
    registers: [toy.registry],
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'twitter_event_loop_delay_max_seconds',
    help: 'Longest event-loop delay since the previous scrape.',
    registers: [toy.registry],
    collect() {
      this.set(delay.max / 1e9);
      delay.reset();
    },
  });
}

/** Delivery lags reach minutes in the incident; reads are judged against 300 ms. */
export const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300];
export const READ_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5];

export interface BatchItem {
  tweet: TweetRef;
  users: number[];
}

const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseTweet(v: unknown): TweetRef {
  if (!isObject(v) || !isInt(v.id) || !isInt(v.author) || typeof v.at !== 'number') throw new HttpError(400, 'expected a tweet {id, author, at}');
  return { id: v.id, author: v.author, at: v.at };
}

export function parseBatch(body: unknown): BatchItem[] {
  if (!isObject(body) || !Array.isArray(body.items)) throw new HttpError(400, 'expected {"items": [{"tweet": {...}, "users": [...]}]}');
  return body.items.map((item: unknown) => {
    if (!isObject(item) || !Array.isArray(item.users) || !item.users.every(isInt)) throw new HttpError(400, 'each item needs "users": [ints]');
    return { tweet: parseTweet(item.tweet), users: item.users };
  });
}

export function parseTweets(body: unknown): TweetRef[] {
  if (!isObject(body) || !Array.isArray(body.timeline)) throw new Error('expected {"timeline": [...]}');
  return body.timeline.map(parseTweet);
}

export function intParam(value: string | undefined, what: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isInteger(n) || n < 0) throw new HttpError(400, `${what} must be an integer >= 0, got ${JSON.stringify(value)}`);
  return n;
}

export function intField(body: unknown, field: string, fallback?: number): number {
  const v = isObject(body) ? body[field] : undefined;
  if (v === undefined && fallback !== undefined) return fallback;
  if (!isInt(v)) throw new HttpError(400, `"${field}" must be an integer >= 0`);
  return v;
}

export function intList(body: unknown, field: string): number[] {
  const v = isObject(body) ? body[field] : undefined;
  if (!Array.isArray(v) || !v.every(isInt)) throw new HttpError(400, `"${field}" must be a list of integers`);
  return v;
}
