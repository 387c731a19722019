/** The shape of a run's outcome: what `--json` prints and report files are made from. Keep it stable. */
import type { Series } from '../observe/prometheus-client.js';
import type { KeptInfo } from '../runtime/kept.js';
import type { TraceSummary } from '../trace/lab-tracing.js';

export type Outcome = 'holds' | 'violated' | 'no-data';

export interface AssertionResult {
  name: string;
  description?: string;
  query: string;
  window: { label: string; startMs: number; endMs: number };
  condition: string;
  over: string;
  expected: 'holds' | 'violated';
  outcome: Outcome;
  /** The outcome matched the expectation (no-data never does). */
  passed: boolean;
  observed: { samples: number; min: number | null; max: number | null; mean: number | null; last: number | null };
  reason: string;
  /** Seconds from the window's start until the condition held for good; null if it never did. */
  timeToRecoverSec?: number | null;
  series: Series[];
}

export interface FaultRecord {
  step: string;
  description: string;
  scheduledMs: number;
  appliedMs: number | null;
  healScheduledMs: number | null;
  healedMs: number | null;
  error?: string;
}

/** An operator action step (timeline `action:`): when it was called and what each instance answered. */
export interface ActionRecord {
  step: string;
  description: string;
  scheduledMs: number;
  actualMs: number;
  /** When every answer was in. */
  doneMs: number;
  calls: { node: string; status: number | null; error?: string }[];
  error?: string;
}

/** Versions of what the run used (a verdict can depend on them). null: the part did not say. */
export interface RunEnvironment {
  chaoslab: string | null;
  node: string;
  toxiproxy: string | null;
  prometheus: string | null;
  /** The Docker engine's version, when Docker is the runtime. */
  docker?: string;
  platform: string;
  cpus: number;
}

/** `os.loadavg()`: the host's 1, 5 and 15 minute load averages. */
export type LoadAverages = [number, number, number];

export interface VariantResult {
  name: string;
  expect: 'reproduce' | 'recover';
  mitigations: string[];
  params: Record<string, Record<string, unknown>>;
  /** completed: ran to the end; failed: a real part broke; interrupted: Ctrl-C. */
  status: 'completed' | 'failed' | 'interrupted';
  passed: boolean;
  /** Unix ms of the load's start (t = 0 of the timeline). */
  t0: number;
  assertions: AssertionResult[];
  faults: FaultRecord[];
  /** Operator actions (timeline `action:` steps), in the order they ran. */
  actions?: ActionRecord[];
  load: Record<string, unknown> | null;
  checkers?: Record<string, unknown>;
  error?: { code: string; message: string; hint?: string };
  /** The host's load averages when the variant started and ended (a busy host can slow a cluster down). */
  hostLoad?: { start: LoadAverages; end: LoadAverages };
}

/** What the scenario replays, for the report: the incident's summary, lesson and public sources. */
export interface IncidentInfo {
  system: string;
  date: string;
  summary: string;
  lesson: string;
  /** The public sources its documented facts cite, each once, in the scenario's order. */
  sources: string[];
  /** How many of the toy's mechanisms no source states (the scenario's `assumed:`). */
  assumed: number;
}

/** The scenario's `incident:` block as the report shows it. */
export function incidentInfo(i: { system: string; date: string; summary: string; lesson: string; documented: { source: string }[]; assumed: string[] }): IncidentInfo {
  return { system: i.system, date: i.date, summary: i.summary.trim(), lesson: i.lesson.trim(), sources: [...new Set(i.documented.map((d) => d.source.trim()))], assumed: i.assumed.length };
}

export interface RunResult {
  scenario: string;
  title: string;
  /** Absent in runs made before the report showed it. */
  incident?: IncidentInfo;
  seed: number;
  control: boolean;
  passed: boolean;
  runDir: string;
  startedAt: string;
  endedAt: string;
  command: string;
  variants: VariantResult[];
  /** Ctrl-C (or a signal) stopped the run: it has no verdict, whatever `passed` says. */
  interrupted?: true;
  /** `--keep` / `up`: what was left running after the run, and where. */
  kept?: KeptInfo;
  /** Versions of chaoslab, Node, Toxiproxy, Prometheus and the Docker engine. */
  environment?: RunEnvironment;
  /** Where the run's spans went (absent when tracing was off). */
  traces?: TraceSummary;
}
