import { describe, expect, it } from 'vitest';
import { LoadService } from './load-server.js';
import { pushLabMetrics } from './lab-metrics-push.js';

/** A fetch that hands the request to a LoadService, as the HTTP glue would (the token is the glue's to check). */
function serviceFetch(service: LoadService, calls: { auth: string | null }[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push({ auth: new Headers(init?.headers).get('authorization') });
    const reply = await service.handle({ method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, body: String(init?.body ?? '') });
    return new Response(reply.status === 204 ? null : reply.body, { status: reply.status, headers: { 'content-type': reply.contentType } });
  }) as typeof fetch;
}

describe('the lab metrics pushed to the load server', () => {
  it('are served to Prometheus at /metrics/lab as the lab last pushed them, with the token on every push', async () => {
    const service = new LoadService();
    const calls: { auth: string | null }[] = [];
    let value = 0;
    const push = pushLabMetrics('http://load:7070', async () => `chaoslab_phase{phase="steady"} ${value}\n`, { token: 't0k', intervalMs: 60_000, fetch: serviceFetch(service, calls) });
    try {
      await push.flush();
      value = 1;
      await push.flush();
      const scraped = await service.handle({ method: 'GET', path: '/metrics/lab', query: new URLSearchParams(), body: '' });
      expect(scraped.status).toBe(200);
      expect(scraped.body).toBe('chaoslab_phase{phase="steady"} 1\n');
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(calls.every((c) => c.auth === 'Bearer t0k')).toBe(true);
    } finally {
      push.stop();
    }
  });

  it('reports a failing push once per outage, and goes on pushing', async () => {
    const errors: unknown[] = [];
    let up = false;
    const fetchStub = (async () => (up ? new Response(null, { status: 204 }) : new Response('no', { status: 503 }))) as unknown as typeof fetch;
    const push = pushLabMetrics('http://load:7070', async () => '', { token: 't', intervalMs: 60_000, fetch: fetchStub, onError: (e) => errors.push(e) });
    try {
      await push.flush();
      await push.flush();
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toContain('HTTP 503');
      up = true;
      await push.flush();
      up = false;
      await push.flush();
      expect(errors).toHaveLength(2);
    } finally {
      push.stop();
    }
  });
});
