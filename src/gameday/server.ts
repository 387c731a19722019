/**
 * A game day's server (`chaoslab gameday serve`, started in the background by `gameday start`): it runs the
 * scenario's baseline with its load and no scheduled faults, deals the hidden fault from the seed and applies it
 * itself (so the facilitator can hold, advance or add a curveball), starts the participants' Prometheus (cluster
 * and load metrics only), serves both consoles, journals every action, and at the end scores the game from the
 * journal and Prometheus and writes score.json, debrief.md and the game's lanes into report.html.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseCondition } from '../check/condition.js';
import { sleep } from '../common/time.js';
import { applyFault, describeFault } from '../fault/registry.js';
import { writeGrafanaProvisioning } from '../observe/grafana.js';
import type { StartedPrometheus } from '../observe/prometheus-server.js';
import type { VariantContext } from '../run/context.js';
import { errorFields } from '../run/errors.js';
import { performFaultStep } from '../run/fault-step.js';
import { withScheduledExits } from '../run/part-watch.js';
import type { Reporter } from '../run/reporter.js';
import type { RunResult } from '../run/result.js';
import { runScenario } from '../run/runner.js';
import { reportWriters } from '../run/subscribers.js';
import { nodeClock } from '../runtime/fake-clock.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import { startConsoles, type Consoles } from './consoles.js';
import { debriefMarkdown } from './debrief.js';
import { dealIncident, hintsFor, sloAssertions, type Deal } from './deal.js';
import { addToLeaderboard } from './leaderboard.js';
import { insertLanes, lanesHtml } from './lanes.js';
import { compareWithPar, type ParDoc } from './par.js';
import { forgetGame, writeGame, type GameRecord } from './record.js';
import { budgetQueries, computeScore, errorBudget, SCORE_STEP_MS, type GameAction, type Score, type SloSeries } from './score.js';

export interface GameOptions {
  plan: ScenarioPlan;
  seed: number;
  team: string;
  game: string;
  gameMs: number;
  /** A hint is released by itself after this long without a team action (0: never). */
  hintAfterMs: number;
  /** The SLO's target share of good requests, for the error budget. */
  sloTarget: number;
  runsDir: string;
  stateDir: string;
  projectRoot: string;
  envPath: string;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
  command: string;
  /** The scenario's par (`gameday par`), for the score's `par`. */
  par?: { doc: ParDoc; file: string };
  log(line: string): void;
}

/** The plan the server runs: baseline only, load for the whole game, no scheduled steps, nothing judged at the end. */
export function gamePlan(plan: ScenarioPlan, gameMs: number): ScenarioPlan {
  const baseline = plan.variants.find((v) => v.name === 'baseline') ?? plan.variants[0]!;
  return {
    ...plan,
    variants: [baseline],
    steps: [],
    assertions: [],
    checker: undefined,
    // The server ends the game itself (and scores it while Prometheus is up); the load outlasts that.
    durationMs: gameMs + 60_000,
    workload: { ...plan.workload, history: false },
  };
}

/**
 * The participants' Prometheus keeps the nodes' metrics and the load's client-side view and drops everything that
 * names the fault or the run's phase (chaoslab_fault_active, chaoslab_phase, the target rate); Toxiproxy is not
 * scraped at all.
 */
export const PARTICIPANT_RELABEL = [{ source_labels: ['job', '__name__'], separator: ';', regex: 'lab;chaoslab_client_.*|node;.*', action: 'keep' as const }];

export type TeamRequest = { kind: 'declare' | 'hypothesis'; text: string } | { kind: 'mitigate'; name: string } | { kind: 'set'; assignment: string } | { kind: 'restart'; node: string } | { kind: 'hint' };
export type FacilitatorRequest = { op: 'hold' | 'advance' | 'hint' | 'end' | 'abort' } | { op: 'curveball'; step: string };
export interface Outcome {
  ok: boolean;
  detail: string;
}

export class Game {
  readonly deal: Deal;
  readonly hints: string[];
  readonly actions: GameAction[] = [];
  readonly tokens = { participants: randomBytes(16).toString('hex'), facilitator: randomBytes(16).toString('hex') };
  v: VariantContext | undefined;
  participantsPrometheus: StartedPrometheus | undefined;
  hintsReleased = 0;
  held = false;
  faultOnMs: number | null = null;
  score: Score | undefined;
  /** The SLO series the score was judged from (for the report's lanes). */
  series: SloSeries[] = [];
  private faultTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastProgressMs = 0;
  private curveballs = 0;
  private ending: Promise<Score> | undefined;
  readonly finished: Promise<Score>;
  /** Settles `finished`: the score is written and everything stopped. */
  settle!: (s: Score) => void;

  constructor(
    readonly o: GameOptions,
    private readonly abort: AbortController,
  ) {
    this.deal = dealIncident(o.plan, o.seed);
    this.hints = hintsFor(o.plan, this.deal);
    this.finished = new Promise<Score>((resolve) => (this.settle = resolve));
  }

  /** Ms since the load's start. */
  now(): number {
    return this.v ? Math.round(performance.now() - this.v.t0Perf) : 0;
  }

  get faultOn(): boolean {
    return this.faultOnMs !== null;
  }

  /** Journals an action (the run's journal, `kind: gameday`) and keeps it for the consoles and the score. */
  private record(kind: string, text: string, by: GameAction['by'], outcome: Outcome = { ok: true, detail: '' }): GameAction {
    const a: GameAction = { atMs: this.now(), kind, text, by, ok: outcome.ok, ...(outcome.detail ? { detail: outcome.detail } : {}) };
    this.actions.push(a);
    this.v?.emit({ kind: 'gameday', action: kind, by, text, atMs: a.atMs, ok: a.ok, ...(a.detail ? { detail: a.detail } : {}) });
    this.o.log(`${(a.atMs / 1000).toFixed(1)}s ${by} ${kind}${text ? ` "${text}"` : ''}${a.ok ? '' : ` (refused: ${a.detail})`}`);
    return a;
  }

  /** Called by the runner once the load runs: the hidden fault's timer, the auto hints, the game's end. */
  begin(v: VariantContext): void {
    this.v = v;
    this.record('start', `team ${this.o.team}, seed ${this.o.seed}`, 'lab');
    this.scheduleFault(this.deal.atMs);
    this.timers.push(setTimeout(() => void this.end('time').catch(() => undefined), this.o.gameMs));
    if (this.o.hintAfterMs > 0) {
      const t = setInterval(() => {
        if (!this.faultOn || this.hintsReleased >= this.hints.length) return;
        if (this.now() - Math.max(this.lastProgressMs, this.faultOnMs!) >= this.o.hintAfterMs) this.releaseHint('lab');
      }, 1000);
      this.timers.push(t);
    }
  }

  private scheduleFault(atMs: number): void {
    clearTimeout(this.faultTimer);
    this.faultTimer = setTimeout(() => void this.fireFault().catch(() => undefined), Math.max(0, atMs - this.now()));
  }

  private async fireFault(): Promise<Outcome> {
    const v = this.v;
    if (!v || this.faultOn || this.ending) return { ok: false, detail: 'the fault is already on, or the game is over' };
    clearTimeout(this.faultTimer);
    await performFaultStep(v, { atMs: this.deal.atMs, kind: 'apply', step: this.deal.step }, this.now());
    this.faultOnMs = v.faultRecords.get(this.deal.step.name)?.appliedMs ?? this.now();
    // In the facilitator's journal (the participants' view shows team actions only).
    this.record('fault', `${this.deal.step.name}: ${this.deal.description}`, 'lab');
    return { ok: true, detail: this.deal.description };
  }

  releaseHint(by: GameAction['by']): Outcome {
    if (this.hintsReleased >= this.hints.length) {
      this.record('hint', '', by, { ok: false, detail: 'no hints left' });
      return { ok: false, detail: 'no hints left' };
    }
    const text = this.hints[this.hintsReleased++]!;
    this.record('hint', text, by);
    return { ok: true, detail: text };
  }

  /** A participant's action, from the CLI or the console. */
  async team(r: TeamRequest): Promise<Outcome> {
    if (this.ending) return { ok: false, detail: 'the game is over' };
    const v = this.v;
    if (!v) return { ok: false, detail: 'the game has not started yet' };
    this.lastProgressMs = this.now();
    switch (r.kind) {
      case 'declare':
      case 'hypothesis': {
        const text = r.text.trim().slice(0, 2000);
        if (!text) return { ok: false, detail: `${r.kind} needs a text` };
        this.record(r.kind, text, 'team');
        return { ok: true, detail: '' };
      }
      case 'hint':
        return this.releaseHint('team');
      case 'mitigate': {
        const m = this.o.plan.cluster.mitigations[r.name];
        if (!m) return this.refused('mitigate', r.name, `no mitigation "${r.name}"; the cluster has: ${Object.keys(this.o.plan.cluster.mitigations).join(', ') || 'none'}`);
        const pushes = Object.entries(m.set).flatMap(([group, params]) => this.o.plan.nodes.filter((n) => n.group === group).map((n) => ({ node: n.name, params: params as Record<string, unknown> })));
        // All or nothing: a mitigation that sets a param some toy takes only at start is refused before any push.
        const startOnly = await this.startOnlyParams(pushes);
        if (startOnly) return this.refused('mitigate', r.name, `mitigation "${r.name}" cannot be turned on live: ${startOnly}`);
        return this.pushAll('mitigate', r.name, pushes);
      }
      case 'set': {
        const m = /^([A-Za-z0-9_-]+)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(r.assignment.trim());
        if (!m) return this.refused('set', r.assignment, 'expected node.param=value, e.g. frontend.backendTimeoutMs=200');
        const [, target, param, raw] = m as unknown as [string, string, string, string];
        const value = raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
        const nodes = this.o.plan.nodes.filter((n) => n.name === target || n.group === target);
        if (!nodes.length) return this.refused('set', r.assignment, `no node or group "${target}"; nodes: ${this.o.plan.nodes.map((n) => n.name).join(', ')}`);
        return this.pushAll('set', r.assignment, nodes.map((n) => ({ node: n.name, params: { [param]: value } })));
      }
      case 'restart': {
        const node = this.o.plan.nodes.find((n) => n.name === r.node);
        if (!node) return this.refused('restart', r.node, `no node "${r.node}"; nodes: ${this.o.plan.nodes.map((n) => n.name).join(', ')}`);
        const spec = { type: 'restart' as const, nodes: [node.name] };
        try {
          // A restart the lab makes: the part watch lets its exit through.
          await withScheduledExits(v.watch, spec, () => applyFault(spec, this.applyContext(v)));
          this.record('restart', node.name, 'team');
          return { ok: true, detail: `${node.name} restarted (with its start params: config pushes are gone)` };
        } catch (e) {
          return this.refused('restart', node.name, errorFields(e).message);
        }
      }
    }
  }

  private refused(kind: string, text: string, detail: string): Outcome {
    this.record(kind, text, 'team', { ok: false, detail });
    return { ok: false, detail };
  }

  /**
   * Asks each target node which params it takes live (`GET /admin/params`); says which of the pushes' params are
   * start-only, where, or undefined when all are live. A node that does not answer is left to the push to report.
   */
  private async startOnlyParams(pushes: { node: string; params: Record<string, unknown> }[]): Promise<string | undefined> {
    const byParam = new Map<string, string[]>();
    const liveThere = new Set<string>();
    await Promise.all(
      pushes.map(async (p) => {
        let live: Record<string, unknown>;
        try {
          const reply = await this.adminCall(this.adminUrl(p.node));
          if (!reply.ok || typeof reply.body['live'] !== 'object' || reply.body['live'] === null) return;
          live = reply.body['live'] as Record<string, unknown>;
        } catch {
          return;
        }
        for (const k of Object.keys(live)) liveThere.add(k);
        for (const k of Object.keys(p.params)) if (!(k in live)) byParam.set(k, [...(byParam.get(k) ?? []), p.node]);
      }),
    );
    if (byParam.size === 0) return undefined;
    const what = [...byParam].map(([k, nodes]) => `${k} (on ${nodes.sort().join(', ')})`).join(', ');
    const live = [...liveThere].sort();
    const many = byParam.size > 1;
    return `${what} ${many ? 'are start-only params' : 'is a start-only param'}: the toy reads ${many ? 'them' : 'it'} once, at start, so a config push cannot change ${many ? 'them' : 'it'} (live there: ${live.join(', ') || 'none'}); nothing was pushed. A replay of the scenario's mitigated variant shows this mitigation at work`;
  }

  private adminUrl(node: string): string {
    const n = this.o.plan.nodes.find((x) => x.name === node)!;
    return `http://${this.v!.parts.addresses.addrOf(n.name, n.ports[0]!)}/admin/params`;
  }

  /** One call to a node's admin endpoint: GET without a body, POST (a config push) with one. A test stands in for the nodes here. */
  protected async adminCall(url: string, body?: Record<string, unknown>): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }> {
    const res = await fetch(url, body === undefined ? { signal: AbortSignal.timeout(3000) } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(3000) });
    return { ok: res.ok, status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  /** Config pushes to the nodes' admin endpoint (`POST /admin/params`), as a production deploy tool would. */
  private async pushAll(kind: string, text: string, pushes: { node: string; params: Record<string, unknown> }[]): Promise<Outcome> {
    const results = await Promise.all(
      pushes.map(async (p) => {
        try {
          const res = await this.adminCall(this.adminUrl(p.node), p.params);
          return res.ok ? '' : `${p.node}: ${typeof res.body['error'] === 'string' ? res.body['error'] : `HTTP ${res.status}`}`;
        } catch (e) {
          return `${p.node}: ${e instanceof Error ? e.message : String(e)}`;
        }
      }),
    );
    const errors = results.filter(Boolean);
    const detail = errors.length ? errors.join('; ') : pushes.map((p) => `${p.node} ← ${JSON.stringify(p.params)}`).join('; ');
    this.record(kind, text, 'team', { ok: errors.length === 0, detail });
    return { ok: errors.length === 0, detail };
  }

  private applyContext(v: VariantContext) {
    const { plan } = v;
    return {
      toxiproxy: v.parts.toxiproxy.client,
      faultId: `gameday-${this.actions.length}`,
      links: plan.links,
      nodes: v.nodes,
      nodeAddress: (n: string) => v.parts.addresses.addrOf(n, plan.nodes.find((x) => x.name === n)!.ports[0]!),
      clock: (n: string) => nodeClock(v.nodes.get(n)),
      observe: () => undefined,
    };
  }

  /** The facilitator's controls. */
  async facilitator(r: FacilitatorRequest): Promise<Outcome> {
    if (this.ending && r.op !== 'end' && r.op !== 'abort') return { ok: false, detail: 'the game is over' };
    switch (r.op) {
      case 'hold':
        if (this.faultOn) return this.facRefused('hold', 'the fault is already on');
        this.held = !this.held;
        if (this.held) clearTimeout(this.faultTimer);
        else this.scheduleFault(this.deal.atMs);
        this.record(this.held ? 'hold' : 'release', this.held ? 'the hidden fault waits' : 'the hidden fault goes on at its dealt time (or now, if that has passed)', 'facilitator');
        return { ok: true, detail: this.held ? 'held' : 'released' };
      case 'advance': {
        if (this.faultOn) return this.facRefused('advance', 'the fault is already on');
        this.held = false;
        this.record('advance', 'the hidden fault goes on now', 'facilitator');
        return this.fireFault();
      }
      case 'hint':
        return this.releaseHint('facilitator');
      case 'curveball': {
        const step = this.deal.curveballs.find((s) => s.name === r.step);
        if (!step || !this.v) return this.facRefused('curveball', `no curveball "${r.step}"; this scenario has: ${this.deal.curveballs.map((s) => s.name).join(', ') || 'none'}`);
        const name = `curveball-${++this.curveballs}-${step.name}`;
        const s = { ...step, name, atMs: this.now() };
        try {
          await performFaultStep(this.v, { atMs: s.atMs, kind: 'apply', step: s }, this.now());
          if (s.forMs !== undefined) {
            const heal = async () => {
              await performFaultStep(this.v!, { atMs: s.atMs + s.forMs!, kind: 'heal', step: s }, this.now());
              this.record('curveball-healed', name, 'lab');
            };
            this.timers.push(setTimeout(() => void heal().catch(() => undefined), s.forMs));
          }
          this.record('curveball', name, 'facilitator');
          return { ok: true, detail: name };
        } catch (e) {
          return this.facRefused('curveball', errorFields(e).message);
        }
      }
      case 'end':
      case 'abort':
        void this.end(r.op === 'abort' ? 'aborted by the facilitator' : 'ended by the facilitator').catch(() => undefined);
        return { ok: true, detail: 'ending' };
    }
  }

  private facRefused(kind: string, detail: string): Outcome {
    this.record(kind, '', 'facilitator', { ok: false, detail });
    return { ok: false, detail };
  }

  /** Scores the game while Prometheus is up, then stops everything (the run's own teardown). Idempotent. */
  end(by: string): Promise<Score> {
    this.ending ??= (async () => {
      for (const t of this.timers) clearTimeout(t);
      clearTimeout(this.faultTimer);
      const v = this.v;
      if (v) this.record('end', by, 'lab');
      const score = v ? await this.judge(v, by).catch((e: unknown) => this.scoreWithout(by, errorFields(e).message)) : this.scoreWithout(by, 'the cluster never came up');
      this.score = score;
      await this.participantsPrometheus?.stop().catch(() => undefined);
      this.abort.abort();
      return score;
    })();
    return this.ending;
  }

  private scoreWithout(by: string, why: string): Score {
    this.o.log(`scored without Prometheus: ${why}`);
    return this.withPar(computeScore({ ...this.ids(), t0: this.v?.result.t0 ?? Date.now(), faultStartMs: this.faultOnMs, faultHealedMs: null, endedMs: this.now(), endedBy: by, series: [], actions: this.actions, budget: null }));
  }

  private ids() {
    return { scenario: this.o.plan.id, seed: this.o.seed, team: this.o.team, game: this.o.game };
  }

  /** The SLO series over the game and the error budget, from the run's Prometheus. */
  private async judge(v: VariantContext, by: string): Promise<Score> {
    const endedMs = this.now();
    // Let the last scrape land.
    await sleep(v.scrapeIntervalMs * 2 + 200);
    const prom = v.prometheus ?? (await v.parts.prometheus);
    const t0 = v.result.t0;
    const endSec = Date.now() / 1000;
    const series: SloSeries[] = [];
    for (const a of sloAssertions(this.o.plan)) {
      const condition = parseCondition(`${a.comparator} ${a.threshold}`)!;
      for (const s of await prom.client.queryRange(a.query, Math.floor(t0 / 1000), endSec, SCORE_STEP_MS / 1000)) {
        series.push({ name: a.name, condition, points: s.points.map(([t, val]) => [Math.round(t * 1000 - t0), val]) });
      }
    }
    const queries = budgetQueries(this.o.plan, endSec - t0 / 1000);
    const one = async (q: string): Promise<number> => {
      const r = await prom.client.query(q, endSec);
      const val = r[0]?.points[0]?.[1];
      return val === undefined || !Number.isFinite(val) ? 0 : Math.max(0, Math.round(val));
    };
    this.series = series;
    const budget = errorBudget(await one(queries.total), await one(queries.failed), await one(queries.tooSlow), this.o.sloTarget, queries);
    return this.withPar(computeScore({ ...this.ids(), t0, faultStartMs: this.faultOnMs, faultHealedMs: null, endedMs, endedBy: by, series, actions: this.actions, budget }));
  }

  /** How far from par the team was, when the game has one. */
  private withPar(score: Score): Score {
    return this.o.par ? { ...score, par: compareWithPar(score, this.o.par.doc, this.o.par.file) } : score;
  }

  /** What the participants see: the clock, their actions, released hints, the cluster's names. Never the deal. */
  participantsState(live: Record<string, number | null>): Record<string, unknown> {
    return {
      game: this.o.game,
      team: this.o.team,
      cluster: { name: this.o.plan.cluster.name, description: this.o.plan.cluster.description ?? '', nodes: this.o.plan.nodes.map((n) => n.name) },
      mitigations: Object.entries(this.o.plan.cluster.mitigations).map(([name, m]) => ({ name, description: m.description })),
      elapsedMs: this.now(),
      gameMs: this.o.gameMs,
      over: Boolean(this.ending),
      prometheus: this.participantsPrometheus?.url ?? null,
      live,
      hints: this.actions.filter((a) => a.kind === 'hint' && a.ok).map((a) => ({ atMs: a.atMs, text: a.text })),
      hintsLeft: this.hints.length - this.hintsReleased,
      actions: this.actions.filter((a) => a.by === 'team').map(({ atMs, kind, text, ok, detail }) => ({ atMs, kind, text, ok, ...(detail ? { detail } : {}) })),
    };
  }

  /** Everything, the hidden timeline included. */
  facilitatorState(live: Record<string, number | null>): Record<string, unknown> {
    const rec = this.v?.faultRecords;
    return {
      ...this.participantsState(live),
      scenario: this.o.plan.id,
      title: this.o.plan.title,
      seed: this.o.seed,
      deal: { step: this.deal.step.name, description: this.deal.description, dealtAtMs: this.deal.atMs, onSinceMs: this.faultOnMs, held: this.held },
      faults: [...(rec?.values() ?? [])],
      curveballs: this.deal.curveballs.map((s) => ({ step: s.name, description: `${describeFault(s.fault)}${s.forMs !== undefined ? ` for ${s.forMs / 1000}s` : ''}` })),
      hintsAll: this.hints,
      actions: this.actions,
      incident: this.o.plan.incident,
    };
  }
}

/** Live numbers for the consoles, from a Prometheus (the participants' own, for both: the same view). */
async function liveNumbers(prom: StartedPrometheus | undefined): Promise<Record<string, number | null>> {
  if (!prom) return {};
  const q = {
    requestRate: 'sum(rate(chaoslab_client_requests_total[5s]))',
    errorRatio: 'sum(rate(chaoslab_client_requests_total{outcome!="ok"}[5s])) / sum(rate(chaoslab_client_requests_total[5s]))',
    p99Seconds: 'histogram_quantile(0.99, sum by (le) (rate(chaoslab_client_request_duration_seconds_bucket[5s])))',
  };
  const now = Date.now() / 1000;
  const out: Record<string, number | null> = {};
  await Promise.all(
    Object.entries(q).map(async ([k, expr]) => {
      const v = await prom.client
        .query(expr, now)
        .then((r) => r[0]?.points[0]?.[1])
        .catch(() => undefined);
      out[k] = v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000;
    }),
  );
  return out;
}

/**
 * Runs a game to its end; resolves with the score once everything stopped and the files are written. `signal`
 * (SIGTERM, Ctrl-C) ends the game like `gameday end`.
 */
export async function serveGame(o: GameOptions, signal: AbortSignal): Promise<{ score: Score; result: RunResult }> {
  const abort = new AbortController();
  const game = new Game(o, abort);
  let consoles: Consoles | undefined;
  let runDir = '';
  let cachedLive: { at: number; value: Promise<Record<string, number | null>> } | undefined;
  const live = (): Promise<Record<string, number | null>> => {
    if (!cachedLive || Date.now() - cachedLive.at > 900) cachedLive = { at: Date.now(), value: liveNumbers(game.participantsPrometheus) };
    return cachedLive.value;
  };
  const onSignal = () => void game.end('interrupted (signal)').catch(() => undefined);
  signal.addEventListener('abort', onSignal, { once: true });

  const reporter: Reporter = {
    onRunStart: (i) => (runDir = i.runDir),
    onMessage: (line) => o.log(line),
  };
  const resultP = runScenario(gamePlan(o.plan, o.gameMs), {
    projectRoot: o.projectRoot,
    seed: o.seed,
    control: false,
    runsDir: o.runsDir,
    envPath: o.envPath,
    stateDir: o.stateDir,
    reporter,
    signal: abort.signal,
    command: o.command,
    runtime: 'process',
    subscribers: reportWriters,
    ...(o.toxiproxyBinary ? { toxiproxyBinary: o.toxiproxyBinary } : {}),
    ...(o.prometheusBinary ? { prometheusBinary: o.prometheusBinary } : {}),
    onVariantLive: async (v) => {
      const targets = v.parts.addresses.targets.filter((t) => t.labels['job'] !== 'toxiproxy');
      game.participantsPrometheus = await v.parts.cluster.startPrometheus({
        dir: path.join(v.runDir, 'participants', 'prometheus'),
        scrapeIntervalMs: v.scrapeIntervalMs,
        logFile: path.join(v.runDir, 'logs', 'participants-prometheus.log'),
        initialTargets: targets,
        metricRelabelConfigs: PARTICIPANT_RELABEL,
      });
      const prom = v.prometheus ?? (await v.parts.prometheus);
      consoles = await startConsoles(game, live);
      writeGrafanaProvisioning(path.join(v.runDir, 'participants', 'grafana'), game.participantsPrometheus.url, path.join(o.projectRoot, 'dashboards'));
      writeGrafanaProvisioning(path.join(v.runDir, 'grafana'), prom.url, path.join(o.projectRoot, 'dashboards'));
      game.begin(v);
      const record: GameRecord = {
        version: 1,
        game: o.game,
        pid: process.pid,
        scenario: o.plan.id,
        seed: o.seed,
        team: o.team,
        runDir: v.runDir,
        startedAt: new Date().toISOString(),
        participants: { console: `${consoles.participants}/?token=${game.tokens.participants}`, token: game.tokens.participants, prometheus: game.participantsPrometheus.url },
        facilitator: { console: `${consoles.facilitator}/?token=${game.tokens.facilitator}`, token: game.tokens.facilitator, prometheus: prom.url, toxiproxy: v.parts.toxiproxy.url },
      };
      writeGame(o.stateDir, record);
    },
  });
  let result: RunResult;
  try {
    result = await resultP;
  } finally {
    signal.removeEventListener('abort', onSignal);
    forgetGame(o.stateDir, o.game);
  }
  // The run ended by itself (a part failed): still a score, without what Prometheus would have said.
  const score = await game.end(result.variants[0]?.error ? `the run ended: ${result.variants[0].error.message}` : 'the run ended');
  await game.participantsPrometheus?.stop().catch(() => undefined);
  const dir = result.runDir || runDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'score.json'), `${JSON.stringify(score, null, 2)}\n`);
  writeFileSync(path.join(dir, 'debrief.md'), debriefMarkdown(o.plan, game.deal, score));
  insertLanes(dir, lanesHtml(game.deal, score, game.v?.faultRecords ? [...game.v.faultRecords.values()] : [], game.series));
  addToLeaderboard(o.runsDir, score);
  game.settle(score);
  // The response to `gameday end` goes out before the consoles close.
  await sleep(300);
  await consoles?.close();
  return { score, result };
}
