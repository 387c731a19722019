/**
 * What a fault kind is (Toxiproxy's `Toxic` interface, one file per kind under `kinds/`): the YAML it
 * accepts, how it resolves against the cluster, what it targets, how it reads in the journal, and
 * apply → heal. `registry.ts` lists the kinds; docs/writing-faults.md says how to add one.
 */
import { z } from 'zod';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { StartedNode } from '../runtime/runtime.js';
import type { ToxiproxyApi } from './toxiproxy-api.js';

/** A path to a YAML field, relative to the timeline step (e.g. `['fault', 'links']`, `['for']`). */
export type StepPath = readonly (string | number)[];

/** One proxied, directed link of the cluster: the Toxiproxy proxy `<from>_to_<to>`. */
export interface LinkInfo {
  name: string;
  from: string;
  to: string;
}

/** Given by the scenario loader: the cluster's names, and where to report problems (file:line). */
export interface ResolveContext {
  /** Every proxied link of the cluster. */
  readonly links: readonly LinkInfo[];
  /** The step's `for`, in ms (undefined: to the end of the run). */
  readonly forMs: number | undefined;
  /** Link names matching the patterns (names or `*` globs); patterns matching nothing are reported at `at`. */
  pickLinks(patterns: readonly string[], at: StepPath): string[];
  /**
   * Node instances matching the patterns (instance or group names, `*` globs); patterns matching nothing
   * are reported at `at`. `client` (the load generator) counts as a node when the cluster proxies its links.
   */
  pickNodes(patterns: readonly string[], at: StepPath, opts?: { client?: boolean }): string[];
  /** An input error at a field of the step; exit 2, nothing started. Default: an unknown reference. */
  problem(at: StepPath, message: string, hint: string, error?: (typeof Errors)[keyof typeof Errors]): void;
}

/** The Toxiproxy calls a link fault makes (a fake can stand in for it in unit tests). */
export type ToxicsApi = Pick<ToxiproxyApi, 'addToxic' | 'removeToxic' | 'setEnabled'>;

/** The node calls a node fault makes. */
export type FaultableNode = Pick<StartedNode, 'kill' | 'restart' | 'pause' | 'resume' | 'pid'>;

/**
 * Writes libfaketime's control text (`-3s`, `+0 x1`) where the node reads it, resolving once it is there: the lab's
 * control file, and for a pod a copy inside it (StartedNode.setClock).
 */
export type ClockWriter = (text: string) => Promise<void>;

/** Given by the runner when a step applies its fault. */
export interface ApplyContext {
  readonly toxiproxy: ToxicsApi;
  /** Unique per applied fault; goes into toxic names so two faults never collide. */
  readonly faultId: string;
  /** Every proxy of the cluster. */
  readonly links: readonly LinkInfo[];
  /** The started nodes, by instance name. */
  readonly nodes: ReadonlyMap<string, FaultableNode>;
  /** `host:port` where the lab reaches a node's first port. */
  nodeAddress(node: string): string;
  /** Sets the node's wall clock (libfaketime's control text, src/runtime/fake-clock.ts); undefined for a node started without it. */
  clock(node: string): ClockWriter | undefined;
  /** Measurements the apply made (e.g. `offsetSeenMs`), journaled with the fault-applied event as `observed`. */
  observe(facts: Record<string, number>): void;
}

/** Undoes an applied fault. The registry makes it idempotent and safe to call concurrently. */
export type Heal = () => Promise<void>;

/** The resolved spec every kind produces: its `type` plus its own fields (journaled, traced). */
export interface FaultSpecBase {
  type: string;
}

export interface FaultKind<Schema extends z.ZodObject, Spec extends FaultSpecBase> {
  /** The YAML under `fault:`, with `type: z.literal(<key>)` and a `.describe()` on every field. */
  readonly schema: Schema;
  /** Checks names against the cluster (problems go to ctx) and turns YAML into the spec (times in ms). */
  resolve(input: z.output<Schema>, ctx: ResolveContext): Spec;
  /** One line for the journal, the terminal and the report, e.g. `latency 800ms downstream on a_to_b`. */
  describe(spec: Spec): string;
  /** The `link` labels of `chaoslab_fault_active{fault,link}` while the fault is on. */
  targets(spec: Spec): string[];
  /**
   * What the fault holds while it is on (`link:x`, `node:x`, `clock:x`): two faults that overlap in time
   * may not share one.
   */
  claims(spec: Spec, links: readonly LinkInfo[]): string[];
  /**
   * Nodes that must start with libfaketime preloaded (src/runtime/fake-clock.ts) for this fault to work: in every
   * variant and the control run alike, so all runs of a scenario have the same binary setup.
   */
  fakeClockNodes?(spec: Spec): string[];
  /** Done at once (no `for`, nothing to heal): lasts no time when checking overlaps. */
  readonly instant?: boolean;
  /** Applies the fault; on a partial failure undoes what it did and throws. */
  apply(spec: Spec, ctx: ApplyContext): Promise<Heal>;
}

/** A target selector: one name or a list; `*` matches any run of characters (e.g. `storage-*_to_metadata`). */
export const Selector = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

/** Makes heal idempotent and safe to call concurrently; a failed heal may be retried. */
export function onceHeal(undo: Heal): Heal {
  let done = false;
  let running: Promise<void> | undefined;
  return () => {
    if (done) return Promise.resolve();
    running ??= undo().then(
      () => {
        done = true;
        running = undefined;
      },
      (e: unknown) => {
        running = undefined;
        throw e;
      },
    );
    return running;
  };
}

/** The started nodes a node fault acts on; a node that is not running is a node failure (exit 3). */
export function runningNodes(names: readonly string[], ctx: ApplyContext): FaultableNode[] {
  return names.map((n) => {
    const node = ctx.nodes.get(n);
    if (!node) throw new LabError(Errors.NodeFailed, `node ${n} is not running`, { hint: 'check the node logs in the run folder' });
    return node;
  });
}

/** `claims` of a fault on nodes. */
export const nodeClaims = (nodes: readonly string[]): string[] => nodes.map((n) => `node:${n}`);
