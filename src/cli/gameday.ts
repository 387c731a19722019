/**
 * `chaoslab gameday …`: a game day with a hidden fault, scored by itself (src/gameday). `start` deals the incident
 * and starts the game's server in the background (`gameday serve`, its log in the state folder), then prints the
 * two consoles and the participants' Prometheus; the team's actions (`declare`, `hypothesis`, `mitigate`, `set`,
 * `restart`, `hint`) go to the participants' console API; `end` scores the game and stops everything.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../common/duration.js';
import { sleep } from '../common/time.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { parHtml, parSvg } from '../gameday/par-chart.js';
import { parDoc as makeParDoc, parMitigation, parPlan, parPoint, parseSweep, parVariantName, readParFile, type ParDoc, type ParSeed } from '../gameday/par.js';
import { gamesDir, listGames, readGame, type GameRecord } from '../gameday/record.js';
import type { Score } from '../gameday/score.js';
import { serveGame } from '../gameday/server.js';
import { isSameProcessAlive } from '../runtime/proc.js';
import { openStateDir } from '../runtime/state-dir.js';
import { loadScenario } from '../scenario/load.js';
import { runScenario } from '../run/runner.js';
import { reportWriters } from '../run/subscribers.js';
import { GAMEDAY, type GamedayValues } from './commands.js';
import { chooseRuntime } from './config.js';
import { EXIT } from './exit-codes.js';
import { partsOptions } from './lab-parts.js';
import { parseSet, projectRoot, runsDirOf, scenarioFile, seedOption, type CliEnv } from './main.js';
import { parseCommand } from './options.js';

export const GAME_DEFAULT_MS = 30 * 60_000;
export const GAME_MAX_MS = 8 * 3_600_000;
export const HINT_AFTER_DEFAULT_MS = 5 * 60_000;
/** How long `start` waits for the cluster, the Prometheus servers and the consoles. */
const START_TIMEOUT_MS = 120_000;

const SUBCOMMANDS = ['start', 'declare', 'hypothesis', 'mitigate', 'set', 'restart', 'hint', 'status', 'end', 'par', 'serve'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

function durationOption(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < min || ms > GAME_MAX_MS) throw new LabError(Errors.InvalidArgument, `--${flag} ${text}: expected a duration from ${min / 1000}s to 8h, with a unit`, { hint: `e.g. --${flag} 30m` });
  return ms;
}

export async function gamedayCommand(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(GAMEDAY, args);
  const [sub, ...rest] = positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new LabError(Errors.InvalidArgument, sub === undefined ? 'gameday needs a command' : `unknown gameday command "${sub}"`, { hint: `one of: ${SUBCOMMANDS.filter((s) => s !== 'serve').join(', ')} (chaoslab gameday --help)` });
  }
  const one = (what: string): string => {
    if (rest.length !== 1 || !rest[0]!.trim()) throw new LabError(Errors.InvalidArgument, `gameday ${sub} takes one ${what}`, { hint: `e.g. chaoslab gameday ${sub} ${sub === 'declare' || sub === 'hypothesis' ? '"p99 is over 500ms since 12:03"' : sub === 'mitigate' ? 'timeout-and-fallback' : sub === 'set' ? 'frontend.backendTimeoutMs=200' : 'backend'}` });
    return rest[0]!;
  };
  switch (sub as Sub) {
    case 'start':
    case 'serve':
      return startOrServe(sub as 'start' | 'serve', rest, values, env);
    case 'declare':
    case 'hypothesis':
      return act(env, values.game, { kind: sub, text: one('text, in quotes') }, values.json);
    case 'mitigate':
      return act(env, values.game, { kind: 'mitigate', name: one('mitigation name') }, values.json);
    case 'set':
      return act(env, values.game, { kind: 'set', assignment: one('node.param=value') }, values.json);
    case 'restart':
      return act(env, values.game, { kind: 'restart', node: one('node name') }, values.json);
    case 'hint':
      return act(env, values.game, { kind: 'hint' }, values.json);
    case 'status': {
      const g = findGame(env, values.game);
      env.stdout.write(values.json ? `${JSON.stringify(startDoc(g))}\n` : formatStart(g, env));
      return EXIT.ok;
    }
    case 'end':
      return endGame(env, values.game, values.json);
    case 'par':
      return parCommand(rest, values, env);
  }
}

async function startOrServe(sub: 'start' | 'serve', rest: string[], values: GamedayValues, env: CliEnv): Promise<number> {
  if (rest.length !== 1) throw new LabError(Errors.InvalidArgument, rest.length ? `gameday ${sub} takes one scenario, got ${rest.length}` : `gameday ${sub} needs a scenario`, { hint: 'chaoslab gameday start hello-latency --seed 7 --team blue' });
  if (chooseRuntime(values.runtime, env.config) !== 'process') throw new LabError(Errors.InvalidArgument, 'game days run on the process runtime only (for now)', { hint: 'leave out --runtime, or use --runtime process' });
  const gameMs = durationOption('for', values.for, GAME_DEFAULT_MS, 10_000);
  const hintAfterMs = values['hint-after'] === '0' ? 0 : durationOption('hint-after', values['hint-after'], HINT_AFTER_DEFAULT_MS, 1000);
  const seed = seedOption(values.seed);
  const team = values.team ?? 'team';
  if (!/^[\w .-]{1,40}$/.test(team)) throw new LabError(Errors.InvalidArgument, `--team ${JSON.stringify(team)}: letters, digits, spaces, dots and dashes, at most 40`, { hint: '--team blue' });
  const runsDir = runsDirOf(values.out, env);
  const file = scenarioFile(rest[0]!, env);
  // Bad input is found here, before anything starts (exit 2).
  const plan = loadScenario(file, { overrides: parseSet(values.set) });
  const { dealIncident } = await import('../gameday/deal.js');
  dealIncident(plan, seed);
  const par = parFileFor(values.par, runsDir, plan.id, env);
  const parDoc = par === undefined ? undefined : readParFile(par);

  if (sub === 'serve') {
    if (!values.game) throw new LabError(Errors.InvalidArgument, 'gameday serve is started by gameday start', { hint: 'chaoslab gameday start <scenario> --seed N' });
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const { score, result } = await serveGame(
        {
          plan,
          seed,
          team,
          game: values.game,
          gameMs,
          hintAfterMs,
          sloTarget: 0.99,
          runsDir,
          stateDir: env.stateDir,
          projectRoot,
          ...partsOptions(env),
          ...(par && parDoc ? { par: { doc: parDoc, file: par } } : {}),
          command: `npx chaoslab gameday start ${path.relative(env.cwd, file) || file} --seed ${seed} --team ${JSON.stringify(team)}`,
          log: (line) => env.stdout.write(`${new Date().toISOString()} ${line}\n`),
        },
        abort.signal,
      );
      env.stdout.write(`${new Date().toISOString()} game over: ${JSON.stringify({ ttd: score.ttdSeconds, ttm: score.ttmSeconds })}\n`);
      // The server's log goes with the game's run folder (this process still writes to it: a rename keeps the file).
      moveFile(path.join(gamesDir(env.stateDir), `${values.game}.log`), path.join(result.runDir, 'logs', 'gameday-server.log'));
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    return EXIT.ok;
  }

  // start: the server runs in the background and outlives this command; its record says it is ready.
  const game = `${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
  openStateDir(env.stateDir, { create: true });
  openStateDir(gamesDir(env.stateDir), { create: true });
  const logFile = path.join(gamesDir(env.stateDir), `${game}.log`);
  const fd = openSync(logFile, 'a', 0o600);
  const serveArgs = ['gameday', 'serve', file, '--seed', String(seed), '--team', team, '--game', game, '--out', runsDir, ...(values.for ? ['--for', values.for] : []), ...(values['hint-after'] ? ['--hint-after', values['hint-after']] : []), ...(par ? ['--par', par] : []), ...values.set.flatMap((s) => ['--set', s])];
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'chaoslab.js'), ...serveArgs], { detached: true, stdio: ['ignore', fd, fd], cwd: env.cwd, env: { ...process.env, CHAOSLAB_STATE_DIR: env.stateDir } });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  let record: GameRecord | undefined;
  while (!(record = readGame(env.stateDir, game))) {
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) child.kill('SIGTERM');
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
      throw new LabError(exited === EXIT.badInput ? Errors.InvalidArgument : Errors.GameServerFailed, exited === undefined ? `the game did not come up within ${START_TIMEOUT_MS / 1000}s` : `the game's server exited (code ${exited}) before the game was up`, { hint: `its log (${logFile}), last lines:\n${tail}` });
    }
    await sleep(200);
  }
  env.stdout.write(values.json ? `${JSON.stringify(startDoc(record))}\n` : formatStart(record, env));
  return EXIT.ok;
}

function startDoc(g: GameRecord): Record<string, unknown> {
  return { game: g.game, scenario: g.scenario, seed: g.seed, team: g.team, runDir: g.runDir, participants: g.participants, facilitator: g.facilitator };
}

function formatStart(g: GameRecord, env: CliEnv): string {
  const rel = path.relative(env.cwd, g.runDir);
  return [
    `game day ${g.game}: ${g.scenario}, seed ${g.seed}, team ${g.team} (the fault is hidden; it comes when the seed says)`,
    '',
    '  for the team',
    `    console      ${g.participants.console}`,
    `    prometheus   ${g.participants.prometheus}   (cluster and load metrics only)`,
    `    grafana      ${path.join(rel, 'participants', 'grafana')}   (provisioning folder)`,
    '    act          npx chaoslab gameday declare "what we see" | hypothesis "…" | mitigate <name> | set node.param=value | restart <node> | hint',
    '',
    '  for the facilitator only',
    `    console      ${g.facilitator.console}`,
    `    prometheus   ${g.facilitator.prometheus}   toxiproxy ${g.facilitator.toxiproxy}`,
    `    end          npx chaoslab gameday end   (scores the game, writes score.json and debrief.md into ${rel})`,
    '',
  ].join('\n');
}

function findGame(env: CliEnv, id: string | undefined): GameRecord {
  if (id !== undefined) {
    const g = listGames(env.stateDir).find((r) => r.game === id);
    if (!g) throw new LabError(Errors.NoGame, `no game day "${id}" is running`, { hint: listHint(env) });
    return g;
  }
  const games = listGames(env.stateDir);
  if (games.length === 1) return games[0]!;
  if (games.length === 0) throw new LabError(Errors.NoGame, 'no game day is running', { hint: 'start one: npx chaoslab gameday start <scenario> --seed N --team NAME' });
  throw new LabError(Errors.NoGame, `${games.length} game days are running; say which with --game`, { hint: listHint(env) });
}

function listHint(env: CliEnv): string {
  const games = listGames(env.stateDir);
  return games.length ? `running:\n${games.map((g) => `    --game ${g.game}  (${g.scenario}, team ${g.team})`).join('\n')}` : 'no game day is running';
}

async function call(g: GameRecord, side: 'participants' | 'facilitator', route: string, body: unknown, timeoutMs: number): Promise<{ status: number; body: { ok: boolean; detail: string; score?: Score } }> {
  const base = g[side].console.split('/?')[0]!;
  try {
    const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chaoslab-token': g[side].token }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: (await res.json()) as { ok: boolean; detail: string; score?: Score } };
  } catch (e) {
    throw new LabError(Errors.GameServerFailed, `the game's server (pid ${g.pid}) does not answer: ${e instanceof Error ? e.message : String(e)}`, { hint: `npx chaoslab clean stops what it left; its log: ${path.join(path.dirname(g.runDir), '…')}` });
  }
}

async function act(env: CliEnv, id: string | undefined, body: Record<string, string>, json: boolean): Promise<number> {
  const g = findGame(env, id);
  const r = await call(g, 'participants', '/api/action', body, 15_000);
  if (json) env.stdout.write(`${JSON.stringify(r.body)}\n`);
  else if (r.body.ok) env.stdout.write(`${body['kind']}: ${r.body.detail || 'noted'}\n`);
  if (r.body.ok) return EXIT.ok;
  if (!json) env.stderr.write(`chaoslab: ${body['kind']} refused: ${r.body.detail}\n`);
  return EXIT.badInput;
}

async function endGame(env: CliEnv, id: string | undefined, json: boolean): Promise<number> {
  const g = findGame(env, id);
  const r = await call(g, 'facilitator', '/api/control', { op: 'end' }, 180_000);
  const score = r.body.score;
  if (!score) throw new LabError(Errors.GameServerFailed, `the game did not end: ${r.body.detail}`, {});
  // Everything it started has stopped once the server process is gone.
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && isSameProcessAlive(g.pid, null); ) await sleep(100);
  if (json) {
    env.stdout.write(`${JSON.stringify(score)}\n`);
    return EXIT.ok;
  }
  const rel = path.relative(env.cwd, g.runDir) || g.runDir;
  const by = score.recoveredBy === null ? 'not recovered' : score.recoveredBy === 'self-healed' ? 'self-healed' : `after ${score.recoveredBy.kind} ${score.recoveredBy.text}`;
  env.stdout.write(
    [
      `game day over: ${score.scenario}, seed ${score.seed}, team ${score.team}`,
      `  time to detect     ${score.ttdSeconds ?? '—'} s (detection lag ${score.detectionLagSeconds ?? '—'} s after the first signal)`,
      `  time to mitigate   ${score.ttmSeconds ?? '—'} s (${by})`,
      `  error budget       ${score.errorBudgetBurned === null ? '—' : `${Math.round(score.errorBudgetBurned * 100)} % of the game's budget burned`}`,
      `  hints used         ${score.hintsUsed}`,
      `  par                ${score.par.available ? score.par.summary : `— (${score.par.why})`}`,
      `  written            ${path.join(rel, 'score.json')}, ${path.join(rel, 'debrief.md')}, ${path.join(rel, 'report.html')}`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

/** rename, or copy and remove across file systems (the state folder may be a tmpfs). */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') return;
    try {
      copyFileSync(from, to);
      unlinkSync(from);
    } catch {
      // the log stays in the state folder
    }
  }
}

/** The par a game is scored against: --par FILE, else `<out>/<scenario>-par/par.json` when it exists. */
function parFileFor(flag: string | undefined, runsDir: string, scenario: string, env: CliEnv): string | undefined {
  if (flag !== undefined) return path.resolve(env.cwd, flag);
  const found = path.join(parDir(runsDir, scenario), 'par.json');
  return existsSync(found) ? found : undefined;
}

const parDir = (runsDir: string, scenario: string): string => path.join(runsDir, `${scenario}-par`);

function seedsOption(text: string | undefined): number[] {
  if (text === undefined) return [1];
  const seeds = text.split(',').map((s) => seedOption(s.trim()));
  if (new Set(seeds).size !== seeds.length) throw new LabError(Errors.InvalidArgument, `--seeds ${text}: a seed is there twice`, { hint: 'e.g. --seeds 1,2' });
  return seeds;
}

/**
 * `gameday par <scenario>`: one run of the ordinary runner per seed (its variants: one per sweep time), then par
 * from what each recorded (src/gameday/par.ts), the chart, and par.json where `gameday start` finds it.
 */
async function parCommand(rest: string[], values: GamedayValues, env: CliEnv): Promise<number> {
  if (rest.length !== 1) throw new LabError(Errors.InvalidArgument, rest.length ? `gameday par takes one scenario, got ${rest.length}` : 'gameday par needs a scenario', { hint: 'chaoslab gameday par hello-latency --seeds 7 --at 5s,10s,20s' });
  if (chooseRuntime(values.runtime, env.config) !== 'process') throw new LabError(Errors.InvalidArgument, 'par replays on the process runtime only (as game days do)', { hint: 'leave out --runtime, or use --runtime process' });
  const seeds = seedsOption(values.seeds);
  const sweepMs = parseSweep(values.at ?? '5s,10s,20s', parseDuration);
  const runsDir = runsDirOf(values.out, env);
  const file = scenarioFile(rest[0]!, env);
  const scenario = loadScenario(file, { overrides: parseSet(values.set) });
  const mitigation = parMitigation(scenario, values.mitigation);
  const sloTarget = 0.99;
  const plans = seeds.map((seed) => ({ seed, ...parPlan(scenario, seed, sweepMs, mitigation) }));
  const rel = path.relative(env.cwd, file) || file;
  const say = (line: string) => (values.json ? env.stderr : env.stdout).write(`${line}\n`);
  say(`par of ${scenario.id}: ${mitigation.names.join(' + ')} pushed ${sweepMs.map((m) => `${m / 1000}s`).join(', ')} after the fault, seeds ${seeds.join(', ')}: ${plans.length * sweepMs.length} replays of ${plans[0]!.plan.durationMs / 1000} s`);

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const done: Omit<ParSeed, 'par'>[] = [];
  try {
    for (const { seed, plan, deal } of plans) {
      if (abort.signal.aborted) break;
      say(`seed ${seed}: ${deal.description} at ${deal.atMs / 1000} s (as a game with --seed ${seed} deals it)`);
      const result = await runScenario(plan, {
        projectRoot,
        seed,
        control: false,
        runsDir,
        ...partsOptions(env),
        stateDir: env.stateDir,
        reporter: { onMessage: (line) => say(`  ${line}`) },
        subscribers: reportWriters,
        signal: abort.signal,
        runtime: 'process',
        command: `npx chaoslab gameday par ${rel} --seeds ${seed} --at ${sweepMs.map((m) => `${m / 1000}s`).join(',')}${values.mitigation ? ` --mitigation ${values.mitigation}` : ''}`,
      });
      const failed = result.variants.find((v) => v.status === 'failed');
      if (failed?.error) {
        env.stderr.write(`chaoslab: a real part failed in par replay ${failed.name} (seed ${seed}): ${failed.error.message}\n`);
        return EXIT.partFailed;
      }
      const points = sweepMs.flatMap((at) => {
        const r = result.variants.find((v) => v.name === parVariantName(at));
        return r ? [parPoint(r, at, sloTarget, (plan.workload.rate * plan.durationMs) / 1000)] : [];
      });
      for (const p of points) say(`  mitigated ${p.atSeconds} s after the fault: ${p.recovered ? `TTM ${p.ttmSeconds} s` : `not recovered${p.error ? ` (${p.error})` : ''}`}, ${p.badRequests} bad of ${p.totalRequests} requests (${Math.round(p.errorBudgetBurned * 100)} % of the budget)`);
      done.push({ seed, fault: { step: deal.step.name, description: deal.description, atMs: deal.atMs }, runDir: result.runDir, points });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (abort.signal.aborted) return EXIT.interrupted;
  const doc: ParDoc = makeParDoc({ scenario: scenario.id, mitigation: mitigation.names, sloTarget, sweepMs, durationMs: plans[0]!.plan.durationMs, seeds: done });
  const out = parDir(runsDir, scenario.id);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'par.json'), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(path.join(out, 'par.svg'), `${parSvg(doc)}\n`);
  writeFileSync(path.join(out, 'par.html'), parHtml(doc));
  if (values.json) env.stdout.write(`${JSON.stringify(doc)}\n`);
  else {
    const outRel = path.relative(env.cwd, out) || out;
    for (const s of doc.seeds) say(s.par ? `par, seed ${s.seed}: mitigated ${s.par.atSeconds} s after the fault, TTM ${s.par.ttmSeconds} s, ${s.par.badRequests} bad requests (${Math.round(s.par.errorBudgetBurned * 100)} % of the budget)` : `par, seed ${s.seed}: none (no sweep time recovered)`);
    say(`written: ${path.join(outRel, 'par.json')}, par.svg, par.html (gameday start finds par.json there; or --par FILE)`);
  }
  return EXIT.ok;
}
