import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { startSpanReceiver } from './receiver.js';
import { SpanFile } from './span-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-receiver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = (url: string, body: Buffer, gzip: boolean) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) } });

describe('span receiver', () => {
  it('answers a gzip bomb 413 and an oversized body 413, and keeps serving', async () => {
    const out = new SpanFile(path.join(dir, 'a.jsonl'));
    const r = await startSpanReceiver(out, { host: '127.0.0.1', limits: { maxBodyBytes: 1024 * 1024, maxDecodedBytes: 1024 * 1024 } });
    try {
      const member = gzipSync(Buffer.alloc(1024 * 1024));
      const bomb = await post(r.url, Buffer.concat(Array.from({ length: 128 }, () => member)), true);
      expect(bomb.status).toBe(413);
      const big = await post(r.url, Buffer.alloc(2 * 1024 * 1024, 0x20), false).catch((e: unknown) => e);
      // The answer is 413; a client still sending when the connection drops may see the reset instead.
      if (big instanceof Response) expect(big.status).toBe(413);
      expect((await post(r.url, Buffer.from('{"resourceSpans":[]}'), false)).status).toBe(200);
      expect(r.rejected).toBeGreaterThanOrEqual(2);
    } finally {
      await r.stop();
    }
  });

  it('refuses clients that are not the run\'s (403)', async () => {
    const out = new SpanFile(path.join(dir, 'b.jsonl'));
    const r = await startSpanReceiver(out, { host: '127.0.0.1', allowPeer: (a) => a === '10.9.9.9' });
    try {
      expect((await post(r.url, Buffer.from('{"resourceSpans":[]}'), false)).status).toBe(403);
    } finally {
      await r.stop();
    }
  });
});
