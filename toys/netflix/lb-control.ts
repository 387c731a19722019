/**
 * netflix/lb-control: the load balancers' control plane. Every `pollMs` it asks each load balancer how much traffic
 * it sees, and when one needs more capacity units (a traffic ramp) it reconfigures it: it reads the load balancer's
 * entry from lb-state and pushes the backend set it read, with the new unit count. It trusts what it reads: an entry
 * that is gone reads as no backends (the flaw the deleted state exposed on 24 Dec 2012: load balancers the control
 * plane changed were misconfigured). It only scales up.
 * Params: `lbs` (the load balancers it manages: node groups), `pollMs`, `headroom`, `timeoutMs`. Each load balancer
 * says how much one of its units serves (`unitRps` in its stats).
 */
import { Counter } from 'prom-client';
import { runToyIfMain, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { desiredUnits, type LbConfig } from './logic.js';

interface LbStats extends LbConfig {
  rps: number;
  unitRps: number;
}

export const lbControl: ToySetup = (toy) => {
  const lbs = toy.params.str('lbs', '').split(',').map((s) => s.trim()).filter(Boolean);
  const pollMs = toy.params.num('pollMs', 1000);
  const headroom = toy.params.num('headroom', 1.25);
  const timeoutMs = toy.params.num('timeoutMs', 500);
  const store = toy.peer('lb-state');
  const planes = new Map<string, PeerClient>(lbs.map((lb) => [lb, toy.peer(lb)]));

  const reconfigurations = new Counter({
    name: 'netflix_lb_control_reconfigurations_total',
    help: 'Configuration changes the control plane made, by load balancer and whether its state entry was found.',
    labelNames: ['lb', 'state'],
    registers: [toy.registry],
  });
  const pushes = new Counter({
    name: 'netflix_lb_control_pushes_total',
    help: 'Configurations pushed to a load balancer, by result (applied, refused, error).',
    labelNames: ['lb', 'result'],
    registers: [toy.registry],
  });
  for (const lb of lbs) {
    for (const state of ['found', 'missing']) reconfigurations.inc({ lb, state }, 0);
    for (const result of ['applied', 'refused', 'error']) pushes.inc({ lb, result }, 0);
  }

  async function reconcile(lb: string, plane: PeerClient): Promise<void> {
    const stats = await plane.get('/lb/stats', { timeoutMs });
    if (stats.status !== 200) return;
    const s = stats.body as LbStats;
    const units = desiredUnits(s.rps, s.unitRps, headroom);
    if (units <= s.units) return;
    const read = await store.get(`/state/${encodeURIComponent(lb)}`, { timeoutMs });
    if (read.status !== 200 && read.status !== 404) return; // the store did not answer: try again next poll
    const backends = read.status === 200 ? ((read.body as { backends: string[] }).backends ?? []) : [];
    reconfigurations.inc({ lb, state: read.status === 200 ? 'found' : 'missing' });
    const config: LbConfig = { backends, units, version: s.version + 1 };
    const pushed = await plane.post('/lb/config', config, { timeoutMs });
    const result = pushed.status === 200 ? 'applied' : pushed.status === 409 ? 'refused' : 'error';
    pushes.inc({ lb, result });
    toy.log(`${lb}: ${s.units} → ${units} units at ${s.rps.toFixed(1)} req/s, backends [${backends.join(', ')}]: ${result}`);
  }

  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void Promise.all(
      [...planes].map(([lb, plane]) =>
        reconcile(lb, plane).catch((e: unknown) => {
          pushes.inc({ lb, result: 'error' });
          toy.log(`${lb}: ${e instanceof Error ? e.message : String(e)}`);
        }),
      ),
    ).finally(() => (polling = false));
  }, pollMs);
  toy.onShutdown(() => clearInterval(timer));
};

runToyIfMain(import.meta.url, lbControl);
