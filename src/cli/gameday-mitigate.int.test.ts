/**
 * `chaoslab gameday mitigate` against real toy nodes: the CLI posts to the participants' console, the Game asks the
 * nodes' admin endpoint which params are live, and pushes the mitigation or refuses it. The Spanner replicas run in
 * this process with the cluster file's params (no Toxiproxy, no Prometheus, no load: this checks the config push).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startToy, type RunningToy } from '../../toys/lib/toy-node.js';
import { replica } from '../../toys/spanner/replica.js';
import { startConsoles, type Consoles } from '../gameday/consoles.js';
import { writeGame } from '../gameday/record.js';
import { Game, type GameOptions } from '../gameday/server.js';
import type { VariantContext } from '../run/context.js';
import { loadScenario } from '../scenario/load.js';
import { main, type CliEnv } from './main.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const scenario = path.join(root, 'scenarios/spanner-2016-partition-clock-skew.yaml');

const nodes: RunningToy[] = [];
let consoles: Consoles | undefined;
beforeEach(() => {
  // The replicas log elections and pushes; keep the output readable.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  await consoles?.close();
  await Promise.all(nodes.splice(0).map((n) => n.close(50)));
  vi.restoreAllMocks();
});

/** A game on the Spanner scenario whose replica nodes are real toys; returns the CLI and the replicas' addresses. */
async function gameWithReplicas() {
  const plan = loadScenario(scenario);
  const addresses = new Map<string, string>();
  for (const n of plan.nodes.filter((x) => x.group !== 'app')) {
    const t = await startToy({ name: n.name, group: n.group, index: 0, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { ...plan.cluster.nodes[n.group]!.params }, seed: 1, runId: 't' }, replica);
    nodes.push(t);
    addresses.set(n.name, t.url.replace('http://', ''));
  }
  const v = { plan, parts: { addresses: { addrOf: (name: string) => addresses.get(name) ?? `${name}.invalid:1` } }, t0Perf: performance.now(), emit: () => undefined } as unknown as VariantContext;
  const o = { plan, seed: 1, team: 'blue', game: 'g1', gameMs: 60_000, hintAfterMs: 0, sloTarget: 0.99, log: () => undefined } as unknown as GameOptions;
  const game = new Game(o, new AbortController());
  game.v = v;
  consoles = await startConsoles(game, async () => ({}));
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-gameday-mitigate-'));
  const side = (url: string, token: string) => ({ console: `${url}/?token=${token}`, token, prometheus: 'http://127.0.0.1:1' });
  writeGame(stateDir, {
    version: 1,
    game: 'g1',
    pid: process.pid,
    scenario: plan.id,
    seed: 1,
    team: 'blue',
    runDir: stateDir,
    startedAt: new Date().toISOString(),
    participants: side(consoles.participants, game.tokens.participants),
    facilitator: { ...side(consoles.facilitator, game.tokens.facilitator), toxiproxy: 'http://127.0.0.1:1' },
  });
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (c: Buffer, _e, done) => (add(c.toString()), done()) });
  const env: CliEnv = { cwd: root, path: '', stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), noColor: true, toxiproxyBinary: undefined, prometheusBinary: undefined, stateDir, dockerHost: undefined, otel: {} };
  return { game, addresses, run: (...argv: string[]) => main(argv, env), out: () => out, err: () => err };
}

const liveOf = async (address: string) => ((await (await fetch(`http://${address}/admin/params`)).json()) as { live: Record<string, unknown> }).live;

describe('chaoslab gameday mitigate (real toy nodes)', () => {
  it('refuses a mitigation that sets a start-only param: exit 2, the param named, nothing pushed', async () => {
    const g = await gameWithReplicas();
    expect(await g.run('gameday', 'mitigate', 'monotonic-leases')).toBe(2);
    expect(g.err()).toMatch(/mitigate refused: mitigation "monotonic-leases" cannot be turned on live: leaseDesign \(on [^)]*\), epsilonMs \(on [^)]*\) are start-only params/);
    expect(g.err()).toContain('live there: clockCheck, failFast');
    expect(g.err()).not.toMatch(/\n\s+at /);
    for (const a of g.addresses.values()) expect(await liveOf(a)).toEqual({ clockCheck: false, failFast: false });
    expect(g.game.actions.at(-1)).toMatchObject({ kind: 'mitigate', text: 'monotonic-leases', ok: false });
  });

  it('pushes a live mitigation to every replica: exit 0, and the nodes run with it', async () => {
    const g = await gameWithReplicas();
    expect(await g.run('gameday', 'mitigate', 'degrade-minority')).toBe(0);
    expect(g.out()).toMatch(/^mitigate: .*us-1 ← \{"failFast":true\}/);
    for (const a of g.addresses.values()) expect(await liveOf(a)).toEqual({ clockCheck: false, failFast: true });
  });
});
