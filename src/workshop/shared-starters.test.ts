/**
 * Exercises 2 and 3 replay the same scenario and variant, and their starters both leave the storage node's design as
 * it is: starter 2's retryDelay answers the policy's own fixed delay on every attempt (and it has no allowAttempt),
 * starter 3's allowAttempt sends every retry (and it has no retryDelay), and the node calls neither for anything
 * else. So one replay of either starter is a replay of both, and test/e2e/workshop.test.ts grades exercise 3's
 * targets on exercise 2's starter run instead of replaying it again (STARTERS_SHARED there). This test is what makes
 * that sound: if a starter or the scenario changes, it fails.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileExtension } from '../../toys/lib/extension.js';
import { BASELINE_POLICY } from '../../toys/dynamo/membership-client.js';
import { STORAGE_EXTENSION } from '../../toys/dynamo/storage.js';
import { findExercise, loadExerciseScenario, loadExercises } from './exercise.js';
import { compileModule } from './module.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const all = loadExercises(root);
const retries = findExercise(all, 'backoff-and-budgets', 'check');
const breakers = findExercise(all, 'breakers', 'check');

async function starterOf(ex: typeof retries) {
  const code = await compileModule(ex.starter, `${ex.id}-starter.ts`);
  let draws = 0;
  const ext = compileExtension(`${ex.id}-starter`, code, STORAGE_EXTENSION, { random: () => (draws++, 0.5), registry: undefined, log: () => undefined, callTimeoutMs: 1000 });
  return { ext, draws: () => draws };
}

describe('exercises 2 and 3 share one starter replay', () => {
  it('replay the same scenario, variant and node', () => {
    expect([breakers.scenarioFile, breakers.variant, breakers.extension.node]).toEqual([retries.scenarioFile, retries.variant, retries.extension.node]);
  });

  it("the scenario's storage nodes retry after a fixed delay, without a breaker or a budget", () => {
    const params = loadExerciseScenario(retries).variants.find((v) => v.name === retries.variant)!.params.storage!;
    expect(params.backoff ?? BASELINE_POLICY.backoff).toBe('fixed');
    expect(params.breakerFailures ?? BASELINE_POLICY.breakerFailures).toBe(0);
    expect(params.retryBudget ?? BASELINE_POLICY.retryBudget).toBe(0);
  });

  it("starter 2's retryDelay is the policy's fixed delay on every attempt and error; it exports no allowAttempt", async () => {
    const params = loadExerciseScenario(retries).variants.find((v) => v.name === retries.variant)!.params.storage!;
    const fixed = (params.retryDelayMs as number | undefined) ?? BASELINE_POLICY.retryDelayMs;
    const { ext, draws } = await starterOf(retries);
    expect(ext.has('allowAttempt')).toBe(false);
    for (let attempt = 1; attempt <= 60; attempt++) {
      for (const lastError of ['timeout', 'rejected', 'error']) expect(ext.call('retryDelay', [attempt, lastError], -1)).toBe(fixed);
    }
    expect(draws()).toBe(0); // no seeded draw taken: the node's random sequence is the design's
  });

  it("starter 3's allowAttempt sends every retry; it exports no retryDelay", async () => {
    const { ext, draws } = await starterOf(breakers);
    expect(ext.has('retryDelay')).toBe(false);
    for (let failures = 1; failures <= 60; failures++) {
      for (const ms of [0, 1, 99, 100, 999, 1000, 2999, 3000, 6000, 60_000, 3_600_000]) expect(ext.call('allowAttempt', [failures, ms], false)).toBe(true);
    }
    expect(draws()).toBe(0);
  });
});
