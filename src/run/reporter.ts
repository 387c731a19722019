/**
 * What a run tells the outside world while it happens. Every hook is optional (vitest's reporter
 * model, kept small); the terminal view, the JSON mode and tests each pick what they need.
 */
import type { Phase } from '../observe/lab-metrics.js';
import type { RunResult, VariantResult } from './result.js';

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
}

export interface Reporter {
  onRunStart?(info: { scenario: string; title: string; seed: number; runDir: string; variants: string[]; control: boolean }): void;
  onVariantStart?(variant: string): void;
  onMessage?(line: string): void;
  onPhase?(variant: string, phase: Phase): void;
  onFault?(event: { variant: string; step: string; action: 'apply' | 'heal'; description: string; skewMs: number; error?: string }): void;
  onTick?(stats: LiveStats): void;
  onVariantEnd?(result: VariantResult): void;
  onRunEnd?(result: RunResult): void;
}

export const silentReporter: Reporter = {};
