/**
 * A minimal OTLP/HTTP traces receiver (JSON, optionally gzip), so toys export with the standard OTLP exporter
 * and the lab alone writes `traces.jsonl`: no file a container must be able to write, no merge after the run.
 * It listens where Prometheus reaches the lab (loopback for processes, the run's bridge for Docker).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { fromOtlpJson, type OtlpTraceRequest } from './span-line.js';
import type { SpanFile } from './span-file.js';

const MAX_BODY = 32 * 1024 * 1024;
const gunzipAsync = promisify(gunzip);

export interface StartedSpanReceiver {
  /** The traces endpoint to give exporters: `http://host:port/v1/traces`. */
  readonly url: string;
  /** Export requests refused (bad JSON, protobuf): a toy misconfigured, which the journal reports. */
  readonly rejected: number;
  stop(): Promise<void>;
}

export async function startSpanReceiver(out: SpanFile, opts: { host: string; port?: number }): Promise<StartedSpanReceiver> {
  let rejected = 0;
  const answer = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') return answer(res, 404, { error: 'POST /v1/traces only' });
    if (!String(req.headers['content-type'] ?? '').includes('json')) {
      rejected++;
      return answer(res, 415, { error: 'only OTLP/HTTP JSON is accepted here (set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json)' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = await gunzipAsync(body);
          out.write(fromOtlpJson(JSON.parse(body.toString('utf8')) as OtlpTraceRequest));
          answer(res, 200, {});
        } catch (e) {
          rejected++;
          answer(res, 400, { error: e instanceof Error ? e.message : String(e) });
        }
      })();
    });
  });
  // Exporters keep their connection; `stop` must not wait for them.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/v1/traces`,
    get rejected() {
      return rejected;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
