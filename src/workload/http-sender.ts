/**
 * How the load generator puts a request on the wire. The generator only needs `send(req, signal)`, so tests
 * inject a fake and the default is real HTTP/1.1 with keep-alive connections (raw-http-sender.ts).
 */
import http from 'node:http';
import type { HttpMethod } from './schedule.js';

export interface OutgoingRequest {
  op: string;
  method: HttpMethod;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  target: string;
  /** Path with placeholders filled in. */
  path: string;
  body?: string;
  seq: number;
  key: number;
  /** W3C `traceparent`, sent on the requests the lab traces. */
  traceparent?: string;
}

export interface SendResponse {
  status: number;
  body?: string;
}

/** Rejects on a transport error; should reject soon after `signal` aborts (the generator does not wait for it). */
export type Sender = (req: OutgoingRequest, signal: AbortSignal) => Promise<SendResponse>;

export interface HttpSender {
  send: Sender;
  close(): Promise<void>;
}

/** Error codes that mean the request never left this host, so it definitely did not take effect. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ENETUNREACH', 'EHOSTUNREACH']);

/** True when a send error proves the request was not delivered (Jepsen `:fail` rather than `:info`). */
export function wasNotSent(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; notSent?: unknown; cause?: unknown };
  if (e.notSent === true) return true;
  if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return true;
  return e.cause !== undefined && e.cause !== err && wasNotSent(e.cause);
}

export function errorLabel(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string') return e.code;
    const cause = e.cause as { code?: unknown } | undefined;
    if (cause && typeof cause.code === 'string') return cause.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

export interface HttpSenderOptions {
  /** Connections per target; requests beyond it queue in the agent. */
  maxSockets: number;
  /** Bodies are truncated to this many characters (they only feed results and checkers). */
  maxBodyChars?: number;
  /** Monotonic milliseconds that judge how long a connection sat idle (default performance.now; tests pass their own). */
  now?: () => number;
}

interface Endpoint {
  host: string;
  port: number;
  /** Path of the base URL without its trailing slash, prepended to every request path. */
  prefix: string;
}

function parseTarget(target: string): Endpoint {
  const u = new URL(target);
  if (u.protocol !== 'http:') throw Object.assign(new Error(`only http:// targets are supported, got ${target}`), { notSent: true });
  return { host: u.hostname, port: Number(u.port || 80), prefix: u.pathname.replace(/\/+$/, '') };
}


/** node:http with a keep-alive agent: the reference client (the raw-socket one is about 2× cheaper per request). */
export function createNodeHttpSender(opts: HttpSenderOptions): HttpSender {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets, scheduling: 'lifo' });
  const maxBody = opts.maxBodyChars ?? 64 * 1024;
  const endpoints = new Map<string, Endpoint>();
  const endpointOf = (target: string): Endpoint => {
    let ep = endpoints.get(target);
    if (!ep) {
      ep = parseTarget(target);
      endpoints.set(target, ep);
    }
    return ep;
  };

  const send: Sender = (req, signal) =>
    new Promise<SendResponse>((resolve, reject) => {
      const ep = endpointOf(req.target);
      const headers: http.OutgoingHttpHeaders = {};
      if (req.traceparent !== undefined) headers.traceparent = req.traceparent;
      if (req.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(req.body);
      }
      const r = http.request({ host: ep.host, port: ep.port, method: req.method, path: ep.prefix + req.path, agent, headers, signal }, (res) => {
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (chunk: string) => {
          if (body.length < maxBody) body += chunk.length + body.length > maxBody ? chunk.slice(0, maxBody - body.length) : chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(req.body);
    });

  return {
    send,
    close: async () => agent.destroy(),
  };
}
