/**
 * What a live run's toy nodes and the lab's parts (Toxiproxy, Prometheus) take in memory, measured the way each
 * runtime itself accounts for it, so the figures are honest for that runtime (and not identical quantities):
 * - process: the resident set (VmRSS) of each process the journal names, with its descendants, from /proc;
 * - docker: each container's memory as `docker stats` shows it (cgroup usage minus inactive file cache);
 * - kubernetes: each pod's working set from the kubelet's summary API, read through the API server.
 * The lab's own process (load generator, port-forwards) is the same program in every runtime: reported apart.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { journalPids, readJournal } from './run-sample.js';

export const MiB = 1024 * 1024;

export interface MemoryPart {
  /** `node` (a toy node; with Docker, its network sandbox container too), `toxiproxy` or `prometheus`. */
  role: string;
  /** Processes, containers or pods counted. */
  count: number;
  bytes: number;
}

export interface MemorySample {
  parts: MemoryPart[];
  totalBytes: number;
  /** The lab's own process (VmRSS), not in the total. */
  labBytes?: number;
  /** What the numbers are, for the note. */
  counts: string;
  /** Anything else worth saying, for the note. */
  aside?: string;
}

// ---------------------------------------------------------------- pure helpers

/** VmRSS of /proc/<pid>/status in bytes; undefined for a process without one (a zombie). */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Pss of /proc/<pid>/smaps_rollup in bytes: RSS with each shared page split among the processes that map it. */
export function parsePss(smapsRollup: string): number | undefined {
  const m = /^Pss:\s+(\d+)\s+kB$/m.exec(smapsRollup);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** The parent pid in /proc/<pid>/stat (field 4; the command, field 2, may hold spaces and parentheses). */
export function parsePpid(stat: string): number | undefined {
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** Every root pid and its descendants, each with its root's role (a root named twice keeps its first role). */
export function withDescendants(roots: { pid: number; role: string }[], parentOf: ReadonlyMap<number, number>): Map<number, string> {
  const role = new Map<number, string>();
  for (const r of roots) if (!role.has(r.pid)) role.set(r.pid, r.role);
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
  const queue = [...role.keys()];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const c of children.get(pid) ?? []) {
      if (role.has(c)) continue;
      role.set(c, role.get(pid)!);
      queue.push(c);
    }
  }
  return role;
}

/** Docker's figure for a container (what `docker stats` prints): usage minus the inactive file cache. */
export function dockerMemoryBytes(stats: { memory_stats?: { usage?: number; stats?: Record<string, number> } }): number | undefined {
  const m = stats.memory_stats;
  if (m?.usage === undefined) return undefined;
  // cgroup v2 names it inactive_file, v1 total_inactive_file.
  const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  return Math.max(0, m.usage - inactive);
}

export interface SummaryPod {
  podRef?: { name?: string; namespace?: string };
  memory?: { workingSetBytes?: number };
  containers?: { name?: string; memory?: { workingSetBytes?: number } }[];
}

/**
 * The pods of `namespace` in a kubelet summary (`/stats/summary`), with their working set: the pod's own figure (its
 * cgroup, the sandbox included) and the sum of its containers'. The kubelet reports a new pod's own figure as 0
 * until its next housekeeping, while the containers' come from the container runtime at once: 0 is "none yet".
 */
export function summaryPods(summary: { pods?: SummaryPod[] }, namespace: string): { name: string; podBytes: number | undefined; containersBytes: number | undefined }[] {
  return (summary.pods ?? [])
    .filter((p) => p.podRef?.namespace === namespace && p.podRef.name)
    .map((p) => {
      const own = p.memory?.workingSetBytes;
      const containers = (p.containers ?? []).map((c) => c.memory?.workingSetBytes);
      const summed = containers.length && containers.every((b) => b !== undefined && b > 0) ? containers.reduce((a, b) => a! + b!, 0) : undefined;
      return { name: p.podRef!.name!, podBytes: own ? own : undefined, containersBytes: summed };
    });
}

/** A Kubernetes CPU quantity in millicores ("50m", "1", "1.5"); NaN for anything else. */
export function cpuMillis(q: string | undefined): number {
  if (q === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return NaN;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/** Sums bytes by role. */
export function byRole(items: { role: string; bytes: number }[]): MemoryPart[] {
  const parts = new Map<string, MemoryPart>();
  for (const i of items) {
    const p = parts.get(i.role) ?? parts.set(i.role, { role: i.role, count: 0, bytes: 0 }).get(i.role)!;
    p.count++;
    p.bytes += i.bytes;
  }
  const order = ['node', 'toxiproxy', 'prometheus'];
  return [...parts.values()].sort((a, b) => (order.indexOf(a.role) + 1 || 99) - (order.indexOf(b.role) + 1 || 99));
}

/** `nodes 3: 121 MiB (40/node), toxiproxy 1: 25 MiB, …` */
export function describeParts(parts: MemoryPart[], nodes: number): string {
  return parts
    .map((p) => (p.role === 'node' ? `nodes ${(p.bytes / MiB).toFixed(0)} MiB (${(p.bytes / MiB / nodes).toFixed(1)}/node)` : `${p.role} ${(p.bytes / MiB).toFixed(0)} MiB`))
    .join(', ');
}

// ---------------------------------------------------------------- samplers

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

export function rssOf(pid: number): number | undefined {
  const s = readProc(pid, 'status');
  return s === undefined ? undefined : parseVmRss(s);
}

function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = readProc(Number(e), 'stat');
    const ppid = stat === undefined ? undefined : parsePpid(stat);
    if (ppid !== undefined) parents.set(Number(e), ppid);
  }
  return parents;
}

/** Process runtime: RSS of the processes the run's journal names (nodes, Toxiproxy, Prometheus) and their children. */
export function sampleProcesses(runDir: string, labPid: number): MemorySample {
  const roles = withDescendants(journalPids(readJournal(runDir)), parentMap());
  let pss = 0;
  const items = [...roles].flatMap(([pid, role]) => {
    const bytes = rssOf(pid);
    if (bytes === undefined) return [];
    const rollup = readProc(pid, 'smaps_rollup');
    pss += (rollup === undefined ? undefined : parsePss(rollup)) ?? bytes;
    return [{ role, bytes }];
  });
  const parts = byRole(items);
  return {
    parts,
    totalBytes: parts.reduce((n, p) => n + p.bytes, 0),
    ...labRss(labPid),
    counts: `RSS of ${items.length} processes (/proc VmRSS, children included)`,
    // RSS counts the node binary's shared pages once per process; PSS splits them.
    aside: `PSS ${(pss / MiB).toFixed(0)} MiB (shared pages split)`,
  };
}

function labRss(labPid: number): { labBytes?: number } {
  const b = rssOf(labPid);
  return b === undefined ? {} : { labBytes: b };
}

interface StatsContainer {
  stats(opts: { stream: false }): Promise<unknown>;
}

/** Docker runtime: each container of the scenario, `docker stats`' figure; sandboxes count with their nodes. */
export async function sampleContainers(
  containers: { id: string; labels: Record<string, string> }[],
  getContainer: (id: string) => StatsContainer,
  partLabel: string,
  labPid: number,
): Promise<MemorySample> {
  const items = await Promise.all(
    containers.map(async (c) => {
      const stats = (await getContainer(c.id).stats({ stream: false })) as Parameters<typeof dockerMemoryBytes>[0];
      const part = c.labels[partLabel] ?? 'other';
      return { role: part === 'sandbox' ? 'node' : part, bytes: dockerMemoryBytes(stats) ?? 0 };
    }),
  );
  const parts = byRole(items);
  return { parts, totalBytes: parts.reduce((n, p) => n + p.bytes, 0), ...labRss(labPid), counts: `${items.length} containers (nodes and their shared network sandbox), docker stats' usage − inactive file` };
}

/**
 * Kubernetes runtime: the working set of each pod of the namespace, from every node's kubelet summary. `missing`: pods
 * without their own figure yet; with `fallback` they count their containers' sum instead (`fellBack` names them).
 */
export function kubePodsMemory(
  summaries: { pods?: SummaryPod[] }[],
  namespace: string,
  roleOf: (pod: string) => string,
  fallback = false,
): { items: { role: string; bytes: number }[]; missing: string[]; fellBack: string[] } {
  const pods = summaries.flatMap((s) => summaryPods(s, namespace));
  const missing = pods.filter((p) => p.podBytes === undefined).map((p) => p.name);
  const fellBack: string[] = [];
  const items = pods.flatMap((p) => {
    if (p.podBytes !== undefined) return [{ role: roleOf(p.name), bytes: p.podBytes }];
    if (!fallback || p.containersBytes === undefined) return [];
    fellBack.push(p.name);
    return [{ role: roleOf(p.name), bytes: p.containersBytes }];
  });
  return { items, missing, fellBack };
}
