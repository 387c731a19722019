import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadScenario } from '../src/scenario/load.js';
import { scaleCluster, scaleRowsOf, writeScaleFixture } from './scale.js';

const fixture = readFileSync(path.join(import.meta.dirname, 'fixtures', 'scale-cluster.yaml'), 'utf8');

describe('scaleCluster', () => {
  it('sets the group\'s replicas and keeps the rest of the file', () => {
    const text = scaleCluster(fixture, 30);
    expect((parse(text) as { nodes: { backend: { replicas: number } } }).nodes.backend.replicas).toBe(30);
    expect(text).toContain('# Benchmark only');
    expect(text).toContain('{ from: client, to: backend }');
  });

  it('refuses sizes the lab would refuse (replicas 1–32)', () => {
    expect(() => scaleCluster(fixture, 0)).toThrow(/1–32/);
    expect(() => scaleCluster(fixture, 33)).toThrow(/1–32/);
    expect(() => scaleCluster(fixture, 2.5)).toThrow(RangeError);
  });

  it('names the group it needs', () => {
    expect(() => scaleCluster('name: x\nnodes:\n  other: { command: [node] }\n', 3)).toThrow(/"backend"/);
  });
});

describe('writeScaleFixture', () => {
  it.each([3, 10, 30])('writes a scenario the lab accepts, with %i backends behind their own proxies', (n) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-scale-test-'));
    try {
      const plan = loadScenario(writeScaleFixture(dir, n));
      expect(plan.nodes.filter((x) => x.group === 'backend' && !x.spare)).toHaveLength(n);
      expect(plan.links.map((l) => l.name)).toContain(`client_to_backend-${n}`);
      expect(plan.links).toHaveLength(n);
      expect(plan.steps.some((s) => s.fault)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scaleRowsOf', () => {
  const memory = { parts: [{ role: 'node', count: 3, bytes: 3 * 40 * 1024 * 1024 }], totalBytes: 3 * 40 * 1024 * 1024, counts: 'RSS of 3 processes' };

  it('a measured run: start in seconds, memory in MiB with what it counts, no target', () => {
    const [start, mem] = scaleRowsOf('process', 3, { startMs: 1500, teardownMs: 300, leftOver: 0, measured: { memory, faultSeen: true } }, 0);
    expect(start).toMatchObject({ value: 1.5, unit: 's', target: '—', ok: null });
    expect(start!.note).toContain('teardown 0.30 s, 0 object(s)/process(es) left');
    expect(mem).toMatchObject({ value: 120, unit: 'MiB', target: '—', ok: null });
    expect(mem!.note).toContain('RSS of 3 processes: nodes 120 MiB (40.0/node)');
  });

  it('a run that never armed, or left something behind, fails its rows and says why', () => {
    const [start, mem] = scaleRowsOf('kubernetes', 30, { startMs: NaN, teardownMs: 2000, leftOver: 0, problem: 'not armed within 900 s' }, 1);
    expect(start).toMatchObject({ value: 'failed', ok: false });
    expect(start!.note).toContain('not armed within 900 s');
    expect(start!.note).toContain('1 object(s)/process(es) left');
    expect(mem).toMatchObject({ value: 'not measured', ok: false });
  });
});
