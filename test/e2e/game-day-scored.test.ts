/**
 * A scripted game day with the real parts, on the short fixture: `gameday start` deals the hidden fault, the team
 * sees only its own Prometheus and console (checked to name no fault), declares from the console in headless
 * Chromium, mitigates from the CLI, the SLO recovers, `gameday end` scores it; the score's times are the journal's.
 * Before it, `gameday par` replays the same deal with the mitigation at 1 s and 4 s, and the game is scored against it.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { dealIncident, MIN_FAULT_AT_MS } from '../../src/gameday/deal.js';
import type { ParDoc } from '../../src/gameday/par.js';
import { SCORE_STEP_MS, type Score } from '../../src/gameday/score.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runCli } from '../utils/cli.js';

const scenario = 'test/fixtures/scenarios/hello-short.yaml';
const CHROMIUM = process.env.CHAOSLAB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface StartJson {
  game: string;
  runDir: string;
  participants: { console: string; token: string; prometheus: string };
  facilitator: { console: string; token: string; prometheus: string; toxiproxy: string };
}
type Rec = { kind: string; [k: string]: unknown };

const stateDir = mkdtempSync(path.join(tmpdir(), 'chaoslab-gameday-scored-'));
const env = { CHAOSLAB_STATE_DIR: stateDir };
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  // Whatever a failed test left running: end it the way users do, then sweep.
  if (existsSync(path.join(stateDir, 'games')) && readdirSync(path.join(stateDir, 'games')).some((f) => f.endsWith('.json'))) await runCli(['gameday', 'end'], { env });
  await runCli(['clean'], { env });
  rmSync(stateDir, { recursive: true, force: true });
});

async function json<T>(url: string, token?: string): Promise<T> {
  const res = await fetch(url, { headers: token ? { 'x-chaoslab-token': token } : {}, signal: AbortSignal.timeout(5000) });
  return (await res.json()) as T;
}

function journal(runDir: string): Rec[] {
  return readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);
}

async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    v = await read();
  }
  return v;
}

// A seed that deals the fault early, so the game stays short.
const plan = loadScenario(scenario);
const seed = [...Array(40).keys()].map((i) => i + 1).find((s) => dealIncident(plan, s).atMs <= MIN_FAULT_AT_MS + 1000)!;
const deal = dealIncident(plan, seed);
const out = 'runs/e2e-gameday';

describe('a scored game day (process runtime)', () => {
  it("par: the seed's incident replayed with the mitigation at 1 s and 4 s; the earlier one burns less", async () => {
    rmSync(path.join(out, 'hello-short-par'), { recursive: true, force: true });
    const par = await runCli<ParDoc>(['gameday', 'par', scenario, '--seeds', String(seed), '--at', '1s,4s', '--json', '--out', out], { env });
    expect(par.code, par.stderr).toBe(0);
    const doc = par.json;
    expect(JSON.parse(readFileSync(path.join(out, 'hello-short-par', 'par.json'), 'utf8'))).toEqual(doc);
    expect(doc).toMatchObject({ version: 1, scenario: 'hello-short', mitigation: ['timeout-and-fallback'], sweepSeconds: [1, 4] });
    expect(doc.seeds).toHaveLength(1);
    const s = doc.seeds[0]!;
    expect(s.fault).toEqual({ step: deal.step.name, description: deal.description, atMs: deal.atMs });
    const [early, late] = s.points;
    expect(early).toMatchObject({ atSeconds: 1, recovered: true });
    expect(late).toMatchObject({ atSeconds: 4, recovered: true });
    expect(late!.badRequests).toBeGreaterThan(0);
    expect(early!.badRequests).toBeLessThan(late!.badRequests);
    expect(early!.ttmSeconds!).toBeLessThan(late!.ttmSeconds!);
    // Each TTM is from the fault, and no recovery before the push.
    for (const p of s.points) expect(p.recoveredMs!).toBeGreaterThanOrEqual(p.mitigatedMs!);
    expect(s.par).toEqual({ atSeconds: 1, ttmSeconds: early!.ttmSeconds, badRequests: early!.badRequests, errorBudgetBurned: early!.errorBudgetBurned });
    expect(readFileSync(path.join(out, 'hello-short-par', 'par.svg'), 'utf8')).toContain('at 1 s (par)');
    expect(readFileSync(path.join(out, 'hello-short-par', 'par.html'), 'utf8')).toContain('<tr class="par">');
    // The replays are ordinary runs: a journal with the mitigation's push at its time.
    const pushed = journal(s.runDir).filter((r) => r.kind === 'action-end');
    expect(pushed.map((r) => [r['variant'], r['ok']])).toEqual([
      ['mitigate-at-1s', true],
      ['mitigate-at-4s', true],
    ]);
  });

  it('start, hidden fault, declare in the console, mitigate, recovery, end: the score is the journal, and has a par', async () => {

    // The par.json just written is found in the out folder.
    const start = await runCli<StartJson>(['gameday', 'start', scenario, '--seed', String(seed), '--team', 'e2e', '--for', '90s', '--hint-after', '0', '--json', '--out', out], { env });
    expect(start.code, start.stderr).toBe(0);
    const g = start.json;
    const p = g.participants;
    const f = g.facilitator;
    // The output names no fault.
    expect(start.stdout).not.toContain(deal.description);
    expect(start.stdout).not.toContain('frontend_to_backend');

    // Each console wants its own token; the participants' one has no facilitator controls.
    const base = (c: string) => c.split('/?')[0]!;
    expect((await fetch(`${base(p.console)}/api/state`)).status).toBe(403);
    expect((await fetch(`${base(p.console)}/api/state`, { headers: { 'x-chaoslab-token': f.token } })).status).toBe(403);
    expect((await fetch(`${base(p.console)}/api/control`, { method: 'POST', headers: { 'x-chaoslab-token': p.token }, body: '{"op":"end"}' })).status).toBe(404);

    // Both consoles load in headless Chromium and tick.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const team = await browser.newPage();
    const problems: string[] = [];
    team.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    team.on('pageerror', (e) => problems.push(e.message));
    await team.goto(p.console);
    const firstClock = await team.locator('#clock').textContent();
    await expect.poll(() => team.locator('#clock').textContent(), { timeout: 5000 }).not.toBe(firstClock);
    await expect.poll(() => team.locator('#mitigation option').count()).toBeGreaterThan(0);
    const facilitator = await browser.newPage();
    await facilitator.goto(f.console);
    await expect.poll(() => facilitator.locator('#deal').textContent(), { timeout: 5000 }).toContain(deal.description);

    // The hidden fault fires at its dealt time; the facilitator's console shows it, live.
    await expect.poll(() => facilitator.locator('#fault-state').textContent(), { timeout: 15_000 }).toContain('on since');
    await expect.poll(() => facilitator.locator('#actions').textContent(), { timeout: 5000 }).toContain(`lab fault: ${deal.step.name}: ${deal.description}`);

    // The participants' side names no fault: their Prometheus has no fault or phase metric and no Toxiproxy target
    // (the facilitator's has them: the check can fail), and their console's state has no fault word.
    const wanted = ['chaoslab_client_requests_total', 'chaoslab_client_request_duration_seconds_bucket', 'toy_requests_total', 'hello_backend_calls_total'];
    const names = await until(() => json<{ data: string[] }>(`${p.prometheus}/api/v1/label/__name__/values`), (r) => wanted.every((n) => r.data.includes(n)), 10_000);
    expect(names.data).toEqual(expect.arrayContaining(wanted));
    expect(names.data.filter((n) => /fault|phase|toxiproxy|load_target/.test(n))).toEqual([]);
    const jobs = (await json<{ data: { activeTargets: { labels: Record<string, string> }[] } }>(`${p.prometheus}/api/v1/targets`)).data.activeTargets.map((t) => t.labels['job']);
    expect(jobs).not.toContain('toxiproxy');
    const full = await until(() => json<{ data: string[] }>(`${f.prometheus}/api/v1/label/__name__/values`), (r) => r.data.includes('chaoslab_fault_active'), 5000);
    expect(full.data).toContain('chaoslab_fault_active');
    const seen = JSON.stringify(await json(`${base(p.console)}/api/state`, p.token));
    for (const word of [deal.description, 'frontend_to_backend', 'latency', 'slow-backend', 'toxiproxy', plan.id]) expect(seen).not.toContain(word);

    // Once the team's own view shows the SLO broken, it declares from its console: the click lands in the journal.
    await until(() => json<{ live: { p99Seconds: number | null } }>(`${base(p.console)}/api/state`, p.token), (s) => (s.live.p99Seconds ?? 0) > 0.5, 10_000);
    await team.fill('#declare-text', 'p99 over 500ms at the frontend');
    await team.click('#declare');
    const declared = await until(() => journal(g.runDir).find((r) => r.kind === 'gameday' && r['action'] === 'declare'), (r) => r !== undefined, 5000);
    expect(declared).toMatchObject({ by: 'team', text: 'p99 over 500ms at the frontend', ok: true });
    await expect.poll(() => team.locator('#actions').textContent(), { timeout: 5000 }).toContain('declare: p99 over 500ms');

    // Mitigate from the CLI; then the recovery has to hold for 5 s.
    const refused = await runCli(['gameday', 'mitigate', 'no-such-fix'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no mitigation "no-such-fix"');
    const mitigate = await runCli(['gameday', 'mitigate', 'timeout-and-fallback'], { env });
    expect(mitigate.code, mitigate.stderr).toBe(0);
    expect(mitigate.stdout).toContain('frontend ← {"backendTimeoutMs":200,"fallback":true}');
    await until(() => json<{ live: { p99Seconds: number | null } }>(`${base(p.console)}/api/state`, p.token), (s) => s.live.p99Seconds !== null && s.live.p99Seconds < 0.5, 12_000);
    await new Promise((r) => setTimeout(r, 7000));
    expect(problems).toEqual([]);

    const end = await runCli<Score>(['gameday', 'end', '--json'], { env });
    expect(end.code, end.stderr).toBe(0);
    const score = end.json;
    const records = journal(g.runDir);
    const applied = records.find((r) => r.kind === 'fault-applied')!;
    const act = (a: string) => records.find((r) => r.kind === 'gameday' && r['action'] === a && r['ok'] === true)!;
    expect(score).toMatchObject({ scenario: 'hello-short', seed, team: 'e2e', faultStartMs: applied['actualMs'], declaredMs: act('declare')['atMs'], hintsUsed: 0 });
    expect(score.recoveredBy).toEqual({ atMs: act('mitigate')['atMs'], kind: 'mitigate', text: 'timeout-and-fallback' });
    expect(score.firstSignalMs!).toBeGreaterThan(score.faultStartMs!);
    // The team declared on its live view (an instant query); the scored series samples once a second, so its first
    // signal can be up to one step after the click (CI saw 644 ms), never more.
    expect(score.firstSignalMs!).toBeLessThanOrEqual(score.declaredMs! + SCORE_STEP_MS);
    expect(score.detectionLagSeconds).toBeGreaterThanOrEqual(0);
    expect(score.recoveredMs!).toBeGreaterThan(act('mitigate')['atMs'] as number);
    expect(score.ttdSeconds).toBeCloseTo((score.declaredMs! - score.faultStartMs!) / 1000, 2);
    expect(score.ttmSeconds).toBeCloseTo((score.recoveredMs! - score.faultStartMs!) / 1000, 2);
    expect(score.errorBudget!.tooSlow).toBeGreaterThan(0);
    expect(score.errorBudgetBurned).toBeGreaterThan(0);
    expect(score.actions.map((a) => a.kind)).toEqual(['start', 'fault', 'declare', 'mitigate', 'mitigate', 'end']);
    // Scored against the par made above, for this seed.
    const parDoc = JSON.parse(readFileSync(path.join(out, 'hello-short-par', 'par.json'), 'utf8')) as ParDoc;
    const par = parDoc.seeds[0]!.par!;
    expect(score.par).toMatchObject({ available: true, basis: 'seed', seed, parTtmSeconds: par.ttmSeconds, parBadRequests: par.badRequests, teamBadRequests: score.errorBudget!.bad });
    if (!score.par.available) throw new Error('no par');
    expect(score.par.ttmOverParSeconds).toBeCloseTo(score.ttmSeconds! - par.ttmSeconds, 1);
    expect(score.par.summary).toMatch(/^budget (\d+(\.\d)?× par|\d+ bad requests \(par 0\)), TTM [+−]\d+(\.\d)? s$/);

    // What it wrote, and everything stopped.
    expect(JSON.parse(readFileSync(path.join(g.runDir, 'score.json'), 'utf8'))).toEqual(score);
    const debrief = readFileSync(path.join(g.runDir, 'debrief.md'), 'utf8');
    expect(debrief).toContain(`| time to detect (declare − fault start) | ${score.ttdSeconds} s |`);
    expect(debrief).toContain(plan.incident.rootCause);
    expect(readFileSync(path.join(g.runDir, 'report.html'), 'utf8')).toContain('<section id="gameday">');
    expect(readFileSync(path.join(g.runDir, 'participants', 'grafana', 'datasources', 'chaoslab.yaml'), 'utf8')).toContain(`url: ${p.prometheus}`);
    expect(existsSync(path.join(g.runDir, 'logs', 'gameday-server.log'))).toBe(true);
    for (const url of [p.prometheus, f.prometheus, `${f.toxiproxy}/version`, base(p.console)]) await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect((await runCli(['gameday', 'status'], { env })).code).toBe(2);
  });
});
