import { describe, expect, it } from 'vitest';
import { FailoverDetector, RateWindow, TokenBucket, desiredUnits, judgeConfig, parseLbTable, type LbConfig } from './logic.js';

const cfg = (backends: string[], version = 1, units = 1): LbConfig => ({ backends, units, version });

describe('desiredUnits', () => {
  it('gives a unit per unitRps of traffic with headroom, at least one', () => {
    expect(desiredUnits(0, 40, 1.25)).toBe(1);
    expect(desiredUnits(24, 40, 1.25)).toBe(1); // 30 of a unit's 40
    expect(desiredUnits(33, 40, 1.25)).toBe(2); // past 80% of the units: lb-control reconfigures
    expect(desiredUnits(60, 40, 1.25)).toBe(2);
    expect(desiredUnits(65, 40, 1.25)).toBe(3);
    expect(desiredUnits(32, 40, 1.25)).toBe(1); // exactly full is not over
  });
});

describe('judgeConfig', () => {
  const current = cfg(['api-east-1', 'api-east-2']);
  it('without static stability applies anything, even an empty backend set (the baseline)', () => {
    expect(judgeConfig(current, cfg([], 2, 2), false)).toEqual({ apply: true });
  });
  it('with static stability refuses a configuration that drops more than half of the backends', () => {
    const v = judgeConfig(current, cfg([], 2, 2), true);
    expect(v.apply).toBe(false);
    expect(v.apply === false && v.reason).toMatch(/drops 2 of 2 backends.*keeping version 1/);
    expect(judgeConfig(current, cfg(['api-west-1', 'api-west-2'], 2), true).apply).toBe(false);
  });
  it('with static stability applies a change that keeps half or more (scaling, one backend replaced)', () => {
    expect(judgeConfig(current, cfg(['api-east-1', 'api-east-2'], 2, 3), true)).toEqual({ apply: true });
    expect(judgeConfig(current, cfg(['api-east-1'], 2), true)).toEqual({ apply: true });
    expect(judgeConfig(current, cfg(['api-east-1', 'api-east-3'], 2), true)).toEqual({ apply: true });
  });
  it('lets a load balancer with no backends take any configuration', () => {
    expect(judgeConfig(cfg([]), cfg(['api-east-1'], 2), true)).toEqual({ apply: true });
  });
});

describe('RateWindow', () => {
  it('averages arrivals over its window and forgets older ones', () => {
    const w = new RateWindow(2000);
    for (let t = 0; t < 2000; t += 25) w.add(t); // 40/s
    expect(w.rps(1999)).toBeCloseTo(40, 0);
    expect(w.rps(3000)).toBeLessThan(21);
    expect(w.rps(5000)).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('serves its rate and sheds the rest', () => {
    const b = new TokenBucket(40, 250, 0);
    let served = 0;
    for (let t = 0; t < 10_000; t += 10) if (b.take(t)) served++; // 100/s offered for 10 s
    expect(served).toBeGreaterThanOrEqual(400);
    expect(served).toBeLessThanOrEqual(411); // 40/s and the 10-token burst
  });
  it('takes more after its rate is raised (a unit added)', () => {
    const b = new TokenBucket(40, 250, 0);
    b.setRate(80);
    let served = 0;
    for (let t = 0; t < 10_000; t += 10) if (b.take(t)) served++;
    expect(served).toBeGreaterThan(790);
  });
});

describe('FailoverDetector', () => {
  const opts = { windowMs: 3000, minRequests: 20, errorRatio: 0.2 };
  it('fails over once more than errorRatio of the recent answers failed, with enough answers', () => {
    const d = new FailoverDetector(opts);
    for (let t = 0; t < 10; t++) expect(d.record(t * 10, false)).toBe(false); // too few answers to judge
    let fired = -1;
    for (let i = 0; i < 100 && fired < 0; i++) if (d.record(100 + i * 10, i % 3 !== 0)) fired = i;
    expect(fired).toBeGreaterThanOrEqual(0);
    expect(d.failedOver).toBe(true);
    expect(d.record(5000, false)).toBe(false); // stays failed over: no flapping
  });
  it('stays home at an error ratio at or below the threshold', () => {
    const d = new FailoverDetector(opts);
    for (let i = 0; i < 1000; i++) d.record(i * 10, i % 5 !== 4); // 20% errors, never more in any prefix
    expect(d.failedOver).toBe(false);
  });
  it('forgets errors older than its window', () => {
    const d = new FailoverDetector(opts);
    for (let i = 0; i < 15; i++) d.record(i, false);
    for (let i = 0; i < 100; i++) d.record(4000 + i * 10, true);
    expect(d.failedOver).toBe(false);
  });
  it('goes home again on an operator\'s reset', () => {
    const d = new FailoverDetector(opts);
    for (let i = 0; i < 30; i++) d.record(i, false);
    expect(d.failedOver).toBe(true);
    d.reset();
    expect(d.failedOver).toBe(false);
  });
});

describe('parseLbTable', () => {
  it('reads lb=backend,backend;… and refuses anything else', () => {
    expect(parseLbTable('lb-tv-east=api-east-1,api-east-2; lb-tv-west=api-west-1')).toEqual(
      new Map([
        ['lb-tv-east', ['api-east-1', 'api-east-2']],
        ['lb-tv-west', ['api-west-1']],
      ]),
    );
    expect(() => parseLbTable('lb-tv-east')).toThrow(/expected/);
  });
});
