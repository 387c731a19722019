import type { RunnerTestFile } from 'vitest';
import { describe, expect, it } from 'vitest';
import { formatWallTimes, wallTimes } from './wall-times-reporter.js';

const file = (filepath: string, projectName: string, collect: number, tests: number | undefined): RunnerTestFile =>
  ({ filepath, projectName, collectDuration: collect, result: tests === undefined ? undefined : { state: 'pass', duration: tests } }) as unknown as RunnerTestFile;

describe('wall times reporter', () => {
  it('adds import and test time per file, slowest first, relative to the root', () => {
    const times = wallTimes([file('/r/src/a.test.ts', 'unit', 100, 400), file('/r/test/e2e/b.test.ts', 'e2e', 900, 240_000), file('/r/src/c.test.ts', 'unit', 50, undefined)], '/r');
    expect(times).toEqual([
      { file: 'test/e2e/b.test.ts', layer: 'e2e', seconds: 240.9 },
      { file: 'src/a.test.ts', layer: 'unit', seconds: 0.5 },
      { file: 'src/c.test.ts', layer: 'unit', seconds: 0.05 },
    ]);
  });

  it('prints one line per file, a subtotal per layer and the total against the budget', () => {
    const out = formatWallTimes([
      { file: 'test/e2e/b.test.ts', layer: 'e2e', seconds: 240.9 },
      { file: 'src/a.test.ts', layer: 'unit', seconds: 0.5 },
      { file: 'src/c.test.ts', layer: 'unit', seconds: 0.25 },
    ]).split('\n');
    expect(out).toEqual([
      ' Wall time per test file (import + tests), slowest first:',
      '    240.9 s  e2e    test/e2e/b.test.ts',
      '      0.5 s  unit   src/a.test.ts',
      '      0.3 s  unit   src/c.test.ts',
      '    240.9 s  e2e    (1 files)',
      '      0.8 s  unit   (2 files)',
      '    241.7 s  total  (3 files; sum of file times, the budget is 45 minutes)',
    ]);
  });
});
