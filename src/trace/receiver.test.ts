import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyTooLarge, decodeBody } from './receiver.js';

const limits = { maxBodyBytes: 64 * 1024, maxDecodedBytes: 1024 * 1024 };

describe('decodeBody', () => {
  it('inflates gzip and passes plain JSON through', async () => {
    expect(await decodeBody(gzipSync('{"resourceSpans":[]}'), 'gzip', limits)).toBe('{"resourceSpans":[]}');
    expect(await decodeBody(Buffer.from('{}'), undefined, limits)).toBe('{}');
  });

  it('stops a gzip bomb at the cap: 413, without allocating what it expands to', async () => {
    // 256 gzip members of 1 MiB of zeros each (~256 KiB): one stream that inflates to 256 MiB; the cap is 1 MiB.
    const member = gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 256 }, () => member));
    const big = { ...limits, maxBodyBytes: bomb.length + 1 };
    const before = process.memoryUsage().arrayBuffers;
    const err = await decodeBody(bomb, 'gzip', big).catch((e: unknown) => e);
    const grew = process.memoryUsage().arrayBuffers - before;
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect((err as BodyTooLarge).what).toBe('decompressed body');
    expect(grew).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a compressed or plain body over its cap', async () => {
    await expect(decodeBody(Buffer.alloc(limits.maxBodyBytes + 1), 'gzip', limits)).rejects.toBeInstanceOf(BodyTooLarge);
    await expect(decodeBody(Buffer.alloc(limits.maxDecodedBytes + 1), undefined, { ...limits, maxBodyBytes: Infinity })).rejects.toBeInstanceOf(BodyTooLarge);
  });
});
