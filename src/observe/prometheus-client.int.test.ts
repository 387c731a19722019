import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../common/ports.js';
import { PrometheusClient, PrometheusQueryError, parseSampleValue, resultToSeries } from './prometheus-client.js';
import { findPrometheusBinary, startPrometheus, type StartedPrometheus } from './prometheus-server.js';

describe('parsing', () => {
  it('parses Prometheus value strings', () => {
    expect(parseSampleValue('1.5')).toBe(1.5);
    expect(parseSampleValue('+Inf')).toBe(Infinity);
    expect(parseSampleValue('-Inf')).toBe(-Infinity);
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue('1e-3')).toBe(0.001);
  });

  it('normalises matrix, vector and scalar results', () => {
    expect(
      resultToSeries({ resultType: 'matrix', result: [{ metric: { a: 'b' }, values: [[10, '1'], [11, '+Inf']] }] }, 'x'),
    ).toEqual([{ labels: { a: 'b' }, points: [[10, 1], [11, Infinity]] }]);
    expect(resultToSeries({ resultType: 'vector', result: [{ metric: {}, value: [10, 'NaN'] }] }, 'x')[0]!.points[0]![1]).toBeNaN();
    expect(resultToSeries({ resultType: 'scalar', result: [10, '2'] }, 'x')).toEqual([{ labels: {}, points: [[10, 2]] }]);
    expect(() => resultToSeries({ resultType: 'string', result: [10, 's'] }, 'x')).toThrow(PrometheusQueryError);
  });
});

describe('transport failures', () => {
  it('names an unreachable server', async () => {
    const port = await freePort();
    const err = await new PrometheusClient(`http://127.0.0.1:${port}`).query('up', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusQueryError);
    expect((err as PrometheusQueryError).errorType).toBe('unreachable');
    expect((err as PrometheusQueryError).message).toMatch(/ECONNREFUSED/);
  });

  it('times out on a server that never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const t0 = Date.now();
      const err = await new PrometheusClient(`http://127.0.0.1:${port}`, { timeoutMs: 300 }).query('up', 0).catch((e: unknown) => e);
      expect((err as PrometheusQueryError).errorType).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

// The real server is part of what is tested: a missing binary fails these tests (with the
// lab's own "Prometheus not found" message), it never skips them.
const binary = findPrometheusBinary({ envPath: process.env.PATH });

describe('against the real Prometheus', () => {
  let dir: string;
  let prom: StartedPrometheus;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaoslab-promc-'));
    prom = await startPrometheus({ binary: binary!, dir, scrapeIntervalMs: 1000, logFile: path.join(dir, 'log') });
    // A loaded machine can take longer than vitest's default 10 s hook limit; past it, afterAll
    // would run before `prom` is set and leave the server running.
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates scalars and special values', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await prom.client.query('1 + 1', now)).toEqual([{ labels: {}, points: [[now, 2]] }]);
    const inf = await prom.client.query('vector(1) / 0', now);
    expect(inf[0]!.points[0]![1]).toBe(Infinity);
    const nan = await prom.client.query('vector(0) / 0', now);
    expect(nan[0]!.points[0]![1]).toBeNaN();
    const range = await prom.client.queryRange('vector(time())', now - 4, now, 1);
    expect(range[0]!.points.map(([t]) => t)).toEqual([now - 4, now - 3, now - 2, now - 1, now]);
  });

  it("carries Prometheus's errorType and error", async () => {
    const err = await prom.client.query('rate(up)', Date.now() / 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusQueryError);
    expect((err as PrometheusQueryError).errorType).toBe('bad_data');
    expect((err as PrometheusQueryError).prometheusError).toMatch(/range vector/);
    expect((err as PrometheusQueryError).code).toBe('CHAOSLAB_INVALID_PROMQL');
    const bad = await prom.client.queryRange('up', 10, 5, 1).catch((e: unknown) => e);
    expect((bad as PrometheusQueryError).prometheusError).toMatch(/end timestamp must not be before start/);
  });
});
