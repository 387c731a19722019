/** Ready when Prometheus has scraped every address successfully (`health: up` in its target list). */
import type { ActiveTarget } from '../../observe/prometheus-client.js';
import { PollingWaitStrategy, realClock, type ProbeResult, type WaitClock } from './strategy.js';

export interface TargetSource {
  targets(): Promise<ActiveTarget[]>;
}

export class ScrapeTargetsWaitStrategy extends PollingWaitStrategy {
  constructor(
    readonly client: TargetSource,
    readonly addresses: readonly string[],
    /** Only targets of this scrape pool count (the lab's job). */
    readonly scrapePool: string,
    opts: { timeoutMs?: number; intervalMs?: number; clock?: WaitClock } = {},
  ) {
    super(opts.timeoutMs ?? 20_000, opts.intervalMs ?? 50, opts.clock ?? realClock);
  }

  protected copy(timeoutMs: number): ScrapeTargetsWaitStrategy {
    return new ScrapeTargetsWaitStrategy(this.client, this.addresses, this.scrapePool, { timeoutMs, intervalMs: this.intervalMs, clock: this.clock });
  }

  protected async probe(): Promise<ProbeResult> {
    let listed: ActiveTarget[];
    try {
      listed = (await this.client.targets()).filter((t) => t.scrapePool === this.scrapePool);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const notUp = this.addresses
      .map((a) => {
        const t = listed.find((x) => x.discoveredLabels['__address__'] === a);
        if (!t) return `${a} (not discovered)`;
        if (t.health === 'up') return undefined;
        return `${a} (${t.health}${t.lastError ? `: ${t.lastError}` : ', not scraped yet'})`;
      })
      .filter((x): x is string => x !== undefined);
    return notUp.length === 0 ? true : notUp.join('; ');
  }
}
