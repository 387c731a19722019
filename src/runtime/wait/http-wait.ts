/** Ready when an HTTP GET answers with the expected status (and body). */
import http from 'node:http';
import { PollingWaitStrategy, realClock, type ProbeResult, type WaitClock } from './strategy.js';

export interface HttpWaitOptions {
  /** Default 200. */
  status?: number;
  /** The body must pass too (read only when given). */
  body?: (text: string) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
  clock?: WaitClock;
  /** One probe; injectable for tests. */
  get?: HttpGet;
}

export type HttpGet = (url: string, timeoutMs: number, readBody: boolean) => Promise<{ status: number; body: string } | string>;

const PER_PROBE_MS = 1000;

export class HttpWaitStrategy extends PollingWaitStrategy {
  constructor(
    readonly url: string,
    private readonly opts: HttpWaitOptions = {},
  ) {
    super(opts.timeoutMs ?? 60_000, opts.intervalMs ?? 25, opts.clock ?? realClock);
  }

  protected copy(timeoutMs: number): HttpWaitStrategy {
    return new HttpWaitStrategy(this.url, { ...this.opts, timeoutMs });
  }

  /** Same URL, another body check. */
  forResponse(body: (text: string) => boolean): HttpWaitStrategy {
    return new HttpWaitStrategy(this.url, { ...this.opts, body });
  }

  protected async probe(remainingMs: number): Promise<ProbeResult> {
    const answer = await (this.opts.get ?? httpGet)(this.url, Math.min(PER_PROBE_MS, remainingMs), this.opts.body !== undefined);
    if (typeof answer === 'string') return answer;
    if (answer.status !== (this.opts.status ?? 200)) return `${this.url}: status ${answer.status}`;
    if (this.opts.body && !this.opts.body(answer.body)) return `${this.url}: unexpected answer`;
    return true;
  }
}

const MAX_BODY = 64 * 1024;

/**
 * One GET on a fresh connection (no agent state to leak); why there was no answer otherwise. node:http rather
 * than fetch: on a cold process fetch's first request costs ~20 ms more, and readiness is on every run's path.
 */
export function httpGet(url: string, timeoutMs: number, readBody: boolean): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (!readBody) {
        res.resume();
        return resolve({ status, body: '' });
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < MAX_BODY) body += c;
      });
      res.on('end', () => resolve({ status, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(`${url}: ${e.code ?? e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`${url}: ${e.code ?? e.message}`));
  });
}
