import http from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { NOOP_TRACER, type ToyTracer } from './tracing.js';

/** A request as a handler sees it. `params` come from `:name` segments, `params['*']` from a trailing `/*`. */
export interface ToyRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON; a body that does not parse is a 400. */
  json(): Promise<unknown>;
  raw: http.IncomingMessage;
}

/** Replies are JSON. `body: undefined` sends an empty body. */
export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: ToyRequest) => Reply | Promise<Reply>;

/** Throw from a handler to answer with this status and `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  prefix: boolean;
  handler: Handler;
  /** Built-in routes (health, metrics, admin) stay out of the toy's request metrics. */
  counted: boolean;
}

const MAX_BODY = 1 << 20;

/** Latency buckets from 1 ms up to 60 s: timeouts under test range from a few ms to "none". */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Router {
  readonly #routes: Route[] = [];
  readonly #requests: Counter<'route' | 'code'>;
  readonly #duration: Histogram<'route'>;
  readonly #tracer: ToyTracer;

  constructor(registry: Registry, tracer: ToyTracer = NOOP_TRACER) {
    this.#tracer = tracer;
    this.#requests = new Counter({
      name: 'toy_requests_total',
      help: 'Requests served by this toy node, by route pattern and status code.',
      labelNames: ['route', 'code'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'toy_request_duration_seconds',
      help: 'Time to serve a request, by route pattern.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** `pattern`: `/item/:key` (params) or `/files/*` (prefix). First match in registration order wins. */
  add(method: string, pattern: string, handler: Handler, counted = true): void {
    const prefix = pattern.endsWith('/*');
    const segments = (prefix ? pattern.slice(0, -2) : pattern).split('/').filter(Boolean);
    this.#routes.push({ method: method.toUpperCase(), pattern, segments, prefix, handler, counted });
  }

  /** The request listener for `http.createServer`. */
  readonly listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // What escapes #serve (a request target the URL parser refuses, `GET //a:99999/x`; a reply body JSON cannot
    // write) must not be an unhandled rejection: Node would exit, and one odd request would kill the node.
    this.#serve(req, res).catch((e: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      const status = (e as { code?: unknown } | undefined)?.code === 'ERR_INVALID_URL' ? 400 : 500;
      const payload = JSON.stringify({ error: e instanceof Error ? e.message : String(e) });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }).end(payload);
    });
  };

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://toy');
    const method = req.method ?? 'GET';
    const found = this.#match(method, url.pathname);
    let reply: Reply;
    // Only toy routes are traced, and only when the caller sent a traceparent (the lab sends it on sampled requests).
    const traceparent = found?.route.counted ? req.headers.traceparent : undefined;
    const span = traceparent === undefined ? undefined : this.#tracer.server(Array.isArray(traceparent) ? traceparent[0]! : traceparent, method, found!.route.pattern, url.pathname);
    if (!found) {
      reply = { status: this.#routes.some((r) => matchPath(r, url.pathname)) ? 405 : 404, body: { error: `no route for ${method} ${url.pathname}` } };
    } else {
      try {
        const toyReq: ToyRequest = {
          method,
          path: url.pathname,
          params: found.params,
          query: url.searchParams,
          headers: req.headers,
          json: () => readJson(req),
          raw: req,
        };
        const handler = found.route.handler;
        reply = await (span ? span.run(() => handler(toyReq)) : handler(toyReq));
      } catch (e) {
        const status = e instanceof HttpError ? e.status : 500;
        reply = { status, body: { error: e instanceof Error ? e.message : String(e) } };
      }
    }
    const status = reply.status ?? 200;
    const payload = reply.body === undefined ? '' : typeof reply.body === 'string' && reply.headers?.['content-type'] ? reply.body : JSON.stringify(reply.body);
    try {
      // The caller may have given up (its own timeout): nothing to answer then.
      if (!res.destroyed) {
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...reply.headers,
        });
        res.end(payload);
      }
    } catch (e) {
      // A bad header from a handler must not crash the node.
      res.destroy(e instanceof Error ? e : undefined);
    }
    span?.end({ status });
    if (found?.route.counted) {
      const route = found.route.pattern;
      this.#requests.inc({ route, code: String(status) });
      this.#duration.observe({ route }, (performance.now() - started) / 1000);
    }
  }

  #match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method.toUpperCase()) continue;
      const params = matchPath(route, path);
      if (params) return { route, params };
    }
    return undefined;
  }
}

function matchPath(route: Route, path: string): Record<string, string> | undefined {
  const parts = path.split('/').filter(Boolean);
  if (route.prefix ? parts.length < route.segments.length : parts.length !== route.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i]!;
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      try {
        params[seg.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (seg !== part) return undefined;
  }
  if (route.prefix) params['*'] = parts.slice(route.segments.length).join('/');
  return params;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
