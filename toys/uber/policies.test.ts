import { describe, expect, it } from 'vitest';
import { backoffDelayMs, RetryBudget } from './retry.js';
import { AdaptiveSampler } from './sampling.js';

describe('retry policy', () => {
  it('backs off exponentially, with full jitter when asked', () => {
    const p = { retries: 3, backoffMs: 100, jitter: false, budgetRatio: 0 };
    expect([1, 2, 3].map((r) => backoffDelayMs(p, r, 0.5))).toEqual([100, 200, 400]);
    expect(backoffDelayMs({ ...p, jitter: true }, 3, 0.25)).toBe(100);
    expect(backoffDelayMs({ ...p, backoffMs: 0 }, 3, 0.9)).toBe(0);
  });

  it('a budget lets retries be at most its ratio of requests once the initial tokens are spent', () => {
    const b = new RetryBudget(0.1, 2);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    let allowed = 0;
    for (let i = 0; i < 100; i++) {
      b.onRequest();
      if (b.tryRetry()) allowed++;
    }
    expect(allowed).toBeGreaterThanOrEqual(9);
    expect(allowed).toBeLessThanOrEqual(10);
  });

  it('no budget (ratio 0) never stops a retry', () => {
    const b = new RetryBudget(0);
    for (let i = 0; i < 50; i++) expect(b.tryRetry()).toBe(true);
  });
});

describe('adaptive sampling', () => {
  it('forwards every update while the shard is fast', () => {
    const s = new AdaptiveSampler({ enabled: true, delayMs: 100, intervalMs: 8000 });
    expect([0, 1000, 2000].map((t) => s.forward(1, t, 50))).toEqual([true, true, true]);
  });

  it('keeps one update per driver per interval while the shard is slow, per driver', () => {
    const s = new AdaptiveSampler({ enabled: true, delayMs: 100, intervalMs: 8000 });
    expect(s.forward(1, 0, 500)).toBe(true);
    expect(s.forward(1, 4000, 500)).toBe(false);
    expect(s.forward(2, 4000, 500)).toBe(true);
    expect(s.forward(1, 8000, 500)).toBe(true);
  });

  it('does nothing when off', () => {
    const s = new AdaptiveSampler({ enabled: false, delayMs: 100, intervalMs: 8000 });
    expect(s.forward(1, 0, 5000) && s.forward(1, 1, 5000)).toBe(true);
  });
});
