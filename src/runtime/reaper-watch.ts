/**
 * What every detached reaper process shares (Docker's, Kubernetes'): the lab holds our stdin; when it closes (the
 * lab exited, crashed or was SIGKILLed), or the owner pid goes away, or SIGTERM comes, we remove what the run
 * made, once, and exit; a `release` line (a kept run) makes us exit without removing anything. Prints `ready` once
 * the engine answered, so the lab creates nothing before its reaper can see the engine (exit 3 otherwise).
 */
import { readStartTime, isSameProcessAlive } from './proc.js';

export interface ReaperSpec {
  ownerPid: number;
  /** Removes what the run made; its own retries, never throws (`chaoslab clean` finishes what it could not). */
  removeAll(): Promise<void>;
  /** Answers once the engine answered; rejects with why not. */
  ping(): Promise<unknown>;
}

export function runReaper(spec: ReaperSpec): void {
  const ownerStart = readStartTime(spec.ownerPid);
  let reaping = false;
  const reap = async (): Promise<void> => {
    if (reaping) return;
    reaping = true;
    clearInterval(ownerWatch);
    await spec.removeAll();
    process.exit(0);
  };
  const ownerWatch = setInterval(() => {
    if (!isSameProcessAlive(spec.ownerPid, ownerStart)) void reap();
  }, 1000);

  // `release` (a kept run): exit without removing anything, before the pipe's close reads as the lab's death.
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    input += chunk;
    if (input.split('\n').includes('release')) {
      reaping = true;
      process.exit(0);
    }
  });
  process.stdin.on('end', () => void reap());
  process.stdin.on('close', () => void reap());
  process.stdin.on('error', () => void reap());
  // Terminal signals are for the lab, which tears down itself; SIGTERM means "reap now".
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => void reap());

  spec.ping().then(
    () => process.stdout.write('ready\n'),
    (e: unknown) => {
      process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(3);
    },
  );
}
