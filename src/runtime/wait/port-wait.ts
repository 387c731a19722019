/** Ready when a TCP connection to host:port opens (a server that speaks no HTTP, or before its HTTP is up). */
import net from 'node:net';
import { PollingWaitStrategy, realClock, type ProbeResult, type WaitClock } from './strategy.js';

export type Connect = (host: string, port: number, timeoutMs: number) => Promise<true | string>;

export class PortWaitStrategy extends PollingWaitStrategy {
  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: { timeoutMs?: number; intervalMs?: number; clock?: WaitClock; connect?: Connect } = {},
  ) {
    super(opts.timeoutMs ?? 60_000, opts.intervalMs ?? 25, opts.clock ?? realClock);
  }

  protected copy(timeoutMs: number): PortWaitStrategy {
    return new PortWaitStrategy(this.host, this.port, { ...this.opts, timeoutMs });
  }

  protected probe(remainingMs: number): Promise<ProbeResult> {
    return (this.opts.connect ?? tcpConnect)(this.host, this.port, Math.min(1000, remainingMs));
  }
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`${host}:${port}: no answer within ${timeoutMs} ms`);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(`${host}:${port}: ${e.code ?? e.message}`));
  });
}
