/**
 * A validated scenario and its cluster, resolved into a plan the runner can follow without
 * second-guessing: node instances, proxied links, steps with their faults in milliseconds,
 * and assertion windows in milliseconds from the start of the load.
 */
import type { FaultSpec } from '../fault/registry.js';
import type { CheckerT, ParamValueT, ScenarioFileT, ClusterFileT } from './schema.js';

export type Params = Record<string, ParamValueT>;

export interface NodeInstance {
  name: string;
  group: string;
  index: number;
  command: string[];
  ports: string[];
  healthPath: string;
  healthPort: string;
  healthTimeoutMs: number;
  metricsPath: string;
  metricsPort: string;
  /** Beyond the cluster's replicas: not started with the cluster, only by a `scale` step (so not a seed peer or target). */
  spare?: true;
}

export interface LinkPlan {
  /** Proxy name, `<from>_to_<to>`. */
  name: string;
  from: string;
  to: string;
  fromGroup: string;
  toGroup: string;
  port: string;
}

/** A resolved fault: one of the kinds in src/fault/registry.ts. */
export type { FaultSpec };

export interface LoadChangeSpec {
  rate?: number;
  multiply?: number;
  rampMs: number;
  weights?: Record<string, number>;
}

/** A group's size from a `scale` step on. */
export interface ScaleSpec {
  group: string;
  to: number;
}

/** A resolved operator action: the instances to call and the request. */
export interface ActionSpec {
  /** As written (a group or an instance), for descriptions. */
  node: string;
  /** The instances called, each directly on `port`. */
  instances: string[];
  port: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The body as sent, and its content type. */
  body?: { text: string; contentType: string };
  timeoutMs: number;
}

export interface StepPlan {
  name: string;
  index: number;
  atMs: number;
  /** Undefined: lasts to the end of the run (or is instantaneous, for restart). */
  forMs: number | undefined;
  fault?: FaultSpec;
  load?: LoadChangeSpec;
  scale?: ScaleSpec;
  action?: ActionSpec;
  /** Kept in a control run? */
  inControl: boolean;
  /** Only in these variants (undefined: in every variant). */
  variants?: string[];
}

export interface WindowMs {
  startMs: number;
  endMs: number;
  /** Human label, e.g. `after slow-backend`. */
  label: string;
  /** Judged over the time after the load and the checkers, not a span of the timeline. */
  final?: boolean;
}

export interface AssertionPlan {
  name: string;
  description: string | undefined;
  query: string;
  window: WindowMs;
  comparator: '<' | '<=' | '>' | '>=' | '==' | '!=';
  threshold: number;
  over: 'all' | 'any' | 'mean' | 'max' | 'min' | 'last';
  recoverWithinMs: number | undefined;
  expect: Record<string, 'holds' | 'violated'>;
  variants: string[];
  /** An availability floor (the scenario's `availability: true`); absent means false. */
  availability?: boolean;
}

export interface VariantPlan {
  name: string;
  description: string | undefined;
  expect: 'reproduce' | 'recover';
  mitigations: string[];
  /** Final parameters per node group, after cluster → scenario → mitigations → variant overrides. */
  params: Record<string, Params>;
}

export interface ScenarioPlan {
  file: string;
  id: string;
  title: string;
  description: string | undefined;
  incident: ScenarioFileT['incident'];
  clusterFile: string;
  cluster: ClusterFileT;
  nodes: NodeInstance[];
  links: LinkPlan[];
  variants: VariantPlan[];
  workload: ScenarioFileT['workload'];
  durationMs: number;
  warmupMs: number;
  steps: StepPlan[];
  checker: CheckerT | undefined;
  assertions: AssertionPlan[];
  /** Node instances whose unscheduled exit is recorded, not a failure (`mayDie`). */
  mayDie?: string[];
}
