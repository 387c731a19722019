/**
 * Where everything in a run is reached: node ports and proxy ports, chosen once per run before anything starts, and
 * the addresses each side uses (the lab on the host; peers, Toxiproxy and Prometheus inside the cluster).
 *
 * Every node port and proxy address is chosen once per run and reused by each variant, so the scrape targets never
 * change: Prometheus (v2) passes discovered targets on only every 5 s, and a target list that is fixed before it
 * starts costs that delay once per run, in parallel with the first cluster's start, instead of once per variant.
 */
import { LOAD_API } from '../workload/remote/load-api.js';
import { freePort } from '../common/ports.js';
import type { ScrapeTarget } from '../observe/prometheus-server.js';
import type { RuntimeKind } from '../runtime/cluster-runtime.js';
import { CLIENT } from '../scenario/load.js';
import type { NodeInstance, ScenarioPlan } from '../scenario/plan.js';

export interface Ports {
  /** `<instance>/<port name>` → host port. */
  nodes: Map<string, number>;
  /** Link name → the proxy's listen port. */
  proxies: Map<string, number>;
}

export interface Addresses {
  /** How the lab reaches a node port: always 127.0.0.1 (containers publish it there). */
  addrOf(instance: string, port: string): string;
  /** How peers, Toxiproxy and Prometheus reach a node port (the runtime decides). */
  innerAddrOf(instance: string, port: string): string;
  /** Proxies as the lab reaches them (links `from: client`). */
  proxyAddr: Map<string, string>;
  /** Proxies as nodes reach them. */
  innerProxyAddr: Map<string, string>;
  proxyListen: Map<string, string>;
  targets: ScrapeTarget[];
}

/** What the addresses inside the cluster depend on (a `ClusterRuntime` and the started Toxiproxy). */
export interface ClusterAddressing {
  nodeAddress(node: string, port: number): string;
  proxyAddress(port: number): string;
  proxyListenAddress(port: number): string;
}

/** Ports are chosen before anything starts: a container publishes its ports when it is created. */
export async function allocatePorts(plan: Pick<ScenarioPlan, 'nodes' | 'links'>, choose: () => Promise<number> = freePort): Promise<Ports> {
  const nodes = new Map<string, number>();
  for (const n of plan.nodes) for (const p of n.ports) nodes.set(`${n.name}/${p}`, await choose());
  const proxies = new Map<string, number>();
  for (const l of plan.links) proxies.set(l.name, await choose());
  return { nodes, proxies };
}

/** Each node's host ports in plan order (what a runtime publishes). */
export function nodePortList(plan: Pick<ScenarioPlan, 'nodes'>, ports: Ports): { name: string; ports: number[] }[] {
  return plan.nodes.map((n) => ({ name: n.name, ports: n.ports.map((p) => ports.nodes.get(`${n.name}/${p}`)!) }));
}

export function buildAddresses(
  plan: Pick<ScenarioPlan, 'nodes'>,
  ports: Ports,
  cluster: ClusterAddressing,
  labAddress: string,
  toxiproxy: { innerAddress: string; metricsPath: string },
  /** A load generator outside the lab (Kubernetes): its client series come from there. */
  loadServerAddress?: string,
): Addresses {
  const portOf = (instance: string, port: string) => ports.nodes.get(`${instance}/${port}`)!;
  const addrOf = (instance: string, port: string) => `127.0.0.1:${portOf(instance, port)}`;
  const innerAddrOf = (instance: string, port: string) => cluster.nodeAddress(instance, portOf(instance, port));
  const map = (f: (port: number) => string) => new Map([...ports.proxies].map(([name, port]) => [name, f(port)]));
  const targets: ScrapeTarget[] = [
    // With a load server in the cluster, the lab's metrics are pushed there and scraped from there (runner.ts).
    loadServerAddress ? { address: loadServerAddress, metricsPath: LOAD_API.labScrape, labels: { job: 'lab' } } : { address: labAddress, labels: { job: 'lab' } },
    { address: toxiproxy.innerAddress, metricsPath: toxiproxy.metricsPath, labels: { job: 'toxiproxy' } },
    ...(loadServerAddress ? [{ address: loadServerAddress, labels: { job: 'load' } }] : []),
    // Spare instances are added while a `scale` step runs them (nodeTarget).
    ...plan.nodes.filter((n) => !n.spare).map((n) => nodeTarget(n, innerAddrOf)),
  ];
  return { addrOf, innerAddrOf, proxyAddr: map((p) => `127.0.0.1:${p}`), innerProxyAddr: map((p) => cluster.proxyAddress(p)), proxyListen: map((p) => cluster.proxyListenAddress(p)), targets };
}

/** A node's scrape target. */
export function nodeTarget(n: NodeInstance, innerAddrOf: (instance: string, port: string) => string): ScrapeTarget {
  return { address: innerAddrOf(n.name, n.metricsPort), metricsPath: n.metricsPath, labels: { job: 'node', node: n.name, group: n.group } };
}

/**
 * Peers a node may call: through the proxy of a declared link, else directly. Keyed by group, ordered by index.
 * Spare instances (started by a `scale` step) are nobody's configured peer: a toy learns of them through its own
 * membership, as it would in production.
 */
export function peersFor(plan: Pick<ScenarioPlan, 'nodes' | 'links'>, nodeName: string, addrOf: (instance: string, port: string) => string, proxyAddr: Map<string, string>): Record<string, string[]> {
  const me = plan.nodes.find((n) => n.name === nodeName)!;
  const peers: Record<string, string[]> = {};
  for (const other of plan.nodes) {
    if (other.name === nodeName || other.spare) continue;
    const link = plan.links.find((l) => l.from === nodeName && l.to === other.name);
    const linkedGroup = plan.links.some((l) => l.fromGroup === me.group && l.toGroup === other.group);
    const addr = link ? proxyAddr.get(link.name)! : linkedGroup ? undefined : addrOf(other.name, other.ports[0]!);
    if (addr === undefined) continue;
    (peers[other.group] ??= []).push(addr);
  }
  return peers;
}

/** The proxies a user on the host can reach: Docker publishes only those the lab itself uses (`from: client`). */
export function hostProxies(plan: Pick<ScenarioPlan, 'links'>, kind: RuntimeKind, proxyAddr: Map<string, string>): Record<string, string> {
  return Object.fromEntries(plan.links.filter((l) => kind === 'process' || l.from === CLIENT).map((l) => [l.name, proxyAddr.get(l.name)!]));
}

/** A node's peer address → the link it goes through, so its client spans name the link. */
export function linksOf(plan: Pick<ScenarioPlan, 'links'>, node: string, innerProxyAddr: Map<string, string>): Record<string, string> {
  return Object.fromEntries(plan.links.filter((l) => l.from === node).map((l) => [innerProxyAddr.get(l.name)!, l.name]));
}

/** The URLs the load generator sends to (through a `from: client` proxy when one is declared), and their links. */
export function loadTargets(
  plan: Pick<ScenarioPlan, 'nodes' | 'links'> & { workload: { target: { node: string; port?: string | undefined } } },
  addresses: Pick<Addresses, 'addrOf' | 'proxyAddr'>,
): { urls: string[]; links: Record<string, string> } {
  const target = plan.workload.target;
  const links: Record<string, string> = {};
  // Spare instances of the target group get no load: the load generator's targets are fixed for the run.
  const urls = plan.nodes
    .filter((n) => n.group === target.node && !n.spare)
    .map((n) => {
      const viaProxy = plan.links.find((l) => l.from === CLIENT && l.to === n.name);
      const url = `http://${viaProxy ? addresses.proxyAddr.get(viaProxy.name)! : addresses.addrOf(n.name, target.port ?? n.ports[0]!)}`;
      if (viaProxy) links[url] = viaProxy.name;
      return url;
    });
  return { urls, links };
}
