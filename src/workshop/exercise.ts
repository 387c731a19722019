/**
 * A workshop exercise is data: one YAML file under workshop/exercises/ says what the learner writes (the toy's
 * extension point and its functions), against which replay (a short scenario), and how it is graded (targets: the
 * scenario's own PromQL assertions, each with a threshold per tier). Adding an exercise adds no code.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseCondition } from '../check/condition.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { loadYamlFile, quoted } from '../scenario/load-yaml.js';
import { loadScenario } from '../scenario/load.js';
import type { ScenarioPlan } from '../scenario/plan.js';

/** Tiers in order, as Gossip Glomers grades: each needs the ones before it. */
export const TIERS = ['pass', 'better', 'best'] as const;
export type Tier = (typeof TIERS)[number];

/** The assertion every workshop scenario carries: the learner's module never threw, hung or returned garbage. */
export const MODULE_HEALTH_ASSERTION = 'the module never failed';

const CONDITION = z.string().refine((c) => parseCondition(c) !== null, { error: 'expected a comparison like "< 0.5" or ">= 0.99"' });

const Target = z.strictObject({
  assertion: z.string().min(1).describe("The name of one of the scenario's assertions: its PromQL and window give the number."),
  label: z.string().min(1).describe('What the number is, for the verdict and the chart: "p99 latency (s)".'),
  stat: z.enum(['max', 'min', 'mean', 'last']).optional().describe('Which statistic of the window is graded (default: max for < and <=, min for > and >=, else mean).'),
  hint: z.string().min(1).describe('Printed when this target falls short.'),
  tiers: z
    .strictObject({ pass: CONDITION.optional(), better: CONDITION.optional(), best: CONDITION.optional() })
    .refine((t) => Object.keys(t).length > 0, { error: 'give at least one tier: pass, better or best' })
    .describe('The threshold per tier; a tier is reached when every threshold of it and of the tiers before it holds.'),
});

const Func = z.strictObject({
  name: z.string().regex(/^[A-Za-z_$][\w$]*$/, { error: 'expected a JavaScript function name' }),
  signature: z.string().min(1).describe('As TypeScript: "(attempt: number, lastError: string) => number | null".'),
  doc: z.string().min(1),
});

export const ExerciseFile = z.strictObject({
  number: z.number().int().min(1).max(99).describe('Its place on the ladder: `workshop start 1`.'),
  id: z.string().regex(/^[a-z][a-z0-9-]{0,59}$/, { error: 'expected lowercase letters, digits and dashes' }),
  title: z.string().min(1),
  goal: z.string().min(1).describe('One or two sentences: what the learner makes the system do.'),
  incident: z.strictObject({
    replay: z.string().min(1).describe('The scenario id of the full replay this exercise comes from (`chaoslab run <id>`).'),
    story: z.string().min(1).describe('What happened, in a few sentences.'),
  }),
  scenario: z.string().min(1).describe('The short scenario the check replays, relative to this file.'),
  variant: z.string().min(1).describe("The scenario's variant the check runs (the design without its mitigation)."),
  replaySeconds: z.number().positive().describe('About how long one check takes on two cores (told to the learner).'),
  extension: z.strictObject({
    node: z.string().min(1).describe('The node group that loads the module (through its `extension` param).'),
    file: z.string().regex(/^[\w-]+\.(ts|js)$/, { error: 'expected a file name ending in .ts or .js' }).describe('What `workshop start` names the starter.'),
    functions: z.array(Func).min(1),
  }),
  targets: z.array(Target).min(1),
  starter: z.string().min(1).describe('The module the learner starts from: it must fail the pass tier.'),
  reference: z.string().min(1).describe('A solution: it must reach the best tier.'),
});
export type ExerciseFileT = z.output<typeof ExerciseFile>;
export type TargetT = ExerciseFileT['targets'][number];

export interface Exercise extends ExerciseFileT {
  file: string;
  scenarioFile: string;
}

export function exercisesDir(projectRoot: string): string {
  return path.join(projectRoot, 'workshop', 'exercises');
}

/** One exercise file, validated, with its scenario resolved (not loaded). */
export function loadExerciseFile(file: string): Exercise {
  const { data, source } = loadYamlFile(file, ExerciseFile, 'workshop exercise');
  const scenarioFile = path.resolve(path.dirname(file), data.scenario);
  if (!existsSync(scenarioFile)) {
    throw new LabError(Errors.InvalidField, `scenario ${quoted(data.scenario)} does not exist (${scenarioFile})`, { location: source.locate(['scenario']), hint: 'a path relative to the exercise file, e.g. ../scenarios/01-timeouts.yaml' });
  }
  const tiersSeen = new Set(data.targets.flatMap((t) => Object.keys(t.tiers)));
  for (const tier of TIERS) {
    if (!tiersSeen.has(tier)) throw new LabError(Errors.InvalidField, `no target has a "${tier}" threshold`, { location: source.locate(['targets']), hint: 'every tier (pass, better, best) needs at least one target threshold' });
  }
  return { ...data, file, scenarioFile };
}

/**
 * The scenario of an exercise, checked against it: the variant exists, the node exists and declares `extension`,
 * every target names an assertion that runs in that variant, and the module-health assertion is there.
 */
export function loadExerciseScenario(ex: Exercise, overrides: Record<string, Record<string, string | number | boolean>> = {}): ScenarioPlan {
  const plan = loadScenario(ex.scenarioFile, { overrides });
  const where = { file: ex.file };
  const bad = (message: string, hint: string): LabError => new LabError(Errors.InvalidField, message, { location: where, hint });
  const variant = plan.variants.find((v) => v.name === ex.variant);
  if (!variant) throw bad(`variant ${quoted(ex.variant)} is not in ${path.basename(ex.scenarioFile)}`, `its variants: ${plan.variants.map((v) => v.name).join(', ')}`);
  if (!variant.params[ex.extension.node] || !('extension' in variant.params[ex.extension.node]!)) {
    throw bad(`node ${quoted(ex.extension.node)} of the scenario's cluster has no "extension" parameter`, 'declare `extension: ""` under the node\'s params in the cluster file (the toy must load it with toys/lib/extension.ts)');
  }
  const names = plan.assertions.filter((a) => a.variants.includes(ex.variant)).map((a) => a.name);
  for (const t of ex.targets) {
    if (!names.includes(t.assertion)) throw bad(`target ${quoted(t.assertion)} is not an assertion of variant ${ex.variant}`, `its assertions: ${names.join('; ')}`);
  }
  if (!names.includes(MODULE_HEALTH_ASSERTION)) throw bad(`the scenario has no assertion ${quoted(MODULE_HEALTH_ASSERTION)}`, 'add it: query sum(toy_extension_calls_total{outcome!="ok"}) or vector(0), window whole, condition "== 0"');
  return plan;
}

/** Every exercise, in ladder order; a bad file is exit 2 naming it. Numbers must be unique. */
export function loadExercises(projectRoot: string): Exercise[] {
  const dir = exercisesDir(projectRoot);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  const all = files.map((f) => loadExerciseFile(path.join(dir, f)));
  const seen = new Map<number, string>();
  for (const e of all) {
    const other = seen.get(e.number);
    if (other) throw new LabError(Errors.InvalidField, `exercise number ${e.number} is used twice: ${other} and ${e.file}`, { location: { file: e.file }, hint: 'give each exercise its own number' });
    seen.set(e.number, e.file);
  }
  return all.sort((a, b) => a.number - b.number);
}

/** `workshop check 2` → exercise 2; bad input is exit 2 listing what exists. */
export function findExercise(all: readonly Exercise[], ref: string | undefined, command: string): Exercise {
  const list = all.map((e) => `${e.number} ${e.id}`).join(', ');
  if (ref === undefined) throw new LabError(Errors.InvalidArgument, `workshop ${command} needs an exercise number`, { hint: `e.g. chaoslab workshop ${command} 1; exercises: ${list}` });
  const found = all.find((e) => String(e.number) === ref || e.id === ref);
  if (!found) throw new LabError(Errors.InvalidArgument, `workshop ${command} ${ref}: no such exercise`, { hint: `exercises: ${list} (chaoslab workshop list)` });
  return found;
}
