/**
 * The facilitator's controls on a Game, over a fake Toxiproxy (the fault layer's test double): the curveball goes
 * on and heals on its own `for`, the dealt fault shows in the facilitator's journal while it is on, and the team
 * never sees either. The real servers are exercised by the game-day e2e test.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeToxiproxy } from '../fault/testing.js';
import type { VariantContext } from '../run/context.js';
import { loadScenario } from '../scenario/load.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import { Game, type GameOptions } from './server.js';

const fixture = path.resolve(import.meta.dirname, '../../test/fixtures/scenarios/hello-short.yaml');

/** hello-short with a second fault step on the same link, so there is a curveball (either: 200 ms long). */
function twoFaultPlan(): ScenarioPlan {
  const plan = loadScenario(fixture);
  const first = { ...plan.steps[0]!, forMs: 200 };
  return { ...plan, steps: [first, { ...first, name: 'slower-backend', index: 1, atMs: 6000 }] };
}

function gameOn(plan: ScenarioPlan, Make: typeof Game = Game) {
  const toxiproxy = new FakeToxiproxy(plan.links.map((l) => l.name));
  const events: Record<string, unknown>[] = [];
  let phase = 'steady';
  const v = {
    plan,
    parts: { toxiproxy: { client: toxiproxy }, addresses: { addrOf: (n: string) => `${n}.invalid:1` } },
    guard: { check: async () => [] },
    watch: undefined,
    nodes: new Map(),
    active: new Map(),
    faultRecords: new Map(),
    t0Perf: performance.now(),
    get phase() {
      return phase;
    },
    setPhase: (p: string) => (phase = p),
    emit: (e: Record<string, unknown>) => events.push(e),
    events: { emit: (e: Record<string, unknown>) => events.push(e) },
  } as unknown as VariantContext;
  const o = { plan, seed: 1, team: 'blue', game: 'g1', gameMs: 60_000, hintAfterMs: 0, sloTarget: 0.99, log: () => undefined } as unknown as GameOptions;
  const game = new Make(o, new AbortController());
  game.v = v;
  return { game, toxiproxy, v, events };
}

describe("the facilitator's curveball", () => {
  it('applies another fault of the scenario now, heals it after its own `for`, and journals both', async () => {
    const { game, toxiproxy, v } = gameOn(twoFaultPlan());
    const curveball = game.deal.curveballs[0]!.name;
    expect(game.facilitatorState({})['curveballs']).toEqual([{ step: curveball, description: expect.stringContaining('latency') }]);

    const out = await game.facilitator({ op: 'curveball', step: curveball });
    expect(out).toEqual({ ok: true, detail: `curveball-1-${curveball}` });
    const link = plan0Link(v);
    expect(toxiproxy.toxicsOf(link)).toHaveLength(1);
    expect(v.faultRecords.get(`curveball-1-${curveball}`)).toMatchObject({ appliedMs: expect.any(Number), healedMs: null });
    expect(game.actions.map((a) => [a.by, a.kind, a.text])).toContainEqual(['facilitator', 'curveball', `curveball-1-${curveball}`]);

    await new Promise((r) => setTimeout(r, 400));
    expect(toxiproxy.toxicsOf(link)).toHaveLength(0);
    expect(v.faultRecords.get(`curveball-1-${curveball}`)!.healedMs).not.toBeNull();
    expect(game.actions.map((a) => a.kind)).toContain('curveball-healed');
    // The team sees neither.
    expect(JSON.stringify(game.participantsState({}))).not.toMatch(/curveball|latency|slow/i);
  });

  it('refuses a step that is not one of the curveballs', async () => {
    const { game, toxiproxy } = gameOn(twoFaultPlan());
    expect(await game.facilitator({ op: 'curveball', step: game.deal.step.name })).toMatchObject({ ok: false, detail: expect.stringContaining('no curveball') });
    expect(toxiproxy.clean).toBe(true);
  });
});

describe("the facilitator's journal", () => {
  it('shows the dealt fault once it is on (advance), with its step and description', async () => {
    const { game, toxiproxy, v } = gameOn(loadScenario(fixture));
    const before = game.facilitatorState({});
    expect(before['faults']).toEqual([]);
    await game.facilitator({ op: 'advance' });
    expect(toxiproxy.toxicsOf(plan0Link(v))).toHaveLength(1);
    const after = game.facilitatorState({}) as { faults: { step: string; appliedMs: number | null }[]; actions: { by: string; kind: string; text: string }[] };
    expect(after.faults).toEqual([expect.objectContaining({ step: 'slow-backend', appliedMs: expect.any(Number) })]);
    expect(after.actions.map((a) => `${a.by} ${a.kind}`)).toEqual(['facilitator advance', 'lab fault']);
    expect(after.actions[1]!.text).toMatch(/^slow-backend: latency/);
    expect(game.faultOn).toBe(true);
    expect(JSON.stringify(game.participantsState({}))).not.toMatch(/slow-backend|latency/);
  });
});

/** The Spanner toy's live params (toys/spanner/replica.ts): the lease design and ε are taken at start only. */
const SPANNER_LIVE = { clockCheck: false, failFast: false };

/** A Game whose nodes answer like the toys' admin endpoint (`GET`/`POST /admin/params`), recording the pushes. */
class GameWithNodes extends Game {
  readonly pushes: { url: string; body: Record<string, unknown> }[] = [];
  protected override async adminCall(url: string, body?: Record<string, unknown>) {
    if (body === undefined) return { ok: true, status: 200, body: { live: SPANNER_LIVE } };
    this.pushes.push({ url, body });
    const bad = Object.keys(body).filter((k) => !(k in SPANNER_LIVE));
    return bad.length ? { ok: false, status: 400, body: { error: `"${bad[0]}" is not a live param` } } : { ok: true, status: 200, body: { live: { ...SPANNER_LIVE, ...body } } };
  }
}

describe('gameday mitigate', () => {
  const spanner = path.resolve(import.meta.dirname, '../../scenarios/spanner-2016-partition-clock-skew.yaml');
  const spannerGame = (): GameWithNodes => gameOn(loadScenario(spanner), GameWithNodes).game as GameWithNodes;

  it('refuses a mitigation that sets a start-only param, naming it, and pushes nothing', async () => {
    const game = spannerGame();
    const r = await game.team({ kind: 'mitigate', name: 'monotonic-leases' });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^mitigation "monotonic-leases" cannot be turned on live: leaseDesign \(on [^)]*us-1[^)]*\), epsilonMs \(on [^)]*\) are start-only params/);
    expect(r.detail).toContain('live there: clockCheck, failFast');
    expect(game.pushes).toEqual([]);
  });

  it('pushes a live mitigation to every node of its groups', async () => {
    const game = spannerGame();
    const r = await game.team({ kind: 'mitigate', name: 'clock-eviction' });
    expect(r.ok).toBe(true);
    expect(game.pushes.length).toBe(game.v!.plan.nodes.filter((n) => ['us', 'eu', 'asia'].includes(n.group)).length);
    expect(game.pushes.every((p) => p.url.endsWith('/admin/params') && p.body['clockCheck'] === true)).toBe(true);
  });
});

function plan0Link(v: VariantContext): string {
  return (v.plan.steps[0]!.fault as { links: string[] }).links[0]!;
}
