import { describe, expect, it } from 'vitest';
import { identityMatches, isOurProcess, processEntry, readCmdline, readStartTime, readUid, type ProcessEntry } from './proc.js';

const seen = { startTime: '1234', uid: 1000, cmdline: 'node /app/toys/hello/backend.js' };
const entry: ProcessEntry = { pid: 4242, startTime: '1234', label: 'backend', uid: 1000, cmdline: 'node /app/toys/hello/backend.js' };

describe('identityMatches (what a record must match before the lab signals a process)', () => {
  it('accepts the very process that was registered', () => {
    expect(identityMatches(entry, seen, 1000)).toBe(true);
  });

  it('refuses a recycled pid, another user\'s process, another command, and a record without a command line', () => {
    expect(identityMatches(entry, { ...seen, startTime: '99' }, 1000)).toBe(false);
    // The process belongs to someone else, whatever the record claims.
    expect(identityMatches({ ...entry, uid: 0 }, { ...seen, uid: 0 }, 1000)).toBe(false);
    expect(identityMatches(entry, { ...seen, cmdline: '/usr/sbin/sshd -D' }, 1000)).toBe(false);
    const { cmdline: _c, ...forged } = entry;
    expect(identityMatches(forged, seen, 1000)).toBe(false);
    expect(identityMatches(entry, null, 1000)).toBe(false);
  });

  it('accepts a wrapper that exec\'d into its command', () => {
    expect(identityMatches({ ...entry, cmdline: 'sh -c exec sleep 60' }, { ...seen, cmdline: 'sleep 60' }, 1000)).toBe(true);
    expect(identityMatches({ ...entry, cmdline: 'sh -c exec sleep 60' }, { ...seen, cmdline: '' }, 1000)).toBe(false);
  });
});

describe('isOurProcess on this very process (read from /proc, nothing is signalled)', () => {
  it('a forged record of a live process with its real start time and uid, but no or another command line, is refused', () => {
    const real = processEntry(process.pid, 'me');
    expect(real.startTime).toBe(readStartTime(process.pid));
    expect(real.uid).toBe(readUid(process.pid));
    expect(real.cmdline).toBe(readCmdline(process.pid));
    expect(isOurProcess(real)).toBe(true);
    expect(isOurProcess({ pid: process.pid, startTime: real.startTime, label: 'forged' })).toBe(false);
    expect(isOurProcess({ ...real, cmdline: 'node toys/hello/backend.js' })).toBe(false);
    expect(isOurProcess({ ...real, startTime: null })).toBe(false);
  });
});
