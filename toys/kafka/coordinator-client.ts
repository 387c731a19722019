/**
 * A broker's client for the coordinator. Calls go through the broker's Toxiproxy link, so any of them can
 * hang or fail: transport failures throw (TimeoutError/ConnectionError from the toy lib), answers return.
 * Like a ZooKeeper client, a broker cut off from the coordinator learns nothing: it only finds out its
 * session expired when a heartbeat gets through again.
 */
import type { PeerClient } from '../lib/toy-node.js';
import type { CoordErrorCode, CoordOp, StoreSnapshot, ZNode } from './coordinator-store.js';

export type WriteResult = { ok: true; results: { ok: true; node?: ZNode }[]; zxid: number } | { ok: false; code: CoordErrorCode; path: string; message: string };

export class CoordinatorClient {
  constructor(
    private readonly peer: PeerClient,
    private readonly timeoutMs: number,
  ) {}

  async createSession(timeoutMs: number): Promise<{ sessionId: string; timeoutMs: number }> {
    const r = await this.peer.post('/session', { timeoutMs }, { timeoutMs: this.timeoutMs });
    if (r.status !== 200) throw new Error(`coordinator refused a session: ${r.status} ${r.text}`);
    return r.body as { sessionId: string; timeoutMs: number };
  }

  /** true: renewed; false: the session is expired (start a new one). */
  async heartbeat(sessionId: string): Promise<boolean> {
    const r = await this.peer.post(`/session/${encodeURIComponent(sessionId)}/heartbeat`, {}, { timeoutMs: this.timeoutMs });
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw new Error(`heartbeat: unexpected ${r.status} ${r.text}`);
  }

  async write(ops: CoordOp[], sessionId?: string): Promise<WriteResult> {
    const r = await this.peer.post('/op', sessionId === undefined ? { ops } : { ops, sessionId }, { timeoutMs: this.timeoutMs });
    if (r.status === 200 || r.status === 409) return r.body as WriteResult;
    throw new Error(`coordinator op: unexpected ${r.status} ${r.text}`);
  }

  async get(path: string): Promise<ZNode | undefined> {
    const r = await this.peer.get(`/node?path=${encodeURIComponent(path)}`, { timeoutMs: this.timeoutMs });
    if (r.status === 200) return r.body as ZNode;
    if (r.status === 404) return undefined;
    throw new Error(`coordinator get: unexpected ${r.status} ${r.text}`);
  }

  /** Long-poll: the tree once it changed after `since`, or unchanged after `waitMs`. */
  async watch(since: number, waitMs: number): Promise<StoreSnapshot> {
    const r = await this.peer.get(`/watch?since=${since}&waitMs=${waitMs}`, { timeoutMs: waitMs + this.timeoutMs });
    if (r.status !== 200) throw new Error(`coordinator watch: unexpected ${r.status} ${r.text}`);
    return r.body as StoreSnapshot;
  }
}
