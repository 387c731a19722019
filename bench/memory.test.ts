import { describe, expect, it } from 'vitest';
import { byRole, cpuMillis, describeParts, dockerMemoryBytes, kubePodsMemory, parsePpid, parsePss, parseVmRss, summaryPods, withDescendants } from './memory.js';

describe('/proc parsing', () => {
  it('VmRSS in bytes; none for a process without one', () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t  900000 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 1 kB\n')).toBe(51234 * 1024);
    expect(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n')).toBeUndefined();
  });

  it('the parent pid, also when the command holds spaces and parentheses', () => {
    expect(parsePpid('4242 (node) S 4000 4242 4000 0 -1')).toBe(4000);
    expect(parsePpid('77 (a (b) c) R 12 77 12 0')).toBe(12);
  });

  it('descendants take their root\'s role; unrelated processes stay out', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [20, 1],
      [21, 20],
      [30, 1],
    ]);
    const roles = withDescendants([{ pid: 10, role: 'prometheus' }, { pid: 20, role: 'node' }], parents);
    expect(Object.fromEntries(roles)).toEqual({ 10: 'prometheus', 11: 'prometheus', 12: 'prometheus', 20: 'node', 21: 'node' });
  });

  it('a pid named twice is counted once', () => {
    expect([...withDescendants([{ pid: 5, role: 'node' }, { pid: 5, role: 'toxiproxy' }], new Map())]).toEqual([[5, 'node']]);
  });
});

describe('dockerMemoryBytes', () => {
  it('is usage minus the inactive file cache, as docker stats shows (cgroup v2 and v1)', () => {
    expect(dockerMemoryBytes({ memory_stats: { usage: 100_000, stats: { inactive_file: 30_000, active_file: 5 } } })).toBe(70_000);
    expect(dockerMemoryBytes({ memory_stats: { usage: 100_000, stats: { total_inactive_file: 40_000 } } })).toBe(60_000);
    expect(dockerMemoryBytes({ memory_stats: { usage: 100_000 } })).toBe(100_000);
  });

  it('nothing for a container without stats (stopped)', () => {
    expect(dockerMemoryBytes({ memory_stats: {} })).toBeUndefined();
    expect(dockerMemoryBytes({})).toBeUndefined();
  });
});

describe('kubelet summary', () => {
  const summary = {
    pods: [
      { podRef: { name: 'backend-1', namespace: 'run-a' }, memory: { workingSetBytes: 40 }, containers: [{ name: 'node', memory: { workingSetBytes: 35 } }] },
      // A new pod: the kubelet has no figure of its own yet (0), its containers' are there.
      { podRef: { name: 'chaoslab-toxiproxy', namespace: 'run-a' }, memory: { workingSetBytes: 0 }, containers: [{ name: 'toxiproxy', memory: { workingSetBytes: 10 } }, { name: 'relay', memory: { workingSetBytes: 7 } }] },
      { podRef: { name: 'backend-2', namespace: 'run-a' }, containers: [{ name: 'node' }] },
      { podRef: { name: 'coredns', namespace: 'kube-system' }, memory: { workingSetBytes: 999 } },
    ],
  };

  it('the namespace\'s pods, their own working set and their containers\' sum; 0 or absent is none yet', () => {
    expect(summaryPods(summary, 'run-a')).toEqual([
      { name: 'backend-1', podBytes: 40, containersBytes: 35 },
      { name: 'chaoslab-toxiproxy', podBytes: undefined, containersBytes: 17 },
      { name: 'backend-2', podBytes: undefined, containersBytes: undefined },
    ]);
    expect(summaryPods({}, 'run-a')).toEqual([]);
  });

  it('across nodes, by role, naming the pods without their own figure', () => {
    const other = { pods: [{ podRef: { name: 'backend-3', namespace: 'run-a' }, memory: { workingSetBytes: 41 } }] };
    const role = (p: string) => (p.startsWith('backend') ? 'node' : 'toxiproxy');
    const m = kubePodsMemory([summary, other], 'run-a', role);
    expect(m.missing).toEqual(['chaoslab-toxiproxy', 'backend-2']);
    expect(byRole(m.items)).toEqual([{ role: 'node', count: 2, bytes: 81 }]);
  });

  it('with the fallback, a pod without its own figure counts its containers\'', () => {
    const m = kubePodsMemory([summary], 'run-a', (p) => (p.startsWith('backend') ? 'node' : 'toxiproxy'), true);
    expect(m.fellBack).toEqual(['chaoslab-toxiproxy']);
    expect(byRole(m.items)).toEqual([
      { role: 'node', count: 1, bytes: 40 },
      { role: 'toxiproxy', count: 1, bytes: 17 },
    ]);
  });
});

describe('cpuMillis', () => {
  it('reads millicores and cores', () => {
    expect(cpuMillis('50m')).toBe(50);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis(undefined)).toBe(0);
    expect(cpuMillis('2Gi')).toBeNaN();
  });
});

describe('byRole and describeParts', () => {
  it('nodes first, then Toxiproxy, Prometheus, anything else; per node for the nodes', () => {
    const MiB = 1024 * 1024;
    const parts = byRole([
      { role: 'other', bytes: MiB },
      { role: 'prometheus', bytes: 60 * MiB },
      { role: 'node', bytes: 30 * MiB },
      { role: 'toxiproxy', bytes: 20 * MiB },
      { role: 'node', bytes: 31 * MiB },
    ]);
    expect(parts.map((p) => p.role)).toEqual(['node', 'toxiproxy', 'prometheus', 'other']);
    expect(describeParts(parts, 2)).toBe('nodes 61 MiB (30.5/node), toxiproxy 20 MiB, prometheus 60 MiB, other 1 MiB');
  });
});

describe('parsePss', () => {
  it('reads Pss, not Pss_Anon or Rss', () => {
    expect(parsePss('55c0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:\t   60000 kB\nPss:\t   21000 kB\nPss_Anon:\t 15000 kB\n')).toBe(21000 * 1024);
    expect(parsePss('')).toBeUndefined();
  });
});
