import { defineConfig } from 'vitest/config';
import WallTimesReporter from './test/utils/wall-times-reporter.js';

// Layers (test/README.md): `unit` runs in seconds; `integration` drives single real servers, spawns processes and
// waits real time; `e2e` replays real scenarios with the real Toxiproxy and Prometheus, one file at a time.
export default defineConfig({
  test: {
    // Each file's wall time, slowest first, then vitest's usual summary (CI reads its "Tests  N passed" line).
    reporters: [new WallTimesReporter(), 'default'],
    // Only the unit layer runs in threads: a pool's worker reuse is set here, at the root, and the unit files keep
    // no global state (no mocks, no env changes, no chdir), so each thread keeps its module cache from file to file.
    // A fresh process per file cost more than the unit tests themselves on two cores.
    poolOptions: { threads: { isolate: false, maxThreads: 2 }, forks: { maxForks: 2 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'toys/**/*.test.ts', 'bench/**/*.test.ts', 'test/utils/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
          pool: 'threads',
          isolate: false,
        },
      },
      {
        // Tests beside their code that spawn processes, drive a real server (Prometheus's first scrape takes ~5 s)
        // or wait real time.
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'toys/**/*.int.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          // Two files at once (root `forks`): most of their time is waiting on real servers (114 s with one worker,
          // 63 s with two, every test passing).
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Replays run alone, after the faster layers: timing is their mechanism.
          sequence: { groupOrder: 2 },
          exclude: ['**/node_modules/**'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          // One file at a time in one process: `fileParallelism` is a root-only option, this is the per-project one.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
