/**
 * A vitest reporter that prints each test file's wall time (import + tests), slowest first, with each layer's
 * subtotal and the total, so `npm test`'s 45-minute budget (test/README.md) is visible at the end of every run.
 * It sits before vitest's `default` reporter in vitest.config.ts, so the usual summary ("Tests  N passed")
 * stays the last thing printed.
 */
import path from 'node:path';
import type { RunnerTestFile } from 'vitest';
import type { Reporter, Vitest } from 'vitest/node';

/** `npm test` on two cores must finish within this (the brief's budget). */
export const BUDGET_SEC = 45 * 60;

export interface FileWallTime {
  file: string;
  layer: string;
  seconds: number;
}

/** Import (collect + setup) plus the tests themselves: what the file cost the run, as vitest measured it. */
export function wallTimes(files: readonly RunnerTestFile[], root: string): FileWallTime[] {
  return files
    .map((f) => ({
      file: path.relative(root, f.filepath),
      layer: f.projectName || '-',
      seconds: ((f.collectDuration ?? 0) + (f.setupDuration ?? 0) + (f.result?.duration ?? 0)) / 1000,
    }))
    .sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file));
}

export function formatWallTimes(times: readonly FileWallTime[]): string {
  const sec = (s: number): string => `${s.toFixed(1)} s`.padStart(9);
  const width = Math.max(5, ...times.map((t) => t.layer.length));
  const lines = [' Wall time per test file (import + tests), slowest first:'];
  for (const t of times) lines.push(`  ${sec(t.seconds)}  ${t.layer.padEnd(width)}  ${t.file}`);
  const layers = new Map<string, { files: number; seconds: number }>();
  for (const t of times) {
    const l = layers.get(t.layer) ?? { files: 0, seconds: 0 };
    layers.set(t.layer, { files: l.files + 1, seconds: l.seconds + t.seconds });
  }
  for (const [layer, l] of layers) lines.push(`  ${sec(l.seconds)}  ${layer.padEnd(width)}  (${l.files} files)`);
  const total = times.reduce((n, t) => n + t.seconds, 0);
  lines.push(`  ${sec(total)}  ${'total'.padEnd(width)}  (${times.length} files; sum of file times, the budget is ${BUDGET_SEC / 60} minutes)`);
  return lines.join('\n');
}

export default class WallTimesReporter implements Reporter {
  private ctx: Vitest | undefined;

  onInit(ctx: Vitest): void {
    this.ctx = ctx;
  }

  onFinished(files: RunnerTestFile[] = []): void {
    if (!this.ctx || files.length === 0) return;
    this.ctx.logger.log(`\n${formatWallTimes(wallTimes(files, this.ctx.config.root))}`);
  }
}
