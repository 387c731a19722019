import type { ChildProcess } from 'node:child_process';
import { Wait, WaitFailure } from './wait/index.js';

/**
 * Waits for a helper process (a reaper) to print `ready` on stdout. Rejects with an Error saying why not: it
 * exited, it complained (its line is quoted), or the timeout passed.
 */
export async function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  const gone = (): string | undefined => (child.exitCode !== null ? `it exited with code ${child.exitCode}` : child.signalCode ? `it was killed by ${child.signalCode}` : undefined);
  try {
    await Wait.forLine(child.stdout!, 'ready').withTimeout(timeoutMs).waitUntilReady({ name: 'the reaper', gone });
  } catch (e) {
    if (!(e instanceof WaitFailure)) throw e;
    throw new Error(e.outcome === 'timeout' ? `no ready signal within ${timeoutMs} ms` : e.detail);
  }
}
