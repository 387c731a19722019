/**
 * A minimal HTTP/1.1 client over keep-alive TCP sockets: one request per connection at a time (no pipelining),
 * responses framed by Content-Length, chunked encoding, or connection close. It does only what the lab's load
 * needs, and that is why it is cheap: no stream objects and no header maps per request.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpSender, HttpSenderOptions, OutgoingRequest, Sender, SendResponse } from './http-sender.js';

interface Pending {
  req: OutgoingRequest;
  signal: AbortSignal;
  resolve: (r: SendResponse) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
  conn?: Connection;
  done?: boolean;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const DEFAULT_IDLE_LIMIT_MS = 4000;

function httpError(message: string, code: string, notSent = false): Error {
  return Object.assign(new Error(message), { code, ...(notSent ? { notSent: true } : {}) });
}

class Connection {
  readonly socket: net.Socket;
  current: Pending | undefined;
  /** True once the socket connected: errors before that mean nothing was sent. */
  connected = false;
  idleSince = 0;
  /**
   * How long this connection may sit idle and still be reused: a second less than the server's announced
   * keep-alive timeout (Node's default is 5 s), so we never write into a socket the server is closing and
   * report a reset that the system under test did not cause.
   */
  idleLimitMs = DEFAULT_IDLE_LIMIT_MS;
  private buf: Buffer = Buffer.alloc(0);
  private phase: Phase = 'head';
  private status = 0;
  private remaining = 0;
  private closeAfter = false;
  private body: Buffer[] = [];
  private bodySize = 0;

  constructor(
    private readonly pool: TargetPool,
    host: string,
    port: number,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('connect', () => {
      this.connected = true;
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      if (this.phase === 'until-close' && this.current) return this.finish();
      this.fail(httpError('connection closed before the response ended', 'ECONNRESET'));
    });
  }

  write(p: Pending, head: string, body: string | undefined): void {
    this.current = p;
    p.conn = this;
    this.phase = 'head';
    this.socket.write(body === undefined ? head : head + body);
  }

  private fail(err: unknown): void {
    this.socket.destroy();
    const p = this.current;
    this.current = undefined;
    this.pool.dropConnection(this);
    if (p) {
      const notSent = !this.connected;
      const e = notSent && typeof err === 'object' && err !== null ? Object.assign(err, { notSent: true }) : err;
      this.pool.settle(p, undefined, e);
    }
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    try {
      this.parse();
    } catch (err) {
      this.fail(err);
    }
  }

  private takeBody(n: number): void {
    const piece = this.buf.subarray(0, n);
    if (this.bodySize < this.pool.maxBody) {
      this.body.push(piece);
      this.bodySize += piece.length;
    }
    this.buf = this.buf.subarray(n);
  }

  private parse(): void {
    for (;;) {
      switch (this.phase) {
        case 'head': {
          const end = this.buf.indexOf(HEAD_END);
          if (end < 0) {
            if (this.buf.length > MAX_HEAD) throw httpError('response head too large', 'HPE_HEADER_OVERFLOW');
            return;
          }
          const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
          this.buf = this.buf.subarray(end + 4);
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
          if (!m) throw httpError(`malformed status line: ${lines[0]}`, 'HPE_INVALID_CONSTANT');
          this.status = Number(m[1]);
          if (this.status >= 100 && this.status < 200) continue; // informational; the real head follows
          let length = -1;
          let chunked = false;
          this.closeAfter = /^HTTP\/1\.0/.test(lines[0]!);
          for (let i = 1; i < lines.length; i++) {
            const line = lines[i]!;
            const colon = line.indexOf(':');
            if (colon < 0) continue;
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim().toLowerCase();
            if (name === 'content-length') length = Number(value);
            else if (name === 'transfer-encoding') chunked = value.includes('chunked');
            else if (name === 'connection') this.closeAfter = value.includes('close');
            else if (name === 'keep-alive') {
              const t = /timeout=(\d+)/.exec(value);
              if (t) this.idleLimitMs = Math.max(0, Number(t[1]) * 1000 - 1000);
            }
          }
          this.body = [];
          this.bodySize = 0;
          if (this.status === 204 || this.status === 304 || length === 0) return this.finish();
          if (chunked) this.phase = 'chunk-size';
          else if (length > 0) {
            this.phase = 'length';
            this.remaining = length;
          } else {
            this.phase = 'until-close';
            this.closeAfter = true;
          }
          continue;
        }
        case 'length': {
          const n = Math.min(this.remaining, this.buf.length);
          this.takeBody(n);
          this.remaining -= n;
          if (this.remaining > 0) return;
          return this.finish();
        }
        case 'chunk-size': {
          const eol = this.buf.indexOf(CRLF);
          if (eol < 0) return;
          const size = parseInt(this.buf.subarray(0, eol).toString('latin1').split(';')[0]!, 16);
          if (!Number.isFinite(size) || size < 0) throw httpError('malformed chunk size', 'HPE_INVALID_CHUNK_SIZE');
          this.buf = this.buf.subarray(eol + 2);
          this.remaining = size;
          this.phase = size === 0 ? 'trailers' : 'chunk-data';
          continue;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, this.buf.length);
          this.takeBody(n);
          this.remaining -= n;
          if (this.remaining > 0) return;
          this.phase = 'chunk-end';
          continue;
        }
        case 'chunk-end': {
          if (this.buf.length < 2) return;
          this.buf = this.buf.subarray(2);
          this.phase = 'chunk-size';
          continue;
        }
        case 'trailers': {
          // Trailers end with an empty line; without trailers that is the very next CRLF.
          const eol = this.buf.indexOf(CRLF);
          if (eol < 0) return;
          const empty = eol === 0;
          this.buf = this.buf.subarray(eol + 2);
          if (empty) return this.finish();
          continue;
        }
        case 'until-close': {
          this.takeBody(this.buf.length);
          return;
        }
      }
    }
  }

  private finish(): void {
    const p = this.current;
    this.current = undefined;
    const body = this.body.length === 1 ? this.body[0]!.toString() : Buffer.concat(this.body).toString();
    this.body = [];
    this.phase = 'head';
    if (this.closeAfter) {
      this.socket.destroy();
      this.pool.dropConnection(this);
    } else this.pool.release(this);
    if (p) this.pool.settle(p, { status: this.status, body: body.length > this.pool.maxBody ? body.slice(0, this.pool.maxBody) : body });
  }
}

class TargetPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Pending[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly hostHeader: string;

  constructor(
    target: string,
    private readonly maxSockets: number,
    readonly maxBody: number,
    private readonly now: () => number,
  ) {
    const u = new URL(target);
    if (u.protocol !== 'http:') throw httpError(`only http:// targets are supported, got ${target}`, 'ERR_INVALID_URL', true);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.hostHeader = u.host;
  }

  submit(p: Pending): void {
    const conn = this.takeIdle() ?? (this.all.size < this.maxSockets ? this.open() : undefined);
    if (conn) this.start(conn, p);
    else this.queue.push(p);
  }

  settle(p: Pending, res: SendResponse | undefined, err?: unknown): void {
    if (p.done) return;
    p.done = true;
    p.signal.removeEventListener('abort', p.onAbort);
    p.conn = undefined;
    if (res) p.resolve(res);
    else p.reject(err);
  }

  release(conn: Connection): void {
    const next = this.queue.shift();
    if (next) this.start(conn, next);
    else {
      conn.idleSince = this.now();
      this.idle.push(conn);
    }
  }

  /** Most recently used first; connections idle past their limit are closed instead. */
  private takeIdle(): Connection | undefined {
    const now = this.now();
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (now - conn.idleSince < conn.idleLimitMs) return conn;
      this.all.delete(conn);
      conn.socket.destroy();
    }
    return undefined;
  }

  dropConnection(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // A queued request can use the freed connection slot.
    const next = this.queue.shift();
    if (next) this.start(this.open(), next);
  }

  abort(p: Pending): void {
    if (p.done) return;
    const qi = this.queue.indexOf(p);
    if (qi >= 0) this.queue.splice(qi, 1);
    const conn = p.conn;
    if (conn) {
      // The response may still come; this connection cannot be reused.
      conn.current = undefined;
      conn.socket.destroy();
      this.dropConnection(conn);
    }
    this.settle(p, undefined, httpError('request aborted', 'ABORT_ERR'));
  }

  destroy(): void {
    for (const c of this.all) c.socket.destroy();
    for (const p of this.queue.splice(0)) this.settle(p, undefined, httpError('sender closed', 'ABORT_ERR'));
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Connection {
    const c = new Connection(this, this.host, this.port);
    this.all.add(c);
    return c;
  }

  private start(conn: Connection, p: Pending): void {
    const r = p.req;
    let head = `${r.method} ${this.prefix}${r.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    if (r.traceparent !== undefined) head += `traceparent: ${r.traceparent}\r\n`;
    if (r.body !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(r.body)}\r\n`;
    else if (r.method !== 'GET') head += 'Content-Length: 0\r\n';
    conn.write(p, head + '\r\n', r.body);
  }
}

/** Raw keep-alive sockets: the cheapest sender, used by default. */
export function createRawHttpSender(opts: HttpSenderOptions): HttpSender {
  const maxBody = opts.maxBodyChars ?? 64 * 1024;
  const now = opts.now ?? (() => performance.now());
  const pools = new Map<string, TargetPool>();
  const send: Sender = (req, signal) =>
    new Promise<SendResponse>((resolve, reject) => {
      if (signal.aborted) return reject(httpError('request aborted', 'ABORT_ERR', true));
      let pool = pools.get(req.target);
      if (!pool) {
        pool = new TargetPool(req.target, opts.maxSockets, maxBody, now);
        pools.set(req.target, pool);
      }
      const target = pool;
      const p: Pending = { req, signal, resolve, reject, onAbort: () => target.abort(p) };
      signal.addEventListener('abort', p.onAbort, { once: true });
      target.submit(p);
    });
  return {
    send,
    close: async () => {
      for (const p of pools.values()) p.destroy();
      pools.clear();
    },
  };
}
