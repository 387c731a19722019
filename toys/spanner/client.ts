/**
 * spanner/client: a region's client. The lab's load generator asks it to read or write; it sends the operation
 * to a replica of its own region (through a Toxiproxy link), and records the invocation and the answer in a
 * history that the lab fetches after the run (`GET /history`) and judges with a linearizability checker.
 *
 * Routes: `GET /read/:key` (strong), `POST /write/:key` (writes a value unique to this client),
 * `GET /snapshot/:key` (not recorded: snapshot reads are not meant to be linearizable), `GET /history`.
 * Answers: 200 ok, 503 refused (the op did not happen), 504 indeterminate (a write that may still happen).
 * Params: `regions` (instance i is in the i-th), `opTimeoutMs` (2000).
 */
import { Counter } from 'prom-client';
import { ConnectionError, runToyIfMain, TimeoutError, ToyConfigError, type PeerReply, type ToySetup } from '../lib/toy-node.js';
import { RegisterHistory } from './history.js';

export const client: ToySetup = (toy) => {
  const opTimeoutMs = toy.params.num('opTimeoutMs', 2000);
  // Client instance i lives in region i (`regions: "us,eu,asia"`) and talks only to that region's replicas.
  const regions = toy.params.str('regions', '').split(',').map((r) => r.trim()).filter(Boolean);
  const region = regions[toy.config.index - 1];
  if (region === undefined) throw new ToyConfigError(`${toy.config.name} is instance ${toy.config.index}, but regions lists ${regions.length}: one client per region`);
  const replicas = toy.peerGroup(region);
  if (replicas.length === 0) throw new ToyConfigError(`${toy.config.name} has no peers in region ${region}: link it to that region's replicas`);
  const history = new RegisterHistory(toy.config.index * 10_000_000);
  let seq = 0;
  const ops = new Counter({ name: 'spanner_client_ops_total', help: 'Operations this client completed, by op and outcome (ok, fail, info).', labelNames: ['op', 'outcome'], registers: [toy.registry] });

  const pick = () => replicas[Math.floor(toy.rng.next() * replicas.length)]!;
  const why = (e: unknown) => (e instanceof TimeoutError ? 'timeout' : e instanceof ConnectionError ? e.code : String(e));

  toy.route('GET', '/read/:key', async (req) => {
    const key = req.params.key!;
    const done = history.invoke('read', key, null);
    let r: PeerReply;
    try {
      r = await pick().get(`/kv/${encodeURIComponent(key)}`, { timeoutMs: opTimeoutMs });
    } catch (e) {
      // A read that got no answer changed nothing; Jepsen still records it as indeterminate.
      done('info', null, why(e));
      ops.inc({ op: 'read', outcome: 'info' });
      return { status: 504, body: { error: why(e) } };
    }
    if (r.status === 200) {
      const value = (r.body as { value: string | null }).value;
      done('ok', value);
      ops.inc({ op: 'read', outcome: 'ok' });
      return { body: r.body };
    }
    done('fail', null, `status ${r.status}`);
    ops.inc({ op: 'read', outcome: 'fail' });
    return { status: 503, body: r.body };
  });

  toy.route('POST', '/write/:key', async (req) => {
    const key = req.params.key!;
    const value = `${toy.config.name}-${++seq}`;
    const done = history.invoke('write', key, value);
    let r: PeerReply;
    try {
      r = await pick().post(`/kv/${encodeURIComponent(key)}`, { value }, { timeoutMs: opTimeoutMs });
    } catch (e) {
      done('info', value, why(e));
      ops.inc({ op: 'write', outcome: 'info' });
      return { status: 504, body: { error: why(e) } };
    }
    if (r.status === 200) {
      done('ok');
      ops.inc({ op: 'write', outcome: 'ok' });
      return { body: r.body };
    }
    // 503: refused before it was appended anywhere; anything else may still take effect.
    const definite = r.status === 503;
    done(definite ? 'fail' : 'info', value, `status ${r.status}`);
    ops.inc({ op: 'write', outcome: definite ? 'fail' : 'info' });
    return { status: definite ? 503 : 504, body: r.body };
  });

  toy.route('GET', '/snapshot/:key', async (req) => {
    const key = req.params.key!;
    try {
      const r = await pick().get(`/snapshot/${encodeURIComponent(key)}`, { timeoutMs: opTimeoutMs });
      return { status: r.status, body: r.body };
    } catch (e) {
      return { status: 504, body: { error: why(e) } };
    }
  });

  toy.route('GET', '/history', () => ({ body: history.toJsonLines(), headers: { 'content-type': 'application/x-ndjson' } }));
};

runToyIfMain(import.meta.url, client);
