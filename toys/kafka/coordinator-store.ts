/**
 * The part of ZooKeeper's semantics Kafka's controller depends on, in one process:
 * - sessions kept alive by heartbeats and expired by the SERVER after `timeoutMs` of silence; a client
 *   learns of the expiry only when it next gets through (so a cut-off client keeps believing it is alive);
 * - ephemeral nodes, deleted when their owner's session expires;
 * - a version per node, bumped on every set; set/delete/check may require an expected version, and
 *   `multi` applies a list of operations all-or-nothing (the KAFKA-6082 fix guards every controller write
 *   with a check on /controller_epoch's version);
 * - watches: `waitForChange(sinceZxid)` resolves on the next change under a path prefix (one-shot, like
 *   a ZooKeeper watch; the client re-arms it with the zxid it has seen).
 * Time is injected so tests drive expiry without sleeping.
 */

export type CoordErrorCode = 'NoNode' | 'NodeExists' | 'BadVersion' | 'SessionExpired' | 'BadArguments';

export interface ZNode {
  path: string;
  data: unknown;
  /** 0 at create, +1 on each set. */
  version: number;
  /** Session id for ephemeral nodes. */
  ephemeralOwner: string | null;
  /** zxid of the create and of the last change. */
  czxid: number;
  mzxid: number;
}

export type CoordOp =
  | { op: 'create'; path: string; data: unknown; ephemeral?: boolean }
  | { op: 'set'; path: string; data: unknown; version?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'check'; path: string; version: number };

export type OpResult = { ok: true; node?: ZNode } | { ok: false; code: CoordErrorCode; path: string; message: string };

export interface Session {
  id: string;
  timeoutMs: number;
  lastHeardMs: number;
  expired: boolean;
}

export interface StoreSnapshot {
  zxid: number;
  nodes: Record<string, ZNode>;
}

export interface CoordinatorStoreOptions {
  now: () => number;
  /** ZooKeeper bounds requested timeouts to [2, 20] × tickTime; the toy takes a plain range. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Called for each expired session, with the ephemeral paths it owned (for logs and metrics). */
  onExpire?: (session: Session, ephemerals: string[]) => void;
}

interface Waiter {
  since: number;
  prefix: string;
  resolve: (zxid: number) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const PATH = /^\/([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/;

export class CoordinatorStore {
  readonly #nodes = new Map<string, ZNode>();
  readonly #sessions = new Map<string, Session>();
  /** Last zxid at which each path changed, deletions included, so prefix watches see removals. */
  readonly #changedAt = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();
  readonly #opts: Required<Omit<CoordinatorStoreOptions, 'onExpire'>> & Pick<CoordinatorStoreOptions, 'onExpire'>;
  #zxid = 0;
  #nextSession = 1;

  constructor(opts: CoordinatorStoreOptions) {
    this.#opts = { minSessionTimeoutMs: 200, maxSessionTimeoutMs: 60_000, ...opts };
  }

  get zxid(): number {
    return this.#zxid;
  }

  // ------------------------------------------------------------------ sessions

  createSession(requestedTimeoutMs: number): Session {
    this.expireSessions();
    const timeoutMs = Math.min(this.#opts.maxSessionTimeoutMs, Math.max(this.#opts.minSessionTimeoutMs, Math.round(requestedTimeoutMs)));
    const s: Session = { id: `s${this.#nextSession++}`, timeoutMs, lastHeardMs: this.#opts.now(), expired: false };
    this.#sessions.set(s.id, s);
    return { ...s };
  }

  /** Renews the session; false when it is unknown or already expired (the client must start a new one). */
  heartbeat(sessionId: string): boolean {
    this.expireSessions();
    const s = this.#sessions.get(sessionId);
    if (!s || s.expired) return false;
    s.lastHeardMs = this.#opts.now();
    return true;
  }

  session(sessionId: string): Session | undefined {
    const s = this.#sessions.get(sessionId);
    return s ? { ...s } : undefined;
  }

  /** A clean close: ephemerals go at once, as when a ZooKeeper client closes its session. */
  closeSession(sessionId: string): void {
    const s = this.#sessions.get(sessionId);
    if (!s || s.expired) return;
    this.#expire(s);
  }

  /** Expires every session not heard from within its timeout. Called on every operation and by a timer. */
  expireSessions(): Session[] {
    const now = this.#opts.now();
    const out: Session[] = [];
    for (const s of this.#sessions.values()) {
      if (!s.expired && now - s.lastHeardMs > s.timeoutMs) {
        this.#expire(s);
        out.push({ ...s });
      }
    }
    return out;
  }

  #expire(s: Session): void {
    s.expired = true;
    const owned = [...this.#nodes.values()].filter((n) => n.ephemeralOwner === s.id).map((n) => n.path);
    if (owned.length > 0) {
      const zxid = ++this.#zxid;
      for (const p of owned) {
        this.#nodes.delete(p);
        this.#changedAt.set(p, zxid);
      }
      this.#notify();
    }
    this.#opts.onExpire?.({ ...s }, owned);
  }

  // ------------------------------------------------------------------ reads

  get(path: string): ZNode | undefined {
    this.expireSessions();
    const n = this.#nodes.get(path);
    return n ? { ...n } : undefined;
  }

  /** Direct children's names, sorted. */
  children(path: string): string[] {
    this.expireSessions();
    const base = path === '/' ? '/' : `${path}/`;
    const out = new Set<string>();
    for (const p of this.#nodes.keys()) {
      if (p.startsWith(base) && p !== base) out.add(p.slice(base.length).split('/')[0]!);
    }
    return [...out].sort();
  }

  snapshot(prefix = '/'): StoreSnapshot {
    this.expireSessions();
    const nodes: Record<string, ZNode> = {};
    for (const [p, n] of this.#nodes) if (underPrefix(p, prefix)) nodes[p] = { ...n };
    return { zxid: this.#zxid, nodes };
  }

  // ------------------------------------------------------------------ writes

  create(path: string, data: unknown, sessionId?: string): OpResult {
    return this.multi([{ op: 'create', path, data, ephemeral: sessionId !== undefined }], sessionId);
  }

  set(path: string, data: unknown, version?: number): OpResult {
    return this.multi([version === undefined ? { op: 'set', path, data } : { op: 'set', path, data, version }]);
  }

  delete(path: string, version?: number): OpResult {
    return this.multi([version === undefined ? { op: 'delete', path } : { op: 'delete', path, version }]);
  }

  /**
   * All-or-nothing: every op is validated against the state the earlier ops leave, then all apply under
   * one zxid, or none does and the first failure is returned. One op's result per op on success.
   */
  multi(ops: readonly CoordOp[], sessionId?: string): OpResult & { results?: OpResult[] } {
    this.expireSessions();
    if (ops.length === 0) return { ok: false, code: 'BadArguments', path: '', message: 'empty multi' };
    // Work on a copy of the touched nodes; commit only if every op passes.
    const staged = new Map<string, ZNode | null>();
    const read = (p: string): ZNode | undefined => {
      if (staged.has(p)) return staged.get(p) ?? undefined;
      return this.#nodes.get(p);
    };
    const zxid = this.#zxid + 1;
    const results: OpResult[] = [];
    for (const op of ops) {
      if (!PATH.test(op.path)) return fail('BadArguments', op.path, `bad path "${op.path}"`);
      const cur = read(op.path);
      switch (op.op) {
        case 'create': {
          if (cur) return fail('NodeExists', op.path, `${op.path} exists`);
          // ZooKeeper requires parents to exist; the toy's paths need none (Kafka creates them up front anyway).
          let owner: string | null = null;
          if (op.ephemeral) {
            const s = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
            if (!s || s.expired) return fail('SessionExpired', op.path, `session ${sessionId ?? '(none)'} is expired`);
            owner = s.id;
          }
          const node: ZNode = { path: op.path, data: op.data, version: 0, ephemeralOwner: owner, czxid: zxid, mzxid: zxid };
          staged.set(op.path, node);
          results.push({ ok: true, node: { ...node } });
          break;
        }
        case 'set': {
          if (!cur) return fail('NoNode', op.path, `${op.path} does not exist`);
          if (op.version !== undefined && op.version !== cur.version) return fail('BadVersion', op.path, `${op.path} is at version ${cur.version}, not ${op.version}`);
          const node: ZNode = { ...cur, data: op.data, version: cur.version + 1, mzxid: zxid };
          staged.set(op.path, node);
          results.push({ ok: true, node: { ...node } });
          break;
        }
        case 'delete': {
          if (!cur) return fail('NoNode', op.path, `${op.path} does not exist`);
          if (op.version !== undefined && op.version !== cur.version) return fail('BadVersion', op.path, `${op.path} is at version ${cur.version}, not ${op.version}`);
          staged.set(op.path, null);
          results.push({ ok: true });
          break;
        }
        case 'check': {
          if (!cur) return fail('NoNode', op.path, `${op.path} does not exist`);
          if (op.version !== cur.version) return fail('BadVersion', op.path, `${op.path} is at version ${cur.version}, not ${op.version}`);
          results.push({ ok: true, node: { ...cur } });
          break;
        }
      }
    }
    let changed = false;
    for (const [p, n] of staged) {
      if (n) this.#nodes.set(p, n);
      else this.#nodes.delete(p);
      this.#changedAt.set(p, zxid);
      changed = true;
    }
    if (changed) {
      this.#zxid = zxid;
      this.#notify();
    }
    const first = results[0] ?? { ok: true as const };
    return { ...first, results };
  }

  // ------------------------------------------------------------------ watches

  /** True if a path under `prefix` changed after `since`. */
  changedSince(since: number, prefix = '/'): boolean {
    if (this.#zxid <= since) return false;
    for (const [p, z] of this.#changedAt) if (z > since && underPrefix(p, prefix)) return true;
    return false;
  }

  /**
   * Resolves with the current zxid as soon as something under `prefix` changed after `since`
   * (at once if it already has), or after `timeoutMs` with no change. Session expiries count as changes.
   */
  waitForChange(since: number, timeoutMs: number, prefix = '/'): Promise<number> {
    this.expireSessions();
    if (this.changedSince(since, prefix)) return Promise.resolve(this.#zxid);
    return new Promise((resolve) => {
      const w: Waiter = { since, prefix, resolve, timer: undefined };
      w.timer = setTimeout(() => {
        this.#waiters.delete(w);
        resolve(this.#zxid);
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  get watcherCount(): number {
    return this.#waiters.size;
  }

  /** Wakes every pending watcher (shutdown). */
  close(): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(this.#zxid);
    }
    this.#waiters.clear();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) {
      if (this.changedSince(w.since, w.prefix)) {
        clearTimeout(w.timer);
        this.#waiters.delete(w);
        w.resolve(this.#zxid);
      }
    }
  }
}

function fail(code: CoordErrorCode, path: string, message: string): OpResult {
  return { ok: false, code, path, message };
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  return path === prefix || path.startsWith(`${prefix}/`);
}
