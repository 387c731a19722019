import { describe, expect, it } from 'vitest';
import { LOAD_API } from './load-api.js';
import { holdLoadServer } from './load-server-hold.js';

describe('holdLoadServer', () => {
  it('calls the status at its pace with the token, shrugs off failures, and stops when released', async () => {
    const calls: string[] = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(`${new URL(String(input)).pathname} ${(init?.headers as Record<string, string>).authorization}`);
      if (calls.length === 2) throw new TypeError('fetch failed');
      return new Response('{}');
    }) as typeof globalThis.fetch;
    const hold = holdLoadServer('http://127.0.0.1:7070', { intervalMs: 10, token: 't', fetch });
    await new Promise((r) => setTimeout(r, 65));
    hold.release();
    const made = calls.length;
    expect(made).toBeGreaterThanOrEqual(3);
    expect(new Set(calls)).toEqual(new Set([`${LOAD_API.status} Bearer t`]));
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(made);
  });
});
