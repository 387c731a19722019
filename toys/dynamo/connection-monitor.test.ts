import { describe, expect, it } from 'vitest';
import { ConnectionMonitor } from './connection-monitor.js';
import { VirtualTimers } from './timers.js';

describe('ConnectionMonitor', () => {
  function setup() {
    const timers = new VirtualTimers();
    let link: 'ok' | 'refused' | 'silent' = 'ok';
    const log: string[] = [];
    const monitor = new ConnectionMonitor(
      { intervalMs: 1000, timeoutMs: 500 },
      {
        timers,
        onLost: () => log.push(`lost@${timers.now()}`),
        onRestored: () => log.push(`restored@${timers.now()}`),
        ping: (_t, done) => {
          if (link === 'ok') timers.after(2, () => done(true));
          else if (link === 'refused') timers.after(1, () => done(false));
          return { abort: () => {} };
        },
      },
    );
    return { timers, monitor, log, set: (l: typeof link) => void (link = l) };
  }

  it('reports a loss once, on the first failed ping after a good one, and the recovery', () => {
    const { timers, monitor, log, set } = setup();
    monitor.start();
    timers.advance(3000);
    expect(log).toEqual([]);
    set('refused');
    timers.advance(5000);
    expect(log).toEqual(['lost@3005']);
    expect(monitor.connected).toBe(false);
    set('ok');
    timers.advance(2000);
    expect(log).toEqual(['lost@3005', 'restored@8011']);
    expect(monitor.losses).toBe(1);
  });

  it('a ping that never answers counts as failed after its timeout', () => {
    const { timers, monitor, log, set } = setup();
    monitor.start();
    set('silent');
    timers.advance(1600);
    expect(log).toEqual(['lost@1500']);
    monitor.stop();
    timers.advance(10_000);
    expect(timers.pending).toBe(0);
  });
});
