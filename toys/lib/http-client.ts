import http from 'node:http';
import { TRACEPARENT_HEADER } from './trace-context.js';
import { NOOP_TRACER, type ToyTracer } from './tracing.js';

/**
 * HTTP calls to peers. Any status is a reply (the caller judges it); only a call that never produced a full
 * reply throws, as `TimeoutError` or `ConnectionError`. No retries: what the toy sees is what the network did.
 */
export interface PeerReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the peer said `application/json` and it parses, otherwise the text. */
  body: unknown;
  text: string;
}

export interface CallOptions {
  /** Whole-call deadline (connect + reply + body). 0 = none: wait as long as the peer takes. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

export class TimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`${url} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export class ConnectionError extends Error {
  /** The socket error code, e.g. ECONNREFUSED, ECONNRESET. */
  readonly code: string;

  constructor(
    readonly url: string,
    cause: Error & { code?: string },
  ) {
    super(`${url} failed: ${cause.message}`, { cause });
    this.name = 'ConnectionError';
    this.code = cause.code ?? 'ECONNRESET';
  }
}

/**
 * One keep-alive agent per toy. A finite `timeout` is needed for Node to honour the server's
 * `Keep-Alive: timeout=N` hint and drop idle sockets before the server does (else stray ECONNRESETs).
 */
export function createAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, timeout: 60_000, scheduling: 'lifo' });
}

export class PeerClient {
  constructor(
    /** `host:port`, usually a Toxiproxy listener. */
    readonly address: string,
    private readonly agent: http.Agent,
    /** Makes a client span (and sends `traceparent`) for calls made while a traced request is served. */
    private readonly tracer: ToyTracer = NOOP_TRACER,
  ) {}

  get(path: string, opts: CallOptions = {}): Promise<PeerReply> {
    return this.request('GET', path, opts);
  }

  post(path: string, body: unknown, opts: CallOptions = {}): Promise<PeerReply> {
    return this.request('POST', path, { ...opts, body });
  }

  request(method: string, path: string, opts: CallOptions = {}): Promise<PeerReply> {
    const span = this.tracer.client(method, this.address, path);
    if (!span) return this.#send(method, path, opts, undefined);
    return this.#send(method, path, opts, span.traceparent).then(
      (reply) => {
        span.end({ status: reply.status });
        return reply;
      },
      (e: unknown) => {
        span.end({ error: e instanceof TimeoutError ? 'timeout' : e instanceof ConnectionError ? e.code : String(e) });
        throw e;
      },
    );
  }

  #send(method: string, path: string, opts: CallOptions, traceparent: string | undefined): Promise<PeerReply> {
    const url = `http://${this.address}${path}`;
    const timeoutMs = opts.timeoutMs ?? 0;
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...opts.headers };
    if (traceparent !== undefined) headers[TRACEPARENT_HEADER] = traceparent;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }

    return new Promise<PeerReply>((resolve, reject) => {
      let settled = false;
      const controller = new AbortController();
      const timer = timeoutMs > 0 ? setTimeout(() => fail(new TimeoutError(url, timeoutMs)), timeoutMs) : undefined;

      function fail(err: Error): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Aborting destroys the socket, so a late reply can never be read by the next call on it.
        controller.abort();
        reject(err);
      }

      const req = http.request(url, { method, agent: this.agent, headers, signal: controller.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(new ConnectionError(url, e)));
        res.on('close', () => {
          if (!res.complete) fail(new ConnectionError(url, Object.assign(new Error('connection closed mid-reply'), { code: 'ECONNRESET' })));
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseBody(res.headers['content-type'], text), text });
        });
      });
      req.on('error', (e) => fail(new ConnectionError(url, e)));
      req.end(payload);
    });
  }
}

function parseBody(contentType: string | undefined, text: string): unknown {
  if (!contentType?.includes('json') || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
