/**
 * Every fault kind, by its YAML `type` (Toxiproxy's `toxics/*.go` + `Register`, but an explicit const
 * map: no import side effects, and a kind missing a part fails the compile, not a run). The scenario
 * schema's `fault:` union, the loader and the runner all go through here. docs/writing-faults.md.
 */
import { z } from 'zod';
import { onceHeal, type ApplyContext, type FaultKind, type Heal, type LinkInfo, type ResolveContext } from './fault-kind.js';
import { bandwidth } from './kinds/bandwidth.js';
import { clock } from './kinds/clock.js';
import { down } from './kinds/down.js';
import { kill } from './kinds/kill.js';
import { latency } from './kinds/latency.js';
import { limitData } from './kinds/limit-data.js';
import { partition } from './kinds/partition.js';
import { pause } from './kinds/pause.js';
import { resetPeer } from './kinds/reset-peer.js';
import { restart } from './kinds/restart.js';
import { slicer } from './kinds/slicer.js';
import { slowClose } from './kinds/slow-close.js';
import { timeout } from './kinds/timeout.js';

export const faultKinds = {
  latency,
  bandwidth,
  timeout,
  reset_peer: resetPeer,
  slow_close: slowClose,
  slicer,
  limit_data: limitData,
  down,
  partition,
  kill,
  restart,
  pause,
  clock,
} as const;

export type FaultType = keyof typeof faultKinds;
type KindOf<K extends FaultType> = (typeof faultKinds)[K];

/** The resolved spec of one kind (times in ms), as journaled and traced. */
export type FaultSpecOf<K extends FaultType> = Parameters<KindOf<K>['describe']>[0];
/** Any resolved fault. */
export type FaultSpec = { [K in FaultType]: FaultSpecOf<K> }[FaultType];
/** Any fault as the YAML schema outputs it, before it is resolved against the cluster. */
export type FaultInput = { [K in FaultType]: z.output<KindOf<K>['schema']> }[FaultType];

// Each kind's spec `type` must be its own key (the union dispatches on it): a mismatch fails the compile here.
type Mismatched = { [K in FaultType]: K extends FaultSpecOf<K>['type'] ? (FaultSpecOf<K>['type'] extends K ? never : K) : K }[FaultType];
export const faultKeysMatchTypes: [Mismatched] extends [never] ? true : { keyDiffersFromItsType: Mismatched } = true;

type AnySchema = KindOf<FaultType>['schema'];

/** The `fault:` of a timeline step: one of the kinds, told apart by `type`. */
export const Fault = z
  .discriminatedUnion('type', Object.values(faultKinds).map((k) => k.schema) as [AnySchema, ...AnySchema[]])
  .describe('The fault this step applies (and heals at the end of `for`): one kind, chosen by `type`.');

/** Every kind seen through one spec type; the map's keys tie each kind to its spec. */
function kindOf(type: FaultType): FaultKind<AnySchema, FaultSpec> {
  return faultKinds[type] as unknown as FaultKind<AnySchema, FaultSpec>;
}

export function isFaultType(t: string): t is FaultType {
  return Object.hasOwn(faultKinds, t);
}

/** Checks the fault against the cluster (problems go to ctx) and resolves it into its spec. */
export function resolveFault(input: FaultInput, ctx: ResolveContext): FaultSpec {
  return kindOf(input.type).resolve(input, ctx);
}

/** One line for journals and the terminal, e.g. `latency 800ms±50ms downstream on frontend_to_backend`. */
export function describeFault(spec: FaultSpec): string {
  return kindOf(spec.type).describe(spec);
}

/** The `link` labels of `chaoslab_fault_active{fault,link}`. */
export function faultTargets(spec: FaultSpec): string[] {
  return kindOf(spec.type).targets(spec);
}

/** What the fault holds while on (`link:x`, `node:x`, `clock:x`); overlapping faults may not share one. */
export function faultClaims(spec: FaultSpec, links: readonly LinkInfo[]): string[] {
  return kindOf(spec.type).claims(spec, links);
}

/** Nodes that start with libfaketime preloaded: those any of the faults can skew (the same set in every variant). */
export function fakeClockNodes(specs: readonly FaultSpec[]): Set<string> {
  return new Set(specs.flatMap((s) => kindOf(s.type).fakeClockNodes?.(s) ?? []));
}

/** Done at once (a restart): lasts no time. */
export function isInstantFault(spec: FaultSpec): boolean {
  return kindOf(spec.type).instant === true;
}

/** Applies the fault; the healer it returns is idempotent and safe to call concurrently. */
export async function applyFault(spec: FaultSpec, ctx: ApplyContext): Promise<Heal> {
  return onceHeal(await kindOf(spec.type).apply(spec, ctx));
}

export type { ApplyContext, FaultKind, Heal, LinkInfo, ResolveContext } from './fault-kind.js';
