import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEPT_FILE, downCommand, findKept, forgetKept, keptRunIds, listKept, shownPath, writeKept, type KeptRecord } from './kept.js';

const dir = mkdtempSync(path.join(tmpdir(), 'chaoslab-kept-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(runId: string, runDir: string, keptAt: string): KeptRecord {
  return {
    version: 1,
    runId,
    scenario: 'hello-latency',
    variant: 'baseline',
    runDir,
    runtime: 'process',
    keptAt,
    prometheus: 'http://127.0.0.1:9090',
    toxiproxy: 'http://127.0.0.1:8474',
    nodes: [{ name: 'frontend', address: '127.0.0.1:4000' }],
    proxies: { frontend_to_backend: '127.0.0.1:4001' },
    processes: [{ pid: 123, startTime: '456', label: 'frontend' }],
  };
}

describe('kept-run records', () => {
  it('are written to the state dir, with a copy for people in the run folder, and found by run folder', () => {
    const stateDir = path.join(dir, 'state-1');
    const runA = path.join(dir, 'runs', 'a');
    const runB = path.join(dir, 'runs', 'b');
    mkdirSync(runA, { recursive: true });
    mkdirSync(runB, { recursive: true });
    writeKept(stateDir, record('run-b', runB, '2026-01-02T00:00:00.000Z'));
    writeKept(stateDir, record('run-a', runA, '2026-01-01T00:00:00.000Z'));

    expect(listKept(stateDir).map((r) => r.runId)).toEqual(['run-a', 'run-b']);
    expect([...keptRunIds(stateDir)].sort()).toEqual(['run-a', 'run-b']);
    expect(findKept(stateDir, `${runA}/`)?.runId).toBe('run-a');
    expect(findKept(stateDir, path.join(dir, 'runs', 'c'))).toBeUndefined();

    // The run folder's copy says what is up and how to stop it, without the pids.
    const copy = JSON.parse(readFileSync(path.join(runA, KEPT_FILE), 'utf8')) as Record<string, unknown>;
    expect(copy['prometheus']).toBe('http://127.0.0.1:9090');
    expect(copy['stop']).toBe(`npx chaoslab down ${runA}`);
    expect(copy['processes']).toBeUndefined();

    forgetKept(stateDir, { runId: 'run-a', runDir: runA });
    expect(existsSync(path.join(runA, KEPT_FILE))).toBe(false);
    expect(listKept(stateDir).map((r) => r.runId)).toEqual(['run-b']);
    forgetKept(stateDir, { runId: 'run-a', runDir: runA }); // twice: no error
  });

  it('ignore unreadable files and a missing dir', () => {
    const stateDir = path.join(dir, 'state-2');
    expect(listKept(stateDir)).toEqual([]);
    mkdirSync(path.join(stateDir, 'kept'), { recursive: true });
    writeFileSync(path.join(stateDir, 'kept', 'torn.json'), '{"version": 1, "runId"');
    writeFileSync(path.join(stateDir, 'kept', 'other.json'), '{"version": 2, "runId": "x", "runDir": "/x"}');
    expect(listKept(stateDir)).toEqual([]);
  });

  it('name the run folder relative to the cwd only when it is below it', () => {
    expect(shownPath('/work/runs/x', '/work')).toBe('runs/x');
    expect(shownPath('/tmp/runs/x', '/work')).toBe('/tmp/runs/x');
    expect(shownPath('/tmp/runs/x')).toBe('/tmp/runs/x');
    expect(downCommand('/work/runs/x', '/work')).toBe('npx chaoslab down runs/x');
    expect(downCommand('/tmp/my runs/x')).toBe('npx chaoslab down "/tmp/my runs/x"');
  });
});

describe('kept-run records in a state folder others control', () => {
  it('are neither written nor read when the folder is writable by others, nor read through a planted link', () => {
    const stateDir = path.join(dir, 'state-open');
    mkdirSync(path.join(stateDir, 'kept'), { recursive: true, mode: 0o700 });
    chmodSync(stateDir, 0o777);
    expect(() => writeKept(stateDir, record('run-x', path.join(dir, 'runs', 'x'), ''))).toThrow(/writable by everyone/);
    expect(() => listKept(stateDir)).toThrow(/writable by everyone/);
    chmodSync(stateDir, 0o700);
    // A record planted as a link to someone's file is not read.
    const elsewhere = path.join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify(record('planted', path.join(dir, 'runs', 'p'), '')));
    symlinkSync(elsewhere, path.join(stateDir, 'kept', 'planted.json'));
    expect(listKept(stateDir)).toEqual([]);
  });
});
