/**
 * `Wait.forHttp(url)`, `Wait.forPort(host, port)`, `Wait.forAll([...])`, ...: the one way the lab waits for
 * something to be ready. One file per strategy; each owns its timeout (`withTimeout`).
 */
import type { Readable } from 'node:stream';
import { AllWaitStrategy } from './all-wait.js';
import { HttpWaitStrategy, type HttpWaitOptions } from './http-wait.js';
import { LineWaitStrategy } from './line-wait.js';
import { PortWaitStrategy } from './port-wait.js';
import { ScrapeTargetsWaitStrategy, type TargetSource } from './scrape-targets-wait.js';
import type { WaitStrategy } from './strategy.js';

export const Wait = {
  forHttp: (url: string, opts?: HttpWaitOptions) => new HttpWaitStrategy(url, opts),
  forPort: (host: string, port: number) => new PortWaitStrategy(host, port),
  forAll: (strategies: readonly WaitStrategy[]) => new AllWaitStrategy(strategies),
  forLine: (stream: Readable, line: string) => new LineWaitStrategy(stream, line),
  forScrapeTargets: (client: TargetSource, addresses: readonly string[], scrapePool: string) => new ScrapeTargetsWaitStrategy(client, addresses, scrapePool),
} as const;

export { WaitFailure, type WaitStrategy, type WaitTarget } from './strategy.js';
export { httpGet } from './http-wait.js';
