/**
 * The load server's process: `node dist/src/workload/remote/load-server-main.js [--host H] [--port N] [--idle-ms N]`
 * (defaults 127.0.0.1, 7070, 60 s), the command of the load generator's pod (or a child process of the lab). The bearer token, when the lab sets one,
 * comes in CHAOSLAB_LOAD_TOKEN (an environment variable, not argv: argv is world-readable in /proc).
 *
 * Prints one JSON line when it listens, `{"listening":"http://host:port"}` (with `--port 0`, the port it got), and
 * one when it closes, `{"closed":"idle"}`; exits 0 after the idle deadline or SIGTERM (a pod's deletion), 2 on bad
 * arguments, 3 when it cannot listen.
 */
import { parseArgs } from 'node:util';
import { LOAD_SERVER_PORT } from './load-api.js';
import { startLoadServer } from './load-server.js';

/** Long enough for a lab's slowest step between polls (a node start, a checker), short enough to end soon after a crash. */
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

const server = await startLoadServer({ host: args.host, port, idleMs, ...(token ? { token } : {}) }).catch((e: unknown) =>
  fail(3, `cannot listen on ${args.host}:${port}: ${e instanceof Error ? e.message : String(e)}`),
);
process.on('SIGTERM', () => void server.close('SIGTERM'));
process.on('SIGINT', () => void server.close('SIGINT'));
process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
const reason = await server.closed;
process.stdout.write(`${JSON.stringify({ closed: reason })}\n`);
process.exit(0);
