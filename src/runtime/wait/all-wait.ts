/** Ready when every strategy is, one after the other, within one shared timeout (testcontainers' `forAll`). */
import { realClock, type WaitClock, type WaitStrategy, type WaitTarget } from './strategy.js';

export class AllWaitStrategy implements WaitStrategy {
  constructor(
    readonly strategies: readonly WaitStrategy[],
    readonly timeoutMs: number = Math.max(0, ...strategies.map((s) => s.timeoutMs)),
    private readonly clock: WaitClock = realClock,
  ) {}

  withTimeout(ms: number): WaitStrategy {
    return new AllWaitStrategy(this.strategies, ms, this.clock);
  }

  async waitUntilReady(target: WaitTarget, deadline?: number): Promise<void> {
    const own = this.clock.now() + this.timeoutMs;
    const end = deadline === undefined ? own : Math.min(own, deadline);
    for (const s of this.strategies) await s.waitUntilReady(target, end);
  }
}
