/**
 * The load server's process: `node dist/src/workload/remote/load-server-main.js [--host H] [--port N] [--idle-ms N]`
 * (defaults 127.0.0.1, 7070, 60 s), the command of the load generator's pod (or a child process of the lab). The
 * bearer token, when the lab sets one, comes in CHAOSLAB_LOAD_TOKEN (the environment, not argv: argv is
 * world-readable in /proc).
 *
 * Logs JSON lines on stdout: first `{"listening":"http://host:port"}` (with `--port 0`, the port it got), then one
 * per load started and ended, and last `{"closed":"idle"}`. Exits 0 after the idle deadline or SIGTERM (a pod's
 * deletion), 2 on bad arguments, 3 when it cannot listen.
 */
import { parseArgs } from 'node:util';
import { LOAD_SERVER_PORT } from './load-api.js';
import { startLoadServer } from './load-server.js';

/**
 * A minute without a control call: the lab polls every second while a load runs and holds the server between
 * loads (`holdLoadServer`), so silence this long means the lab is gone.
 */
const DEFAULT_IDLE_MS = 60_000;

function fail(code: number, message: string): never {
  process.stderr.write(`load server: ${message}\n`);
  process.exit(code);
}

const args = (() => {
  try {
    return parseArgs({
      options: {
        // Loopback unless told: a pod passes --host 0.0.0.0 for Prometheus to scrape it at the pod's IP.
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: String(LOAD_SERVER_PORT) },
        'idle-ms': { type: 'string', default: String(DEFAULT_IDLE_MS) },
      },
      strict: true,
    }).values;
  } catch (e) {
    return fail(2, `${e instanceof Error ? e.message : String(e)}\nusage: load-server-main.js [--host H] [--port N] [--idle-ms N]`);
  }
})();
const port = Number(args.port);
const idleMs = Number(args['idle-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(2, `--port ${args.port}: expected a port from 0 to 65535`);
if (!Number.isInteger(idleMs) || idleMs < 100 || idleMs > 3_600_000) fail(2, `--idle-ms ${args['idle-ms']}: expected whole milliseconds from 100 to 3600000`);
const token = process.env.CHAOSLAB_LOAD_TOKEN || undefined;

const log = (entry: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(entry)}\n`);
const server = await startLoadServer({ host: args.host, port, idleMs, log, ...(token ? { token } : {}) }).catch((e: unknown) =>
  fail(3, `cannot listen on ${args.host}:${port}: ${e instanceof Error ? e.message : String(e)}`),
);
process.on('SIGTERM', () => void server.close('SIGTERM'));
process.on('SIGINT', () => void server.close('SIGINT'));
log({ listening: server.url });
log({ closed: await server.closed });
process.exit(0);
