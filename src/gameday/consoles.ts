/**
 * The game day's two consoles, each its own HTTP server on 127.0.0.1 with its own token: the participants' (clock,
 * live numbers from their Prometheus, their actions, released hints; never the fault) and the facilitator's (the
 * hidden timeline, hold/advance/curveball/hint/end). The pages poll `/api/state` every second.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { facilitatorPage, participantsPage } from './pages.js';
import type { FacilitatorRequest, Game, Outcome, TeamRequest } from './server.js';

export interface Consoles {
  participants: string;
  facilitator: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function tokenOk(req: http.IncomingMessage, url: URL, want: string): boolean {
  const given = String(req.headers['x-chaoslab-token'] ?? url.searchParams.get('token') ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A participant's request, checked at the edge. */
export function parseTeamRequest(body: unknown): TeamRequest | string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  switch (b['kind']) {
    case 'declare':
    case 'hypothesis':
      return str(b['text']) ? { kind: b['kind'], text: str(b['text'])! } : `${b['kind']} needs "text"`;
    case 'mitigate':
      return str(b['name']) ? { kind: 'mitigate', name: str(b['name'])! } : 'mitigate needs "name"';
    case 'set':
      return str(b['assignment']) ? { kind: 'set', assignment: str(b['assignment'])! } : 'set needs "assignment" (node.param=value)';
    case 'restart':
      return str(b['node']) ? { kind: 'restart', node: str(b['node'])! } : 'restart needs "node"';
    case 'hint':
      return { kind: 'hint' };
    default:
      return `"kind" must be one of declare, hypothesis, mitigate, set, restart, hint`;
  }
}

export function parseFacilitatorRequest(body: unknown): FacilitatorRequest | string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const op = b['op'];
  if (op === 'curveball') return str(b['step']) ? { op, step: str(b['step'])! } : 'curveball needs "step"';
  if (op === 'hold' || op === 'advance' || op === 'hint' || op === 'end' || op === 'abort') return { op };
  return '"op" must be one of hold, advance, hint, curveball, end, abort';
}

type Live = () => Promise<Record<string, number | null>>;

function server(game: Game, side: 'participants' | 'facilitator', live: Live): http.Server {
  const token = game.tokens[side];
  return http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!tokenOk(req, url, token)) return send(res, 403, 'this console needs its token: open the address `gameday start` printed', 'text/plain');
      if (req.method === 'GET' && url.pathname === '/') return send(res, 200, side === 'participants' ? participantsPage() : facilitatorPage(), 'text/html');
      if (req.method === 'GET' && url.pathname === '/api/state') {
        const numbers = await live();
        return send(res, 200, side === 'participants' ? game.participantsState(numbers) : game.facilitatorState(numbers));
      }
      if (req.method === 'POST' && url.pathname === (side === 'participants' ? '/api/action' : '/api/control')) {
        let body: unknown;
        try {
          body = await readJson(req);
        } catch (e) {
          return send(res, 400, { ok: false, detail: `not JSON: ${e instanceof Error ? e.message : String(e)}` });
        }
        const r = side === 'participants' ? parseTeamRequest(body) : parseFacilitatorRequest(body);
        if (typeof r === 'string') return send(res, 400, { ok: false, detail: r });
        let out: Outcome & { score?: unknown };
        if ('op' in r) {
          out = await game.facilitator(r);
          // `end` answers once the game is scored and everything has stopped.
          if (out.ok && (r.op === 'end' || r.op === 'abort')) out = { ...out, detail: 'ended', score: await game.finished };
        } else out = await game.team(r);
        return send(res, out.ok ? 200 : 409, out);
      }
      return send(res, 404, { ok: false, detail: 'no such route' });
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, detail: e instanceof Error ? e.message : String(e) });
    });
  });
}

async function listen(s: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

export async function startConsoles(game: Game, live: Live): Promise<Consoles> {
  const p = server(game, 'participants', live);
  const f = server(game, 'facilitator', live);
  const [participants, facilitator] = await Promise.all([listen(p), listen(f)]);
  const closeOne = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeIdleConnections();
      setTimeout(() => s.closeAllConnections(), 1000).unref();
    });
  return { participants, facilitator, close: async () => void (await Promise.all([closeOne(p), closeOne(f)])) };
}
