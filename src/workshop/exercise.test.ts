import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLabError } from '../errors/lab-error.js';
import { findExercise, loadExerciseFile, loadExerciseScenario, loadExercises, TIERS } from './exercise.js';
import { compileModule, ModuleProblem, precheckModule, prepareModule } from './module.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const exercises = loadExercises(root);

describe('the shipped exercises', () => {
  it('are numbered 1.. in ladder order', () => {
    expect(exercises.length).toBeGreaterThan(0);
    expect(exercises.map((e) => e.number)).toEqual(exercises.map((_, i) => i + 1));
  });

  for (const ex of exercises) {
    describe(`${ex.number} ${ex.id}`, () => {
      it('its scenario loads and has the variant, the extension param, every target assertion and the module check', () => {
        const plan = loadExerciseScenario(ex, { [ex.extension.node]: { extension: '/tmp/x.cjs' } });
        expect(plan.variants.find((v) => v.name === ex.variant)!.params[ex.extension.node]!.extension).toBe('/tmp/x.cjs');
      });

      it('every tier has a threshold', () => {
        for (const tier of TIERS) expect(ex.targets.some((t) => t.tiers[tier])).toBe(true);
      });

      it('its starter and its reference compile and export every function of the extension', async () => {
        for (const [name, source] of [['starter', ex.starter], ['reference', ex.reference]] as const) {
          const js = await compileModule(source, `${ex.id}-${name}.ts`);
          expect(() => precheckModule(js, name, ex)).not.toThrow();
        }
      });

      it('its replay is short (15-30 s of load), so the e2e fits', () => {
        const plan = loadExerciseScenario(ex);
        expect(plan.durationMs).toBeGreaterThanOrEqual(15_000);
        expect(plan.durationMs).toBeLessThanOrEqual(30_000);
      });
    });
  }
});

describe('bad exercise files and module refs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-exercise-'));
  const good = loadExerciseFile(exercises[0]!.file);

  it('a missing field is exit 2 naming the file and the field', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'number: 1\nid: x\ntitle: t\n');
    try {
      loadExerciseFile(file);
      expect.unreachable();
    } catch (e) {
      expect(isLabError(e) && e.exitCode).toBe(2);
      expect((e as Error & { format(): string }).format()).toMatch(/bad\.yaml/);
      expect((e as Error & { format(): string }).format()).toMatch(/goal/);
    }
  });

  it('a threshold that is not a comparison names its line', () => {
    const file = path.join(dir, 'bad-tier.yaml');
    writeFileSync(file, `number: 1\nid: x\ntitle: t\ngoal: g\nincident: { replay: r, story: s }\nscenario: ${good.scenarioFile}\nvariant: exercise\nreplaySeconds: 5\nextension: { node: frontend, file: a.ts, functions: [{ name: f, signature: "()", doc: d }] }\ntargets:\n  - { assertion: a, label: l, hint: h, tiers: { pass: "fast" } }\nstarter: s\nreference: r\n`);
    expect(() => loadExerciseFile(file)).toThrow(/comparison/);
    try {
      loadExerciseFile(file);
    } catch (e) {
      expect((e as Error & { format(): string }).format()).toMatch(/bad-tier\.yaml:11/);
    }
  });

  it('a target that names no assertion of the scenario is refused', () => {
    const ex = { ...good, targets: [{ ...good.targets[0]!, assertion: 'nope' }] };
    expect(() => loadExerciseScenario(ex)).toThrow(/target "nope" is not an assertion/);
  });

  it('an unknown exercise names the ones there are', () => {
    expect(() => findExercise(exercises, '99', 'check')).toThrow(/no such exercise/);
    expect(findExercise(exercises, exercises[0]!.id, 'check')).toBe(exercises[0]);
  });
});

describe("the learner's module", () => {
  const ex = { extension: { node: 'n', file: 'a.ts', functions: [{ name: 'timeoutMs', signature: '()', doc: 'd' }] } };

  it('TypeScript and JavaScript both compile (types stripped, ESM exports as CommonJS)', async () => {
    precheckModule(await compileModule('export function timeoutMs(): number { return 5; }', 'a.ts'), 'a.ts', ex);
    precheckModule(await compileModule('// @ts-check\nexport const timeoutMs = () => 5;', 'a.js'), 'a.js', ex);
  });

  it('a syntax error names the file, line and column', async () => {
    await expect(compileModule('export function timeoutMs( { return 1 }', 'a.ts')).rejects.toThrow(/a\.ts:1:\d+: /);
  });

  it('a throw at load, a missing function, a missing file are ModuleProblems (the exercise fails), not crashes', async () => {
    expect(() => precheckModule('throw new Error("x")', 'a.js', ex)).toThrow(ModuleProblem);
    expect(() => precheckModule('exports.other = () => 1;', 'a.js', ex)).toThrow(/must export function timeoutMs \(it exports: other\)/);
    await expect(prepareModule('/nonexistent/a.ts', ex)).rejects.toThrow(ModuleProblem);
  });
});
