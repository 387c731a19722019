/**
 * A minimal OTLP/HTTP traces receiver (JSON, optionally gzip), so toys export with the standard OTLP exporter
 * and the lab alone writes `traces.jsonl`: no file a container must be able to write, no merge after the run.
 * It listens where Prometheus reaches the lab (loopback for processes, the run's bridge for Docker).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { fromOtlpJson, type OtlpTraceRequest } from './span-line.js';
import type { SpanFile } from './span-file.js';

/** A toy's export batch is kilobytes; these bound what a bad or hostile client can make the lab hold. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

export interface BodyLimits {
  maxBodyBytes: number;
  maxDecodedBytes: number;
}

/** A body refused for its size: the answer is 413. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number, readonly what: 'body' | 'decompressed body') {
    super(`the ${what} is larger than ${limit} bytes`);
  }
}

/**
 * The request body as text. A gzip body is inflated with zlib's own output cap, so a small "gzip bomb" stops at
 * the cap instead of allocating what it expands to (~4 GiB).
 */
export function decodeBody(body: Buffer, encoding: string | undefined, limits: BodyLimits = { maxBodyBytes: MAX_BODY_BYTES, maxDecodedBytes: MAX_DECODED_BYTES }): Promise<string> {
  if (body.length > limits.maxBodyBytes) return Promise.reject(new BodyTooLarge(limits.maxBodyBytes, 'body'));
  if (encoding !== 'gzip') {
    if (body.length > limits.maxDecodedBytes) return Promise.reject(new BodyTooLarge(limits.maxDecodedBytes, 'body'));
    return Promise.resolve(body.toString('utf8'));
  }
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: limits.maxDecodedBytes }, (err, out) => {
      if (!err) return resolve(out.toString('utf8'));
      reject((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? new BodyTooLarge(limits.maxDecodedBytes, 'decompressed body') : err);
    });
  });
}

export interface SpanReceiverOptions {
  host: string;
  port?: number;
  /**
   * Whether a client at this remote address belongs to the run (loopback for processes; the run's own network
   * for Docker). Others get 403: under Docker the receiver listens on the bridge's gateway.
   */
  allowPeer?: (address: string) => boolean;
  limits?: BodyLimits;
}

export interface StartedSpanReceiver {
  /** The traces endpoint to give exporters: `http://host:port/v1/traces`. */
  readonly url: string;
  /** Export requests refused (bad JSON, protobuf): a toy misconfigured, which the journal reports. */
  readonly rejected: number;
  stop(): Promise<void>;
}

export async function startSpanReceiver(out: SpanFile, opts: SpanReceiverOptions): Promise<StartedSpanReceiver> {
  const limits = opts.limits ?? { maxBodyBytes: MAX_BODY_BYTES, maxDecodedBytes: MAX_DECODED_BYTES };
  let rejected = 0;
  const answer = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    if (opts.allowPeer && !opts.allowPeer(req.socket.remoteAddress ?? '')) {
      rejected++;
      res.setHeader('connection', 'close');
      return answer(res, 403, { error: 'only the run\'s own nodes may send traces here' });
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') return answer(res, 404, { error: 'POST /v1/traces only' });
    if (!String(req.headers['content-type'] ?? '').includes('json')) {
      rejected++;
      return answer(res, 415, { error: 'only OTLP/HTTP JSON is accepted here (set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json)' });
    }
    const tooLarge = (e: BodyTooLarge): void => {
      rejected++;
      res.setHeader('connection', 'close');
      answer(res, 413, { error: e.message });
    };
    if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) {
      req.resume();
      return tooLarge(new BodyTooLarge(limits.maxBodyBytes, 'body'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size <= limits.maxBodyBytes) return void chunks.push(c);
      // Keep nothing more; answer now, and drop the connection once the answer is out.
      refused = true;
      chunks.length = 0;
      tooLarge(new BodyTooLarge(limits.maxBodyBytes, 'body'));
      res.once('finish', () => req.destroy());
    });
    req.on('end', () => {
      if (refused) return;
      void (async () => {
        try {
          const text = await decodeBody(Buffer.concat(chunks), req.headers['content-encoding'], limits);
          out.write(fromOtlpJson(JSON.parse(text) as OtlpTraceRequest));
          answer(res, 200, {});
        } catch (e) {
          if (e instanceof BodyTooLarge) return tooLarge(e);
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
