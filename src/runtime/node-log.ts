/**
 * A node's log file as every runtime writes it: the node's own output between marks the lab adds at each start and
 * exit, so restarts are visible and a failure quotes the current incarnation's last lines.
 */
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { ExitStatus, NodeSpec } from './runtime.js';

const START_MARK = '--- chaoslab: start';
const EXIT_MARK = '--- chaoslab: exit';
const LOG_TAIL_LINES = 20;
const LOG_TAIL_BYTES = 8192;

/** Before an incarnation starts; `what` says what runs (the command, the container). */
export function markStart(spec: NodeSpec, what: string): void {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  appendFileSync(spec.logFile, `${START_MARK} ${spec.name} at ${new Date().toISOString()}: ${what}\n`);
}

/**
 * After an incarnation ended. Best effort: it runs where no one could act on a failure (the Docker and Kubernetes
 * exit watches, whose promise is awaited only if the lab stops the node; the process runtime's 'exit' handler), so
 * a log that cannot take the line (ENOSPC, EACCES, its folder gone) must not turn a node's exit into an unhandled
 * rejection or an uncaught exception, either of which ends the lab.
 */
export function markExit(spec: NodeSpec, status: ExitStatus, note = ''): void {
  try {
    appendFileSync(spec.logFile, `${EXIT_MARK} ${spec.name} at ${new Date().toISOString()} (${describeExit(status)}${note})\n`);
  } catch {
    // the mark is for people reading the log; the exit itself is what the lab goes by
  }
}

/** `signal SIGKILL`, `exit code 3`, or `removed` (gone with no status: a container removed behind the lab's back). */
export function describeExit(s: ExitStatus): string {
  if (s.signal) return `signal ${s.signal}`;
  if (s.code === null) return 'removed';
  return `exit code ${s.code}`;
}

/** The current incarnation's last lines, indented for a message; '' when there is no log. */
export function logTail(file: string, lines = LOG_TAIL_LINES): string {
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    return `  | (log unreadable: ${(e as Error).message})`;
  }
  let all = text.split('\n');
  all = all.slice(all.findLastIndex((l) => l.startsWith(START_MARK)) + 1).filter((l) => l !== '' && !l.startsWith(EXIT_MARK));
  return all
    .slice(-lines)
    .map((l) => `  | ${l}`)
    .join('\n');
}

/** `NodeFailed`, with the log's last lines and where the whole log is. */
export function describeFailure(spec: NodeSpec, message: string, opts: { cause?: unknown } = {}): LabError {
  const tail = logTail(spec.logFile);
  return new LabError(Errors.NodeFailed, tail ? `${message}; last lines of its log:\n${tail}` : message, {
    hint: `See the full log: ${spec.logFile}`,
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
  });
}
