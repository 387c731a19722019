/**
 * What a run tells the outside world while it happens. Every hook is optional (vitest's reporter
 * model, kept small); the terminal view, the JSON mode and tests each pick what they need.
 */
import type { Phase } from '../observe/lab-metrics.js';
import type { LiveAssertion } from './live-probe.js';
import type { RunResult, VariantResult } from './result.js';
import type { RunSubscriber } from './events.js';

export interface ActiveFault {
  step: string;
  description: string;
  /** Since when, from the variant's t0. */
  sinceMs: number;
  /** When it is scheduled to heal (null: at the end). */
  healAtMs: number | null;
}

/** A long step the terminal shows as it goes: `starting nodes 3/7`, `building chaoslab-toys:latest`. */
export interface Progress {
  label: string;
  done?: number;
  total?: number;
  /** The latest line of detail (a build log line). */
  detail?: string;
}

export interface ClusterUp {
  variant: string;
  prometheus: string;
  toxiproxy: string;
  nodes: { name: string; address: string }[];
  proxies: Record<string, string>;
}

export interface LiveStats {
  variant: string;
  phase: Phase;
  elapsedMs: number;
  totalMs: number;
  activeFaults: string[];
  /** Client-side numbers over the last few seconds, computed by the lab without Prometheus. */
  requestRate: number;
  errorRatio: number;
  p99Ms: number | null;
  /** The active faults with their times (the live view lists them). */
  faults?: ActiveFault[];
  /** Each assertion's value now, from Prometheus, when the run was asked for live queries. */
  assertions?: LiveAssertion[];
}

export interface Reporter {
  onRunStart?(info: { scenario: string; title: string; seed: number; runDir: string; variants: string[]; control: boolean }): void;
  onVariantStart?(variant: string): void;
  onMessage?(line: string): void;
  onPhase?(variant: string, phase: Phase): void;
  onFault?(event: { variant: string; step: string; action: 'apply' | 'heal'; description: string; skewMs: number; error?: string }): void;
  onTick?(stats: LiveStats): void;
  /** `null`: the step is done. */
  onProgress?(progress: Progress | null): void;
  /** The variant's nodes are healthy and Prometheus answers: where to point tools. */
  onClusterUp?(info: ClusterUp): void;
  onVariantEnd?(result: VariantResult): void;
  onRunEnd?(result: RunResult): void;
}

export const silentReporter: Reporter = {};

/** Drives a `Reporter`'s hooks from the run's events (the terminal view keeps its hook-shaped API). */
export function reporterSubscriber(reporter: Reporter): RunSubscriber {
  return {
    name: 'reporter',
    'run-start': (e) => reporter.onRunStart?.({ scenario: e.scenario, title: e.title, seed: e.seed, runDir: e.runDir, variants: e.variants, control: e.control }),
    'variant-start': (e) => reporter.onVariantStart?.(e.variant),
    message: (e) => reporter.onMessage?.(e.line),
    progress: (e) => reporter.onProgress?.(e.progress),
    phase: (e) => reporter.onPhase?.(e.variant, e.phase),
    tick: (e) => reporter.onTick?.(e.stats),
    'cluster-ready': (e) => reporter.onClusterUp?.(e.info),
    'fault-applied': (e) => reporter.onFault?.({ variant: e.variant, step: e.step, action: 'apply', description: e.description, skewMs: e.skewMs }),
    'fault-healed': (e) => {
      if (!e.final) reporter.onFault?.({ variant: e.variant, step: e.step, action: 'heal', description: e.description, skewMs: e.skewMs ?? 0 });
    },
    'fault-error': (e) => {
      if (e.action === 'apply') reporter.onFault?.({ variant: e.variant, step: e.step, action: 'apply', description: e.description ?? e.step, skewMs: e.skewMs ?? 0, error: e.error.message });
    },
    'action-end': (e) => reporter.onMessage?.(`[${e.variant}] action ${e.step}: ${e.description} → ${e.calls.map((c) => `${c.node} ${c.status ?? 'no answer'}`).join(', ')}${e.error ? ` — failed: ${e.error}` : ''}`),
    // A report writer that failed is worth a line on the terminal (the journal has it too).
    'subscriber-error': (e) => reporter.onMessage?.(`${e.subscriber} failed on ${e.event}${e.timedOut ? ' (timed out)' : ''}: ${e.error}`),
    'variant-result': (e) => reporter.onVariantEnd?.(e.result),
    'run-result': (e) => reporter.onRunEnd?.(e.result),
  };
}
