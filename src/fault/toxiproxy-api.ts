import { Toxiproxy } from 'toxiproxy-node-client';
import { LabError } from '../errors/lab-error.js';
import { Errors } from '../errors/catalog.js';

/**
 * A thin wrapper over toxiproxy-node-client 4.1 (CJS; its named exports load fine from ESM).
 *
 * The package's own HTTP layer has no timeouts and throws away the status and the server's
 * error body, so we hand it our transport (`LabTransport`, assigned to its public `api` field
 * before any call). Every request — through the package or not — then has a timeout and fails
 * with a `ToxiproxyApiError` that keeps the status and body.
 *
 * Through the package: `version`, `populate`, `createProxy`, `reset`.
 * Plain fetch where the package falls short:
 * - `listProxies`/`getProxy`: the package's `Proxy` drops the `toxics` array;
 * - `listToxics`: the package has no such call;
 * - `addToxic`/`removeToxic`/`deleteProxy`: the package needs a `Proxy`/`Toxic` object first,
 *   which costs extra GETs (one request instead of two or three keeps injection fast);
 * - `setEnabled`: the package updates with the deprecated POST and needs listen/upstream; we PATCH.
 * Our own paths URL-encode names; the package's don't, but none of its calls we use embed a name.
 */

export type ToxicType = 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';
export type ToxicStream = 'upstream' | 'downstream';

export interface ProxyConfig {
  name: string;
  /** `host:port`; port 0 lets Toxiproxy pick one (read it back from the result). */
  listen: string;
  upstream: string;
  enabled?: boolean;
}

export interface ProxySummary {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

export interface ToxicSpec {
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
}

export type ToxicInfo = ToxicSpec;

export interface ProxyInfo extends ProxySummary {
  toxics: ToxicInfo[];
}

export const DEFAULT_API_TIMEOUT_MS = 5_000;

/** A failed Toxiproxy API call. `status` is undefined when no HTTP answer came (refused, timeout). */
export class ToxiproxyApiError extends LabError {
  readonly status: number | undefined;
  /** The server's `error` field, e.g. `proxy not found`. */
  readonly serverError: string | undefined;
  /** The whole parsed body (populate puts the proxies it did create here). */
  readonly body: unknown;
  readonly method: string;
  readonly path: string;
  /** No server listens any more (connection refused): nothing it held exists now. */
  readonly unreachable: boolean;

  constructor(
    init: { method: string; path: string; status?: number; serverError?: string; body?: unknown; unreachable?: boolean; cause?: unknown },
    message: string,
  ) {
    super(Errors.ToxiproxyFailed, message, {
      hint:
        init.status === undefined
          ? 'check that toxiproxy-server is still running and look at its log in the run directory'
          : 'the Toxiproxy API rejected the request; the message has its answer',
      cause: init.cause,
    });
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.serverError = init.serverError;
    this.body = init.body;
    this.unreachable = init.unreachable ?? false;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export function isToxiproxyApiError(e: unknown): e is ToxiproxyApiError {
  return e instanceof ToxiproxyApiError;
}

/** True when the thing is gone: 404, or the server itself is no longer there. Heal treats this as done. */
export function isGoneError(e: unknown): boolean {
  return isToxiproxyApiError(e) && (e.notFound || e.unreachable);
}

interface HttpResponse<T> {
  data: T;
}

/**
 * The request core, shaped like the package's HttpClient (get/post/delete/getText) so the
 * package can use it, plus `request` for the calls we make ourselves.
 */
class LabTransport {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(method: string, pathOrUrl: string, body?: unknown): Promise<T> {
    const text = await this.fetchText(method, pathOrUrl, body);
    return (text.length === 0 ? undefined : JSON.parse(text)) as T;
  }

  async fetchText(method: string, pathOrUrl: string, body?: unknown): Promise<string> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const path = url.startsWith(this.baseUrl) ? url.slice(this.baseUrl.length) || '/' : url;
    const init: RequestInit = { method, signal: AbortSignal.timeout(this.timeoutMs) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, init);
      text = await res.text();
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      const code = errorCode(e);
      const what = timedOut ? `timed out after ${this.timeoutMs} ms` : `could not connect (${code ?? String(e)})`;
      throw new ToxiproxyApiError(
        { method, path, unreachable: code === 'ECONNREFUSED', cause: e },
        `Toxiproxy API ${method} ${path} ${what}`,
      );
    }
    if (!res.ok) {
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the raw text
      }
      const serverError =
        typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string'
          ? (parsed as { error: string }).error
          : text.trim() || undefined;
      throw new ToxiproxyApiError(
        { method, path, status: res.status, serverError, body: parsed },
        `Toxiproxy API ${method} ${path} failed: ${res.status}${serverError ? ` ${serverError}` : ''}`,
      );
    }
    return text;
  }

  // The package's HttpClient surface.
  async get<T>(url: string): Promise<HttpResponse<T>> {
    return { data: await this.request<T>('GET', url) };
  }
  async post<T>(url: string, body?: unknown): Promise<HttpResponse<T>> {
    return { data: await this.request<T>('POST', url, body) };
  }
  async delete(url: string): Promise<void> {
    await this.request('DELETE', url);
  }
  async getText(url: string): Promise<string> {
    return this.fetchText('GET', url);
  }
}

function errorCode(e: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

const enc = encodeURIComponent;

export class ToxiproxyApi {
  readonly url: string;
  private readonly transport: LabTransport;
  private readonly client: Toxiproxy;

  constructor(url: string, opts: { timeoutMs?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.transport = new LabTransport(this.url, opts.timeoutMs ?? DEFAULT_API_TIMEOUT_MS);
    this.client = new Toxiproxy(this.url);
    // The package's HttpClient declares private members, so TS wants a cast; at runtime it only
    // calls get/post/delete/getText, which LabTransport provides.
    this.client.api = this.transport as unknown as Toxiproxy['api'];
  }

  /** The server version, e.g. `2.12.0` (or `git` when built with `go install`). */
  async version(): Promise<string> {
    // The package returns the raw body ('{"version": "2.12.0"}\n'); parse it here.
    const raw = await this.client.getVersion();
    try {
      const parsed = JSON.parse(raw) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // before 2.7.0 the JSON was invalid (#538): fall through to the regex
    }
    const m = /"version"\s*:\s*"([^"]*)"/.exec(raw);
    if (m?.[1] !== undefined) return m[1];
    throw new ToxiproxyApiError({ method: 'GET', path: '/version', status: 200, body: raw }, `Toxiproxy API GET /version answered an unexpected body: ${raw.slice(0, 200)}`);
  }

  /** Creates or keeps proxies (idempotent on the server when listen/upstream are unchanged). */
  async populate(proxies: readonly ProxyConfig[]): Promise<ProxySummary[]> {
    const created = await this.client.populate(proxies.map((p) => ({ ...p })));
    return Object.values(created).map(summary);
  }

  async createProxy(proxy: ProxyConfig): Promise<ProxySummary> {
    return summary(await this.client.createProxy({ ...proxy }));
  }

  async getProxy(name: string): Promise<ProxyInfo> {
    return normaliseProxy(await this.transport.request<ProxyInfo>('GET', `/proxies/${enc(name)}`));
  }

  async listProxies(): Promise<ProxyInfo[]> {
    const byName = await this.transport.request<Record<string, ProxyInfo>>('GET', '/proxies');
    return Object.values(byName ?? {})
      .map(normaliseProxy)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async listToxics(proxy: string): Promise<ToxicInfo[]> {
    return (await this.transport.request<ToxicInfo[] | null>('GET', `/proxies/${enc(proxy)}/toxics`)) ?? [];
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<ToxicInfo> {
    return this.transport.request<ToxicInfo>('POST', `/proxies/${enc(proxy)}/toxics`, toxic);
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await this.transport.request('DELETE', `/proxies/${enc(proxy)}/toxics/${enc(name)}`);
  }

  /** Disabled = listener closed and every tracked connection closed ("down"). */
  async setEnabled(proxy: string, enabled: boolean): Promise<ProxySummary> {
    return summary(await this.transport.request<ProxyInfo>('PATCH', `/proxies/${enc(proxy)}`, { enabled }));
  }

  async deleteProxy(name: string): Promise<void> {
    await this.transport.request('DELETE', `/proxies/${enc(name)}`);
  }

  /** Re-enables every proxy and removes every toxic; proxies stay. */
  async reset(): Promise<void> {
    await this.client.reset();
  }
}

function summary(p: { name: string; listen: string; upstream: string; enabled: boolean }): ProxySummary {
  return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled };
}

function normaliseProxy(p: ProxyInfo): ProxyInfo {
  return { ...summary(p), toxics: p.toxics ?? [] };
}
