import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClockEnv, faketimeDrift, faketimeOffset, findLibfaketime, processAgeMs, readClockControl, writeClockControl, writeClockOffset } from './fake-clock.js';

describe('fake clock (libfaketime)', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'fake-clock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes offsets in the relative format libfaketime reads: signed seconds with a fraction', () => {
    expect(faketimeOffset(0)).toBe('+0');
    expect(faketimeOffset(-3000)).toBe('-3s');
    expect(faketimeOffset(2000)).toBe('+2s');
    expect(faketimeOffset(-500)).toBe('-0.5s');
    expect(faketimeOffset(-1500)).toBe('-1.5s');
    expect(faketimeOffset(2125)).toBe('+2.125s');
    expect(faketimeOffset(-7)).toBe('-0.007s');
    expect(faketimeOffset(86_400_000)).toBe('+86400s');
    expect(() => faketimeOffset(Number.NaN)).toThrow(RangeError);
  });

  it('replaces the control file atomically, readable by a container user, leaving no temp file', () => {
    const file = path.join(dir, 'a.faketime');
    writeClockOffset(file, 0);
    expect(readFileSync(file, 'utf8')).toBe('+0\n');
    writeClockOffset(file, -3000);
    expect(readFileSync(file, 'utf8')).toBe('-3s\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['a.faketime']);
  });

  it('reads back the text last written (what a new pod starts with), true time when there is none', () => {
    const file = path.join(dir, 'a.faketime');
    expect(readClockControl(file)).toBe('+0');
    writeClockControl(file, '-0.010000s x1.0005');
    expect(readClockControl(file)).toBe('-0.010000s x1.0005');
    writeFileSync(file, '\n');
    expect(readClockControl(file)).toBe('+0');
  });

  it('preloads the library with the file read on every call and the monotonic clock left alone', () => {
    expect(fakeClockEnv('/lib/libfaketime.so.1', '/run/a.faketime')).toEqual({
      LD_PRELOAD: '/lib/libfaketime.so.1',
      FAKETIME_TIMESTAMP_FILE: '/run/a.faketime',
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
  });

  it('takes CHAOSLAB_LIBFAKETIME when it names a file, and names the package when it does not', () => {
    const lib = path.join(dir, 'libfaketime.so.1');
    writeFileSync(lib, '');
    expect(findLibfaketime({ CHAOSLAB_LIBFAKETIME: lib })).toBe(lib);
    expect(() => findLibfaketime({ CHAOSLAB_LIBFAKETIME: path.join(dir, 'nope.so') })).toThrow(expect.objectContaining({ code: 'CHAOSLAB_LIBFAKETIME_MISSING', hint: expect.stringContaining('libfaketime') }));
  });
});

describe('drift', () => {
  it('writes the rate with the offset that takes back (rate − 1) × age, to the µs', () => {
    // 500 ppm on a node 20 s old: libfaketime would step it +10 ms at once; the offset takes that back.
    expect(faketimeDrift(0, 500, 20_000)).toBe('-0.010000s x1.0005');
    expect(faketimeDrift(-3000, 500, 20_000)).toBe('-3.010000s x1.0005');
    expect(faketimeDrift(0, -200, 3_007.9)).toBe('+0.000602s x0.9998');
    expect(() => faketimeDrift(0, Number.NaN, 1)).toThrow(RangeError);
  });

  it('reads a process\'s age from /proc (uptime minus its start in 10 ms ticks)', () => {
    const proc = mkdtempSync(path.join(os.tmpdir(), 'fake-proc-'));
    try {
      mkdirSync(path.join(proc, '42'));
      // comm with a space and a parenthesis; field 22 (starttime) is 12345 ticks = 123.45 s after boot.
      writeFileSync(path.join(proc, '42', 'stat'), `42 (node (x) y) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1000 10\n`);
      writeFileSync(path.join(proc, 'uptime'), '150.45 300.00\n');
      expect(processAgeMs(42, proc)).toBeCloseTo(27_000, 6);
      expect(processAgeMs(43, proc)).toBeUndefined();
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
    const self = processAgeMs(process.pid);
    expect(self).toBeGreaterThanOrEqual(process.uptime() * 1000 - 20);
  });
});
