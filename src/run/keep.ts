/** Keeping a run's parts and its last variant's nodes up after the run (`--keep`, `chaoslab up`). */
import path from 'node:path';
import { sleep } from '../common/time.js';
import { writeGrafanaProvisioning } from '../observe/grafana.js';
import type { LabMetricsServer } from '../observe/lab-metrics.js';
import type { StartedPrometheus } from '../observe/prometheus-server.js';
import type { ClusterRuntime, ClusterToxiproxy } from '../runtime/cluster-runtime.js';
import type { KeptInfo } from '../runtime/kept.js';
import type { StartedNode } from '../runtime/runtime.js';
import type { ScenarioPlan } from '../scenario/plan.js';
import { hostProxies, type Addresses } from './topology.js';

/** Where the last variant leaves its nodes when the run keeps its cluster up. */
export interface Keeper {
  nodes?: Map<string, StartedNode>;
  variant?: string;
}

export interface KeptParts {
  cluster: ClusterRuntime;
  toxiproxy: ClusterToxiproxy;
  lab: LabMetricsServer;
  addresses: Addresses;
}

/**
 * Hands the running parts and the last variant's nodes over to a kept-run record (the reaper stands down). The lab's
 * own metrics endpoint ends with the lab: its target is dropped first, so Prometheus does not show it as down.
 */
export async function keepParts(plan: ScenarioPlan, run: { runId: string; runDir: string; opts: { projectRoot: string } }, variant: string, parts: KeptParts, prometheus: StartedPrometheus): Promise<KeptInfo> {
  const { cluster, toxiproxy, lab, addresses } = parts;
  await prometheus.setTargets(addresses.targets.filter((t) => t.labels['job'] !== 'lab'));
  // Stop the endpoint once Prometheus has let go of it, or a last failed scrape would read as the lab being down.
  for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(100)) {
    const targets = await prometheus.client.targets().catch(() => []);
    if (!targets.some((t) => t.labels['job'] === 'lab')) break;
  }
  await lab.stop();
  const record = await cluster.keep({
    runId: run.runId,
    scenario: plan.id,
    variant,
    runDir: run.runDir,
    keptAt: new Date().toISOString(),
    prometheus: prometheus.url,
    toxiproxy: toxiproxy.url,
    grafana: writeGrafanaProvisioning(path.join(run.runDir, 'grafana'), prometheus.url, path.join(run.opts.projectRoot, 'dashboards')),
    nodes: plan.nodes.filter((n) => !n.spare).map((n) => ({ name: n.name, address: addresses.addrOf(n.name, n.ports[0]!) })),
    proxies: hostProxies(plan, cluster.kind, addresses.proxyAddr),
  });
  const { version: _version, processes: _processes, dockerHost: _dockerHost, ...info } = record;
  return info;
}
