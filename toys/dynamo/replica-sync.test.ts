import { describe, expect, it } from 'vitest';
import { ReplicaSync } from './replica-sync.js';
import { VirtualTimers } from './timers.js';

describe('ReplicaSync', () => {
  it('retries a copy that times out or fails until one succeeds, then stops', () => {
    const timers = new VirtualTimers();
    const answers: ('silent' | 'fail' | 'ok')[] = ['silent', 'fail', 'ok'];
    const log: string[] = [];
    const sync = new ReplicaSync(
      { timeoutMs: 2000, retryMs: 1000 },
      {
        timers,
        copy: (_t, done) => {
          const a = answers.shift();
          if (a === 'fail') timers.after(10, () => done(false));
          if (a === 'ok') timers.after(700, () => done(true));
          return { abort: () => void log.push(`abort@${timers.now()}`) };
        },
        onAttempt: (ok) => void log.push(`${ok}@${timers.now()}`),
        onSynced: () => void log.push(`synced@${timers.now()}`),
      },
    );
    sync.start();
    timers.advance(10_000);
    expect(log).toEqual(['abort@2000', 'false@2000', 'false@3010', 'true@4710', 'synced@4710']);
    expect(sync.synced).toBe(true);
    expect(sync.attempts).toBe(3);
    expect(timers.pending).toBe(0);
  });
});
