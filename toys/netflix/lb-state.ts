/**
 * netflix/lb-state: the load-balancer control plane's state store. It holds, per load balancer, the backend set
 * the control plane configures it with. lb-control reads an entry (`GET /state/{lb}`) whenever it changes that
 * load balancer. The incident's trigger is an operator's maintenance process run against it by mistake: `POST
 * /admin/delete {"lbs": [...]}` deletes entries (nothing else notices at once); `POST /admin/restore` puts back the
 * snapshot taken at start (AWS restored the state from a snapshot overnight).
 * Params: `lbs` (`lb-tv-east=api-east-1,api-east-2;…`: the entries at start).
 */
import { Counter, Gauge } from 'prom-client';
import { HttpError, ToyConfigError, runToyIfMain, type ToySetup } from '../lib/toy-node.js';
import { parseLbTable } from './logic.js';

export const lbState: ToySetup = (toy) => {
  let snapshot: Map<string, string[]>;
  try {
    snapshot = parseLbTable(toy.params.str('lbs', ''));
  } catch (e) {
    throw new ToyConfigError(`lbs: ${e instanceof Error ? e.message : String(e)}`);
  }
  const state = new Map([...snapshot].map(([lb, b]) => [lb, [...b]]));

  const entries = new Gauge({ name: 'netflix_lb_state_entries', help: 'Load balancers whose state the store holds.', registers: [toy.registry] });
  const deleted = new Counter({ name: 'netflix_lb_state_deleted_total', help: 'State entries deleted through the admin API (the operator\'s mistake).', registers: [toy.registry] });
  const reads = new Counter({ name: 'netflix_lb_state_reads_total', help: 'Reads of an entry, by whether it was there.', labelNames: ['found'], registers: [toy.registry] });
  for (const found of ['true', 'false']) reads.inc({ found }, 0);
  entries.set(state.size);

  toy.route('GET', '/state/:lb', (req) => {
    const backends = state.get(req.params.lb!);
    reads.inc({ found: String(backends !== undefined) });
    if (!backends) return { status: 404, body: { error: `no state for ${req.params.lb}` } };
    return { body: { lb: req.params.lb, backends } };
  });

  toy.route('POST', '/admin/delete', async (req) => {
    const body = (await req.json()) as { lbs?: unknown } | undefined;
    const lbs = body?.lbs;
    if (!Array.isArray(lbs) || !lbs.every((l) => typeof l === 'string')) throw new HttpError(400, 'expected {"lbs": ["lb-name", …]}');
    const gone = lbs.filter((lb) => state.delete(lb));
    deleted.inc(gone.length);
    entries.set(state.size);
    toy.log(`admin: deleted the state of ${gone.join(', ') || '(nothing)'}`);
    return { body: { deleted: gone, remaining: [...state.keys()] } };
  });

  toy.route('POST', '/admin/restore', () => {
    for (const [lb, b] of snapshot) state.set(lb, [...b]);
    entries.set(state.size);
    toy.log('admin: state restored from the snapshot');
    return { body: { restored: [...state.keys()] } };
  });
};

runToyIfMain(import.meta.url, lbState);
