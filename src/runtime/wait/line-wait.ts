/**
 * Ready when a line appears on a stream: a helper process (the reapers) says `ready` on stdout once it holds the
 * pipe. Any other line is its complaint (the failure's detail) and ends the wait; so does the stream's end (the process exited).
 */
import type { Readable } from 'node:stream';
import { realClock, WaitFailure, type WaitClock, type WaitStrategy, type WaitTarget } from './strategy.js';

export class LineWaitStrategy implements WaitStrategy {
  constructor(
    readonly stream: Readable,
    readonly line: string,
    readonly timeoutMs = 10_000,
    private readonly clock: WaitClock = realClock,
  ) {}

  withTimeout(ms: number): WaitStrategy {
    return new LineWaitStrategy(this.stream, this.line, ms, this.clock);
  }

  waitUntilReady(target: WaitTarget, deadline?: number): Promise<void> {
    const ms = Math.max(0, Math.min(this.timeoutMs, (deadline ?? Infinity) - this.clock.now()));
    const { stream, line } = this;
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => done(new WaitFailure('timeout', target.name, `no "${line}" line`, ms)), ms);
      function done(err?: Error): void {
        clearTimeout(timer);
        stream.off('data', onData);
        stream.off('end', onEnd);
        stream.off('close', onEnd);
        if (err) reject(err);
        else resolve();
      }
      function onData(chunk: Buffer | string): void {
        out += chunk.toString();
        const lines = out.split('\n');
        if (lines.includes(line)) done();
        else if (lines.length > 1) done(new WaitFailure('gone', target.name, lines[0]!.trim(), ms));
      }
      function onEnd(): void {
        // The process's exit status lands just after its output closes.
        setImmediate(() => done(new WaitFailure('gone', target.name, target.gone?.() ?? 'closed its output', ms)));
      }
      stream.on('data', onData);
      stream.once('end', onEnd);
      stream.once('close', onEnd);
    });
  }
}
