import { defineConfig } from 'vitest/config';

// Two layers: `unit` runs in seconds with nothing external; `e2e` replays real scenarios
// with the real Toxiproxy and Prometheus and runs one file at a time (2-core machines).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'toys/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
