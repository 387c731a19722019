/**
 * `chaoslab workshop list | start N | check N | report`: learners write the mechanism (a module loaded into a toy),
 * the lab replays a short scenario with it and grades the numbers in tiers. Exit codes as everywhere: check is 0
 * when the first tier (pass) is reached, 1 when not (also when the module does not compile, load or export its
 * functions: that is the exercise failing, not bad input), 2 for bad input, 3 when a real part failed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { formatNumber } from '../common/format.js';
import { runScenario } from '../run/runner.js';
import { reportWriters } from '../run/subscribers.js';
import type { RunResult } from '../run/result.js';
import { readAttempts, saveAttempt, type Attempt } from '../workshop/attempts.js';
import { findExercise, loadExerciseScenario, loadExercises, TIERS, type Exercise } from '../workshop/exercise.js';
import { gradeAttempt, type Grade } from '../workshop/grade.js';
import { ModuleProblem, compileModule, precheckModule, prepareModule } from '../workshop/module.js';
import { renderWorkshopReport } from '../workshop/report-page.js';
import { STARTER_VARIANT, withStarterVariant } from '../workshop/starter-variant.js';
import { partsOptions } from './lab-parts.js';
import { WORKSHOP, type WorkshopValues } from './workshop-spec.js';
import { parseCommand } from './options.js';
import { EXIT } from './exit-codes.js';
import { projectRoot, runsDirOf, seedOption, type CliEnv } from './main.js';

const SUBCOMMANDS = ['list', 'start', 'check', 'report'] as const;

/** Where workshop/exercises is: the project root from dist/ (the CLI), or from the source (in-process tests). */
function exercisesRoot(): string {
  return [projectRoot, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')].find((r) => existsSync(path.join(r, 'workshop', 'exercises'))) ?? projectRoot;
}

export async function workshopCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(WORKSHOP, args);
  const [sub, ref] = positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new LabError(Errors.InvalidArgument, sub === undefined ? 'workshop needs a subcommand' : `workshop ${sub}: unknown subcommand`, { hint: `one of: ${SUBCOMMANDS.join(', ')} (chaoslab workshop --help)` });
  }
  if ((sub === 'list' || sub === 'report') && ref !== undefined) throw new LabError(Errors.InvalidArgument, `workshop ${sub} takes no exercise (got "${ref}")`, { hint: `chaoslab workshop ${sub}` });
  if (sub !== 'check' && (values.reference || values['with-starter'] || values.seed !== undefined)) throw new LabError(Errors.InvalidArgument, `--reference, --with-starter and --seed belong to workshop check, not workshop ${sub}`, { hint: 'chaoslab workshop check 1 --reference' });
  const dir = path.resolve(env.cwd, values.dir ?? '.');
  const exercises = loadExercises(exercisesRoot());
  switch (sub) {
    case 'list':
      return list(exercises, values.json, env);
    case 'start':
      return start(findExercise(exercises, ref, 'start'), dir, values.json, env);
    case 'check':
      return check(findExercise(exercises, ref, 'check'), dir, values, env);
    default:
      return report(exercises, dir, values.json, env);
  }
}

function list(exercises: Exercise[], json: boolean, env: CliEnv): number {
  if (json) {
    env.stdout.write(`${JSON.stringify({ exercises: exercises.map((e) => ({ number: e.number, id: e.id, title: e.title, goal: e.goal, replay: e.incident.replay, node: e.extension.node, functions: e.extension.functions.map((f) => f.name), replaySeconds: e.replaySeconds, targets: e.targets.map((t) => ({ label: t.label, assertion: t.assertion, tiers: t.tiers })) })) })}\n`);
    return EXIT.ok;
  }
  for (const e of exercises) {
    env.stdout.write(`${e.number}. ${e.title}  (${e.id})\n   goal:     ${e.goal.trim()}\n   incident: ${e.incident.replay}: ${e.incident.story.trim()}\n   you write: ${e.extension.functions.map((f) => `${f.name}${f.signature}`).join('; ')} in the ${e.extension.node}\n   check:    about ${e.replaySeconds} s per attempt\n\n`);
  }
  env.stdout.write('Start one: chaoslab workshop start <n> [--dir DIR]\n');
  return EXIT.ok;
}

function start(ex: Exercise, dir: string, json: boolean, env: CliEnv): number {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, ex.extension.file);
  // Never overwrite the learner's work: a second start says where the file is.
  const existed = existsSync(file);
  if (!existed) writeFileSync(file, ex.starter);
  const rel = path.relative(env.cwd, file) || file;
  const dirFlag = path.relative(env.cwd, dir) ? ` --dir ${path.relative(env.cwd, dir)}` : '';
  if (json) {
    env.stdout.write(`${JSON.stringify({ exercise: ex.number, id: ex.id, file, written: !existed, check: `chaoslab workshop check ${ex.number}${dirFlag}` })}\n`);
    return EXIT.ok;
  }
  env.stdout.write(
    `${ex.number}. ${ex.title}\n\n${ex.goal.trim()}\n\nIncident: ${ex.incident.story.trim()}\n(the full replay: chaoslab run ${ex.incident.replay})\n\n` +
      `${existed ? `${rel} is already there (kept as it is).` : `Wrote ${rel}.`} Edit it: the ${ex.extension.node} calls\n` +
      ex.extension.functions.map((f) => `  ${f.name}${f.signature}\n    ${f.doc.trim().replace(/\n/g, '\n    ')}\n`).join('') +
      `\nTargets (tiers pass, better, best):\n` +
      ex.targets.map((t) => `  ${t.label}: ${TIERS.filter((k) => t.tiers[k]).map((k) => `${k} ${t.tiers[k]}`).join(', ')}\n`).join('') +
      `\nThen: chaoslab workshop check ${ex.number}${dirFlag}   (about ${ex.replaySeconds} s; every attempt is kept)\n`,
  );
  return EXIT.ok;
}

interface CheckOutcome {
  attempt: Attempt;
  grade: Grade | null;
  exit: number;
  /** `--with-starter`: the shipped starter's grade from the same run. */
  starter?: Grade | null;
}

async function check(ex: Exercise, dir: string, values: WorkshopValues, env: CliEnv): Promise<number> {
  const seed = values.seed === undefined ? 1 : seedOption(values.seed);
  const moduleFile = values.reference ? `${ex.id} (reference)` : path.join(dir, ex.extension.file);
  if (!values.reference && !existsSync(moduleFile)) {
    throw new LabError(Errors.FileNotFound, `${path.relative(env.cwd, moduleFile) || moduleFile}: no module for exercise ${ex.number}`, { hint: `chaoslab workshop start ${ex.number}${values.dir ? ` --dir ${values.dir}` : ''} writes the starter` });
  }
  // Bad exercise data is bad input (exit 2), found before the module or the replay.
  loadExerciseScenario(ex);
  const at = new Date().toISOString();
  const base = { exercise: ex.number, id: ex.id, title: ex.title, at, seed, reference: values.reference, module: moduleFile };
  let compiled: string;
  let source = values.reference ? ex.reference : '';
  try {
    if (values.reference) {
      compiled = await compileModule(ex.reference, `${ex.id}-reference.ts`);
      precheckModule(compiled, `${ex.id}-reference.ts`, ex);
    } else {
      source = readFileSync(moduleFile, 'utf8');
      compiled = await prepareModule(moduleFile, ex);
    }
  } catch (e) {
    if (!(e instanceof ModuleProblem)) throw e;
    const attempt: Attempt = { ...base, source, grade: null, problem: e.message };
    saveAttempt(dir, attempt);
    return finish({ attempt, grade: null, exit: EXIT.missed }, ex, values.json, env);
  }

  const buildDir = path.join(dir, 'attempts', '.compiled');
  mkdirSync(buildDir, { recursive: true });
  const compiledFile = path.join(buildDir, `${ex.id}-${Date.now()}.cjs`);
  writeFileSync(compiledFile, compiled);
  let plan = loadExerciseScenario(ex, { [ex.extension.node]: { extension: compiledFile } });
  if (values['with-starter']) {
    const starterFile = path.join(buildDir, `${ex.id}-starter-${Date.now()}.cjs`);
    writeFileSync(starterFile, await compileModule(ex.starter, `${ex.id}-starter.ts`));
    plan = withStarterVariant(plan, ex, starterFile);
  }
  const runsDir = runsDirOf(undefined, { cwd: dir });
  if (!values.json) env.stdout.write(`Checking ${values.reference ? 'the reference solution' : path.relative(env.cwd, moduleFile)}${values['with-starter'] ? ' and the shipped starter' : ''} against exercise ${ex.number} (${ex.title}): replaying ${path.basename(ex.scenarioFile)}, seed ${seed}, about ${ex.replaySeconds * (values['with-starter'] ? 2 : 1)} s...\n`);

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let result: RunResult;
  try {
    result = await runScenario(plan, {
      projectRoot,
      seed,
      variants: plan.variants.map((v) => v.name),
      control: false,
      runsDir,
      ...partsOptions(env),
      stateDir: env.stateDir,
      reporter: {},
      subscribers: reportWriters,
      signal: abort.signal,
      command: `npx chaoslab workshop check ${ex.number}${values.reference ? ' --reference' : ''} --seed ${seed}`,
      runtime: 'process',
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const replaySeconds = Math.round((Date.now() - started) / 100) / 10;
  if (abort.signal.aborted) return EXIT.interrupted;
  const variant = result.variants[0];
  if (!variant || variant.status === 'failed') {
    // A node that would not start with the module (it threw at start) is the module's failure; anything else a part's.
    const message = variant?.error?.message ?? 'the replay did not complete';
    const attempt: Attempt = { ...base, source, grade: null, problem: message, runDir: result.runDir, replaySeconds };
    saveAttempt(dir, attempt);
    if (!values.json) env.stderr.write(`chaoslab: the replay failed: ${message}\n`);
    return values.json ? finish({ attempt, grade: null, exit: EXIT.partFailed }, ex, true, env) : EXIT.partFailed;
  }
  const grade = gradeAttempt(ex, variant.assertions);
  const moduleErrors = grade.moduleFailed ? extensionErrors(path.join(result.runDir, variant.name, 'logs', `${ex.extension.node}.log`)) : [];
  const attempt: Attempt = { ...base, source, grade, runDir: result.runDir, replaySeconds, ...(moduleErrors.length ? { moduleErrors } : {}) };
  saveAttempt(dir, attempt);
  // The starter's variant ran second; if it did not complete, its grade is null (the module's own stands).
  const starterRun = values['with-starter'] ? result.variants.find((v) => v.name === STARTER_VARIANT) : undefined;
  const starter = values['with-starter'] ? (starterRun && starterRun.status !== 'failed' ? gradeAttempt(ex, starterRun.assertions) : null) : undefined;
  return finish({ attempt, grade, exit: grade.reached ? EXIT.ok : EXIT.missed, ...(starter !== undefined ? { starter } : {}) }, ex, values.json, env);
}

function finish(o: CheckOutcome, ex: Exercise, json: boolean, env: CliEnv): number {
  const { attempt, grade } = o;
  if (json) {
    env.stdout.write(
      `${JSON.stringify({
        exercise: ex.number,
        id: ex.id,
        seed: attempt.seed,
        reference: attempt.reference,
        module: attempt.module,
        reached: grade?.reached ?? null,
        passed: Boolean(grade?.reached),
        ...(attempt.problem ? { problem: attempt.problem } : {}),
        ...(grade?.moduleFailed ? { moduleFailed: { ...grade.moduleFailed, errors: attempt.moduleErrors ?? [] } } : {}),
        ...(grade?.next ? { next: grade.next } : {}),
        targets: grade?.targets.map((t) => ({ label: t.label, assertion: t.assertion, stat: t.stat, value: t.value, tiers: t.tiers })) ?? [],
        ...(attempt.runDir ? { runDir: attempt.runDir } : {}),
        ...(attempt.replaySeconds !== undefined ? { replaySeconds: attempt.replaySeconds } : {}),
        ...(o.starter !== undefined ? { starter: o.starter ? { reached: o.starter.reached, moduleFailed: o.starter.moduleFailed !== null, targets: o.starter.targets.map((t) => ({ label: t.label, assertion: t.assertion, stat: t.stat, value: t.value, tiers: t.tiers })) } : null } : {}),
      })}\n`,
    );
    return o.exit;
  }
  const out: string[] = [];
  if (!grade) {
    out.push(`Not graded: ${attempt.problem ?? 'the module did not load'}`, 'Fix the module and check again (this attempt is kept).');
  } else {
    if (grade.moduleFailed) {
      out.push(`Your module failed ${formatNumber(grade.moduleFailed.failures)} time(s) during the replay (threw, ran too long, or returned the wrong type); the toy used its default then:`);
      for (const line of attempt.moduleErrors ?? []) out.push(`  ${line}`);
    }
    for (const t of grade.targets) {
      const tiers = TIERS.filter((k) => t.tiers[k]).map((k) => `${k} ${t.tiers[k]!.condition} ${t.tiers[k]!.met ? 'met' : 'missed'}`).join(', ');
      out.push(`  ${t.label}: ${t.value === null ? 'no data' : formatNumber(t.value)} (${t.stat})   ${tiers}`);
    }
    out.push(grade.reached ? `Tier reached: ${grade.reached.toUpperCase()}${grade.reached === 'best' ? ' (the top tier)' : ''}` : 'Tier reached: none (pass needs every pass threshold)');
    if (grade.next) out.push(`Next (${grade.next.tier}): ${grade.next.target}. Hint: ${grade.next.hint.trim()}`);
  }
  if (o.starter !== undefined) {
    out.push(o.starter ? `The shipped starter in the same run: ${o.starter.targets.map((t) => `${t.label} ${t.value === null ? 'no data' : formatNumber(t.value)}`).join('; ')}; tier reached: ${o.starter.reached ?? 'none'}` : 'The shipped starter in the same run: its replay did not complete');
  }
  if (attempt.runDir) out.push(`Run folder: ${path.relative(env.cwd, attempt.runDir) || attempt.runDir} (report.html); your attempts side by side: chaoslab workshop report`);
  env.stdout.write(`${out.join('\n')}\n`);
  return o.exit;
}

/** The first lines the toy logged about the module (`extension error: ...`), with the log file they came from. */
function extensionErrors(logFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').filter((l) => l.includes('extension error:')).slice(0, 3).map((l) => l.replace(/^.*extension error: /, ''));
  return lines.length ? [...lines, `(${logFile})`] : [];
}

function report(exercises: Exercise[], dir: string, json: boolean, env: CliEnv): number {
  const { attempts, skipped } = readAttempts(dir);
  for (const s of skipped) env.stderr.write(`chaoslab: skipped ${s}: not a readable attempt\n`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'workshop-report.html');
  writeFileSync(file, renderWorkshopReport(exercises, attempts));
  if (json) env.stdout.write(`${JSON.stringify({ report: file, attempts: attempts.length, skipped })}\n`);
  else env.stdout.write(`Wrote ${path.relative(env.cwd, file) || file} (${attempts.length} attempt(s))\n`);
  return EXIT.ok;
}
