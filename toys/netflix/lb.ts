/**
 * netflix/lb: one load balancer's data plane (an ELB in one region). `GET /api/{key}` goes round-robin to a backend
 * of its configuration; with no backend it answers 503, and above its capacity (`units` × `unitRps` per second) it
 * sheds with 503. The control plane reads `GET /lb/stats` and pushes `POST /lb/config {backends, units, version}`.
 * It starts with every backend it can reach and one unit (its launch configuration).
 * Params:
 * - `backendGroup`: the node group of its backends (`api-east`).
 * - `staticStability` (default false; live: `POST /admin/params`, judged per push): refuse a configuration that drops more than half of the backends and keep the
 *   last known good one (409). Without it, whatever the control plane pushes is applied.
 * - `unitRps`, `burstMs`: capacity per unit, and the burst a unit absorbs; `backendTimeoutMs`.
 * - `extension` (default ""): a workshop module (toys/lib/extension.ts, exercise 8) that judges each pushed
 *   configuration instead of `staticStability` (LB_EXTENSION).
 */
import { Counter, Gauge } from 'prom-client';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import { HttpError, TimeoutError, runToyIfMain, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { RateWindow, TokenBucket, judgeConfig, type LbConfig } from './logic.js';

/**
 * The data plane's workshop extension point (exercise 8: static stability): `acceptConfig(current, next)` with two
 * `{backends: string[], units: number, version: number}`: true applies `next`, false refuses it (409) and keeps
 * serving `current`, and a `{backends, units}` applies that instead (with next's version). A failed call: the
 * `staticStability` param's verdict.
 */
export const LB_EXTENSION: ExtensionSpec = {
  what: "the load balancer's workshop module",
  functions: { acceptConfig: { required: true, check: configDecision } },
};

function configDecision(v: unknown): string | undefined {
  if (typeof v === 'boolean') return undefined;
  const c = v as Partial<LbConfig> | null;
  const ok = typeof c === 'object' && c !== null && Array.isArray(c.backends) && c.backends.every((b) => typeof b === 'string') && typeof c.units === 'number' && Number.isFinite(c.units) && c.units >= 1;
  return ok ? undefined : 'true, false, or a configuration {backends: string[], units: number >= 1}';
}

export const lb: ToySetup = (toy) => {
  const backendGroup = toy.params.str('backendGroup', 'api');
  // Live: judged per configuration push, so a config push of the flag protects from the next bad configuration on.
  const staticStability = toy.params.liveBool('staticStability', false);
  const unitRps = toy.params.num('unitRps', 40);
  const burstMs = toy.params.num('burstMs', 250);
  const backendTimeoutMs = toy.params.num('backendTimeoutMs', 1000);
  const extension = loadExtension(toy, LB_EXTENSION);
  const peers = toy.peerGroup(backendGroup);
  // Instances are named <group>-1, <group>-2, … (just <group> when there is one).
  const byName = new Map<string, PeerClient>(peers.map((p, i) => [peers.length > 1 ? `${backendGroup}-${i + 1}` : backendGroup, p]));

  let config: LbConfig = { backends: [...byName.keys()], units: 1, version: 0 };
  const now = () => performance.now();
  const bucket = new TokenBucket(unitRps, burstMs, now());
  const arrivals = new RateWindow(2000);
  let next = 0;

  const backendsGauge = new Gauge({ name: 'netflix_lb_backends', help: 'Backends in the configuration the load balancer serves with.', registers: [toy.registry] });
  const unitsGauge = new Gauge({ name: 'netflix_lb_units', help: 'Capacity units of the configuration it serves with.', registers: [toy.registry] });
  const versionGauge = new Gauge({ name: 'netflix_lb_config_version', help: 'Version of the configuration it serves with.', registers: [toy.registry] });
  const applied = new Counter({ name: 'netflix_lb_config_applied_total', help: 'Pushed configurations applied.', registers: [toy.registry] });
  const rejected = new Counter({ name: 'netflix_lb_config_rejected_total', help: 'Pushed configurations refused by static stability (the last known good one was kept).', registers: [toy.registry] });
  const requests = new Counter({
    name: 'netflix_lb_requests_total',
    help: 'Requests through the load balancer, by outcome (ok, no_backend, shed, backend_error, backend_timeout).',
    labelNames: ['outcome'],
    registers: [toy.registry],
  });
  for (const outcome of ['ok', 'no_backend', 'shed', 'backend_error', 'backend_timeout']) requests.inc({ outcome }, 0);
  const show = () => {
    backendsGauge.set(config.backends.filter((b) => byName.has(b)).length);
    unitsGauge.set(config.units);
    versionGauge.set(config.version);
  };
  show();

  toy.route('GET', '/api/:key', async (req) => {
    arrivals.add(now());
    const live = config.backends.filter((b) => byName.has(b));
    if (live.length === 0) {
      requests.inc({ outcome: 'no_backend' });
      return { status: 503, body: { error: 'no backends configured' } };
    }
    if (!bucket.take(now())) {
      requests.inc({ outcome: 'shed' });
      return { status: 503, body: { error: 'over capacity' } };
    }
    const name = live[next++ % live.length]!;
    try {
      const reply = await byName.get(name)!.get(`/api/${encodeURIComponent(req.params.key!)}`, { timeoutMs: backendTimeoutMs });
      requests.inc({ outcome: reply.status === 200 ? 'ok' : 'backend_error' });
      return { status: reply.status === 200 ? 200 : 502, body: reply.body };
    } catch (e) {
      const timeout = e instanceof TimeoutError;
      requests.inc({ outcome: timeout ? 'backend_timeout' : 'backend_error' });
      return { status: timeout ? 504 : 502, body: { error: `${name}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  });

  toy.route('GET', '/lb/stats', () => ({ body: { ...config, unitRps, rps: arrivals.rps(now()) } }));

  toy.route('POST', '/lb/config', async (req) => {
    const body = (await req.json()) as Partial<LbConfig> | undefined;
    if (!Array.isArray(body?.backends) || !body.backends.every((b) => typeof b === 'string') || typeof body.units !== 'number' || typeof body.version !== 'number') {
      throw new HttpError(400, 'expected {"backends": [...], "units": n, "version": n}');
    }
    let proposed: LbConfig = { backends: body.backends, units: Math.max(1, body.units), version: body.version };
    let verdict = judgeConfig(config, proposed, staticStability());
    if (extension) {
      // Copies: the module cannot change what the data plane serves with except through its answer.
      const copy = (c: LbConfig) => ({ backends: [...c.backends], units: c.units, version: c.version });
      const decided = extension.call<boolean | Pick<LbConfig, 'backends' | 'units'>>('acceptConfig', [copy(config), copy(proposed)], verdict.apply);
      if (typeof decided === 'object') proposed = { backends: [...decided.backends], units: Math.max(1, decided.units), version: proposed.version };
      verdict = decided === false ? { apply: false, reason: 'refused by the workshop module' } : { apply: true };
    }
    if (!verdict.apply) {
      rejected.inc();
      toy.log(`config ${proposed.version} refused: ${verdict.reason}`);
      return { status: 409, body: { error: verdict.reason, serving: config } };
    }
    config = proposed;
    bucket.setRate(config.units * unitRps);
    applied.inc();
    show();
    toy.log(`config ${config.version} applied: ${config.units} units, backends [${config.backends.join(', ')}]`);
    return { body: { serving: config } };
  });
};

runToyIfMain(import.meta.url, lb);
