/**
 * What a run and each of its variants know, passed as one object instead of threaded arguments: the plan and
 * options, the run's parts, its event stream, and (per variant) what the variant's steps share as they go.
 */
import type { ProxyGuard } from '../fault/proxy-guard.js';
import type { PartWatch } from './part-watch.js';
import type { Phase, LabMetricsServer } from '../observe/lab-metrics.js';
import type { StartedPrometheus } from '../observe/prometheus-server.js';
import type { ClusterLoadServer, ClusterRuntime, ClusterToxiproxy, RuntimeKind } from '../runtime/cluster-runtime.js';
import type { StartedNode } from '../runtime/runtime.js';
import type { Rng } from '../common/rng.js';
import type { FaultSpec, ScenarioPlan, VariantPlan } from '../scenario/plan.js';
import type { LabTracing, TraceOptions, VariantTrace } from '../trace/lab-tracing.js';
import type { LoadControl } from '../workload/load-control.js';
import type { RunEvent, RunEvents, SubscriberFactory } from './events.js';
import type { SlidingStats } from './live-stats.js';
import type { Reporter } from './reporter.js';
import type { FaultRecord, VariantResult } from './result.js';
import type { Addresses } from './topology.js';

export interface RunOptions {
  projectRoot: string;
  seed: number;
  /** Variant names to run; all by default. */
  variants?: string[];
  control: boolean;
  /** Where runs/<time>-<id>/ goes (default `<cwd>/runs`), or the exact run folder. */
  runsDir: string;
  runDir?: string;
  envPath: string;
  stateDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  scrapeIntervalMs?: number;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
  /** Fixed ports (e.g. to point Grafana at a known Prometheus address); free ones by default. */
  toxiproxyPort?: number;
  prometheusPort?: number;
  /** The command line that replays this run, recorded in the result. */
  command: string;
  /** Where the cluster runs; default `process`. */
  runtime?: RuntimeKind;
  /** DOCKER_HOST for `runtime: docker`; undefined: the local socket. */
  dockerHost?: string;
  /** `--kube-context` for `runtime: kubernetes`; undefined: the kubeconfig's current context (KUBECONFIG). */
  kubeContext?: string;
  /** `--image-registry` for `runtime: kubernetes`: pods pull the images `chaoslab images push` put there. */
  imageRegistry?: string;
  /**
   * Leave the last variant's cluster, Toxiproxy and Prometheus up after the run, faults healed (a game day):
   * `completed` when the variant ran to its end, `always` also when interrupted (`chaoslab up`: Ctrl-C ends the
   * load, not the cluster). A run that failed stops everything as usual.
   */
  keep?: 'completed' | 'always';
  /**
   * More subscribers of the run's events, after the journal, tracing and lab metrics and before the reporter: the
   * report writers (`reportWriters` in subscribers.ts). The runner itself writes no report file.
   */
  subscribers?: readonly SubscriberFactory[];
  /** false: the injected `subscribers` are not used (`up` has no verdict to report). Default true. */
  report?: boolean;
  /** Query each assertion's PromQL this often while a variant runs, for the live view; off when undefined. */
  liveQueryIntervalMs?: number;
  /** Traces of the lab and the toys; off by default (the CLI turns them on). */
  traces?: TraceOptions;
  /**
   * Called once per variant when its load has started and its parts are watched (a game day drives the variant
   * from here: deals its fault, pushes mitigations, restarts nodes). The timeline runs after it returns.
   */
  onVariantLive?: (v: VariantContext) => void | Promise<void>;
}

/** The parts a run starts once and its variants share. */
export interface Parts {
  toxiproxy: ClusterToxiproxy;
  /** Prometheus starts while the first cluster does; a variant waits for it before the load. */
  prometheus: Promise<StartedPrometheus>;
  lab: LabMetricsServer;
  cluster: ClusterRuntime;
  addresses: Addresses;
  tracing: LabTracing;
  /** The lab's span of each variant (the load's request spans hang under it). */
  traces: { variant(name: string): VariantTrace | undefined };
  /** The load generator outside the lab's process, where the runtime runs one (Kubernetes). */
  loadServer?: ClusterLoadServer;
}

export interface RunContext {
  plan: ScenarioPlan;
  opts: RunOptions;
  runId: string;
  runDir: string;
  scrapeIntervalMs: number;
  events: RunEvents;
  parts: Parts;
}

/** A variant's own events, without the `variant` field the context adds. */
export type VariantEvent = Extract<RunEvent, { variant: string }> extends infer E ? (E extends unknown ? Omit<E, 'variant'> : never) : never;

/** A fault that is on, and how to take it off. */
export interface ActiveFault {
  heal: () => Promise<void>;
  description: string;
  fault: FaultSpec;
  /** What the lab's fault metric labels (links, nodes or partition sides). */
  targets: string[];
  sinceMs: number;
  healAtMs: number | null;
}

export interface VariantContext extends RunContext {
  variant: VariantPlan;
  variantDir: string;
  rng: Rng;
  /** Emits an event of this variant. */
  emit(e: VariantEvent): void;
  result: VariantResult;
  readonly phase: Phase;
  setPhase(p: Phase): void;
  nodes: Map<string, StartedNode>;
  active: Map<string, ActiveFault>;
  faultRecords: Map<string, FaultRecord>;
  /** Undefined until the load starts, and for `chaoslab up` without a load. */
  load: LoadControl | undefined;
  /** The load's rate now (load steps change it). */
  baseRate: number;
  /** performance.now() at t0. */
  t0Perf: number;
  stats: SlidingStats;
  prometheus: StartedPrometheus | undefined;
  /** Settles once every target was scraped: undefined, or the error. */
  targetsReady: Promise<unknown>;
  /** Unix ms when the checkers were done. */
  checkedAt: number;
  /** Knows what the lab made in Toxiproxy; `parts.toxiproxy.client` goes through it. */
  guard: ProxyGuard;
  /** Every node and part, watched from the load's start until the nodes stop. */
  watch: PartWatch | undefined;
}
