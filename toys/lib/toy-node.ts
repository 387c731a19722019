/**
 * Everything a toy process needs, and the only thing toys share. A toy is a `ToySetup` function: it reads its
 * params, registers routes and metrics, and returns; `runToyIfMain` does the rest (config from env, HTTP server
 * with health/metrics/admin routes, graceful SIGTERM). Toys never know about faults: failures reach them only
 * through the network (Toxiproxy), signals and the process's wall clock (libfaketime).
 *
 * Rules for toys: read wall time through `toy.clock.now()` (`Date.now()`, which a clock fault skews; in-process tests can move it); draw randomness from `toy.rng`;
 * read every param during setup (unread params are refused as typos).
 */
import http from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { Clock } from './clock.js';
import { NODE_CONFIG_ENV, Params, ToyConfigError, parseNodeConfig, type NodeConfig } from './config.js';
import { PeerClient, createAgent } from './http-client.js';
import { HttpError, Router, type Handler } from './http-server.js';
import { createRng, type Rng } from './rng.js';
import { NOOP_TRACER, TRACES_ENV, deferredToyTracer, loadToyTracer, parseTraceConfig, type SpanAttributes, type ToyTracer } from './tracing.js';

export { Clock } from './clock.js';
export { NODE_CONFIG_ENV, Params, ToyConfigError, parseNodeConfig, type NodeConfig, type ParamValue } from './config.js';
export { ConnectionError, PeerClient, TimeoutError, type CallOptions, type PeerReply } from './http-client.js';
export { HttpError, LATENCY_BUCKETS, type Handler, type Reply, type ToyRequest } from './http-server.js';
export { createRng, type Rng } from './rng.js';
export { NOOP_TRACER, type SpanAttributes, type ToyTracer } from './tracing.js';
export { setTimeout as sleep } from 'node:timers/promises';

export interface Toy {
  readonly config: NodeConfig;
  readonly params: Params;
  readonly clock: Clock;
  /** Seeded from `config.seed`, forked by node name: nodes differ, runs replay. */
  readonly rng: Rng;
  /** Register toy metrics here (`registers: [toy.registry]`); `node` and `group` labels are added. */
  readonly registry: Registry;
  /** `GET /health` answers 200 only while true. True unless the toy says otherwise. */
  ready: boolean;
  route(method: string, pattern: string, handler: Handler): void;
  /** A client for `peers[group][index]`; a missing peer is a config error (exit 2). */
  peer(group: string, index?: number): PeerClient;
  peerGroup(group: string): PeerClient[];
  log(message: string): void;
  onShutdown(fn: () => void | Promise<void>): void;
  /** Traces that cross a queue: what a toy needs beyond the HTTP spans the lab's tracing makes by itself. */
  readonly trace: ToyTrace;
}

export interface ToyTrace {
  /** The `traceparent` of the traced request being served now; undefined when it is not traced. Store it with a job. */
  current(): string | undefined;
  /** Runs `fn` inside a span continuing the trace a job carried (its peer calls become children); just runs it otherwise. */
  continue<T>(traceparent: string | undefined, name: string, fn: () => Promise<T>, attributes?: SpanAttributes): Promise<T>;
}

export interface StartOptions {
  /** Default: no tracing. `runToyIfMain` loads one when the lab asks for traces. */
  tracer?: ToyTracer;
}

export type ToySetup = (toy: Toy) => void | Promise<void>;

export interface RunningToy {
  readonly toy: Toy;
  /** The bound port (differs from config when `ports.http` is 0). */
  readonly port: number;
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Reads `CHAOSLAB_NODE`; on a missing or bad config writes why to stderr and exits 2. */
export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  try {
    return parseNodeConfig(env[NODE_CONFIG_ENV]);
  } catch (e) {
    return exitConfigError(e);
  }
}

/** Starts a toy in this process: the entry point uses it, and so do tests. */
export async function startToy(config: NodeConfig, setup: ToySetup, options: StartOptions = {}): Promise<RunningToy> {
  const registry = new Registry();
  registry.setDefaultLabels({ node: config.name, group: config.group });
  const clock = new Clock();
  const params = new Params(config.params);
  const agent = createAgent();
  const tracer = options.tracer ?? NOOP_TRACER;
  const router = new Router(registry, tracer);
  const shutdownHooks: (() => void | Promise<void>)[] = [];

  const toy: Toy = {
    config,
    params,
    clock,
    rng: createRng(config.seed).fork(config.name),
    registry,
    ready: true,
    route: (method, pattern, handler) => router.add(method, pattern, handler),
    peer(group, index = 0) {
      const address = config.peers[group]?.[index];
      if (address === undefined) {
        throw new ToyConfigError(`${config.name} needs peer ${group}[${index}], but peers.${group} has ${config.peers[group]?.length ?? 0} address(es)`);
      }
      return new PeerClient(address, agent, tracer);
    },
    peerGroup: (group) => (config.peers[group] ?? []).map((address) => new PeerClient(address, agent, tracer)),
    log: (message) => process.stdout.write(`${new Date().toISOString()} [${config.name}] ${message}\n`),
    onShutdown: (fn) => void shutdownHooks.push(fn),
    trace: {
      current: () => tracer.current(),
      async continue(traceparent, name, fn, attributes) {
        const span = tracer.consumer(traceparent, name, attributes);
        if (!span) return fn();
        try {
          const result = await span.run(fn);
          span.end();
          return result;
        } catch (e) {
          span.end({ error: e instanceof Error ? e.message : String(e) });
          throw e;
        }
      },
    },
  };

  // Built-ins first, so a toy route can never shadow them.
  router.add('GET', '/health', () => (toy.ready ? { body: { ok: true, node: config.name } } : { status: 503, body: { ok: false, node: config.name } }), false);
  router.add('GET', '/metrics', async () => ({ body: await registry.metrics(), headers: { 'content-type': registry.contentType } }), false);
  router.add('GET', '/admin/config', () => ({ body: config }), false);
  // A config push (a feature flag, a timeout) to the params the toy declared live: how a mitigation is turned on
  // while the node runs. The lab journals who pushed what; the toy only learns new values, never why.
  router.add('GET', '/admin/params', () => ({ body: { live: params.liveValues() } }), false);
  router.add(
    'POST',
    '/admin/params',
    async (req) => {
      const body = await req.json();
      try {
        const live = params.setLive(body);
        toy.log(`config push: ${JSON.stringify(body)}`);
        return { body: { live } };
      } catch (e) {
        if (e instanceof ToyConfigError) throw new HttpError(400, e.message);
        throw e;
      }
    },
    false,
  );
  // The node's wall clock as it reads it: the lab compares it with its own to see when a clock fault took effect.
  router.add('GET', '/admin/clock', () => ({ body: { now: clock.now() } }), false);

  await setup(toy);
  const unread = params.unread();
  if (unread.length > 0) {
    const known = params.read();
    throw new ToyConfigError(
      `unknown param${unread.length > 1 ? 's' : ''} ${unread.map((p) => `"${p}"`).join(', ')} for ${config.group}; it reads: ${known.length > 0 ? known.join(', ') : '(none)'}`,
    );
  }

  const server = http.createServer(router.listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.ports.http, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.ports.http;

  let closing: Promise<void> | undefined;
  return {
    toy,
    port,
    url: `http://${config.host}:${port}`,
    close(graceMs = 1000) {
      closing ??= (async () => {
        toy.ready = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([closed, grace]);
        server.closeAllConnections();
        await closed;
        for (const hook of shutdownHooks) await hook();
        agent.destroy();
        // Last: the spans of the requests that just finished go out too.
        await tracer.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * The toy entry point: `runToyIfMain(import.meta.url, setup)` at the bottom of a toy file starts it when the file
 * is the process entry (`node dist/toys/x/y.js`) and does nothing when a test imports it.
 * Exit codes: 0 after SIGTERM/SIGINT, 2 for a bad config or params, 1 for anything else (e.g. port taken).
 */
export function runToyIfMain(moduleUrl: string, setup: ToySetup): void {
  if (!isEntry(moduleUrl)) return;
  const config = loadNodeConfig();
  // A bad CHAOSLAB_TRACES is a config error (exit 2) found before the toy starts; the SDK itself loads after.
  try {
    parseTraceConfig(process.env[TRACES_ENV]);
  } catch (e) {
    exitConfigError(e);
  }
  let listening!: () => void;
  const tracing = new Promise<void>((r) => (listening = r)).then(() => loadToyTracer(process.env, { service: config.group, instance: config.name, runId: config.runId }));
  const tracer = deferredToyTracer(tracing, (e) => process.stderr.write(`[${config.name}] tracing off: ${e instanceof Error ? e.message : String(e)}\n`));
  startToy(config, setup, { tracer })
    .then(
      (running) => {
        listening();
        running.toy.log(`listening on ${running.url} (pid ${process.pid})`);
        const stop = (signal: string): void => {
          running.toy.log(`${signal}: shutting down`);
          running.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      },
      (e: unknown) => {
        if (e instanceof ToyConfigError) exitConfigError(e);
        process.stderr.write(`[${config.name}] failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
}

function exitConfigError(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`chaoslab toy: ${message}\n`);
  process.exit(2);
}

function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
