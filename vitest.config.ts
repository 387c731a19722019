import { defineConfig } from 'vitest/config';

// Layers: `unit` runs in seconds; `integration` drives single real servers; `e2e` replays real scenarios
// with the real Toxiproxy and Prometheus and runs one file at a time (2-core machines).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'toys/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        // Slower tests beside their code that drive a real server (Prometheus's first scrape takes ~5 s).
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'toys/**/*.int.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
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
