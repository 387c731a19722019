import { describe, expect, it } from 'vitest';
import type { LinkPlan, NodeInstance } from '../scenario/plan.js';
import { allocatePorts, buildAddresses, hostProxies, linksOf, loadTargets, nodePortList, peersFor } from './topology.js';

const node = (name: string, group: string, index: number, ports = ['http']): NodeInstance => ({
  name,
  group,
  index,
  command: ['node', 'x.js'],
  ports,
  healthPath: '/health',
  healthPort: ports[0]!,
  healthTimeoutMs: 1000,
  metricsPath: '/metrics',
  metricsPort: ports[0]!,
});
const link = (from: string, to: string, fromGroup: string, toGroup: string): LinkPlan => ({ name: `${from}_to_${to}`, from, to, fromGroup, toGroup, port: 'http' });

// client → frontend-0 (proxied); frontend-0 → backend-0 (proxied); backend-0 ↔ backend-1 (direct).
const plan = {
  nodes: [node('frontend-0', 'frontend', 0), node('backend-0', 'backend', 0, ['http', 'peer']), node('backend-1', 'backend', 1, ['http', 'peer'])],
  links: [link('client', 'frontend-0', 'client', 'frontend'), link('frontend-0', 'backend-0', 'frontend', 'backend')],
  workload: { target: { node: 'frontend' } },
};

/** Ports 20000, 20001, … in the order they are asked for. */
const counter = () => {
  let next = 20000;
  return async () => next++;
};

// Docker-like: nodes by name inside the network, proxies on the Toxiproxy container.
const docker = {
  nodeAddress: (n: string, p: number) => `${n}:${p}`,
  proxyAddress: (p: number) => `chaoslab-toxiproxy:${p}`,
  proxyListenAddress: (p: number) => `0.0.0.0:${p}`,
};

describe('topology', () => {
  it('chooses one port per node port, then one per link, in plan order', async () => {
    const ports = await allocatePorts(plan, counter());
    expect([...ports.nodes]).toEqual([
      ['frontend-0/http', 20000],
      ['backend-0/http', 20001],
      ['backend-0/peer', 20002],
      ['backend-1/http', 20003],
      ['backend-1/peer', 20004],
    ]);
    expect([...ports.proxies]).toEqual([
      ['client_to_frontend-0', 20005],
      ['frontend-0_to_backend-0', 20006],
    ]);
    expect(nodePortList(plan, ports)).toEqual([
      { name: 'frontend-0', ports: [20000] },
      { name: 'backend-0', ports: [20001, 20002] },
      { name: 'backend-1', ports: [20003, 20004] },
    ]);
  });

  it('the lab reaches everything on 127.0.0.1; the cluster reaches it as the runtime says; targets are the lab, Toxiproxy and every node', async () => {
    const ports = await allocatePorts(plan, counter());
    const a = buildAddresses(plan, ports, docker, '172.17.0.1:9999', { innerAddress: 'chaoslab-toxiproxy:8474', metricsPath: '/metrics' });
    expect(a.addrOf('backend-0', 'peer')).toBe('127.0.0.1:20002');
    expect(a.innerAddrOf('backend-0', 'peer')).toBe('backend-0:20002');
    expect(a.proxyAddr.get('frontend-0_to_backend-0')).toBe('127.0.0.1:20006');
    expect(a.innerProxyAddr.get('frontend-0_to_backend-0')).toBe('chaoslab-toxiproxy:20006');
    expect(a.proxyListen.get('client_to_frontend-0')).toBe('0.0.0.0:20005');
    expect(a.targets).toEqual([
      { address: '172.17.0.1:9999', labels: { job: 'lab' } },
      { address: 'chaoslab-toxiproxy:8474', metricsPath: '/metrics', labels: { job: 'toxiproxy' } },
      { address: 'frontend-0:20000', metricsPath: '/metrics', labels: { job: 'node', node: 'frontend-0', group: 'frontend' } },
      { address: 'backend-0:20001', metricsPath: '/metrics', labels: { job: 'node', node: 'backend-0', group: 'backend' } },
      { address: 'backend-1:20003', metricsPath: '/metrics', labels: { job: 'node', node: 'backend-1', group: 'backend' } },
    ]);
  });

  it('peers go through a declared link, directly when the groups have no link, and not at all past a link of the group that skips them', async () => {
    const ports = await allocatePorts(plan, counter());
    const a = buildAddresses(plan, ports, docker, 'lab:1', { innerAddress: 'tp:1', metricsPath: '/metrics' });
    // frontend-0 has a link to backend-0 only: backend-1 is in a linked group, so it is not a peer.
    expect(peersFor(plan, 'frontend-0', a.innerAddrOf, a.innerProxyAddr)).toEqual({ backend: ['chaoslab-toxiproxy:20006'] });
    // backend-0 has no links: frontend-0 and backend-1 directly, on their first port.
    expect(peersFor(plan, 'backend-0', a.innerAddrOf, a.innerProxyAddr)).toEqual({ frontend: ['frontend-0:20000'], backend: ['backend-1:20003'] });
    expect(linksOf(plan, 'frontend-0', a.innerProxyAddr)).toEqual({ 'chaoslab-toxiproxy:20006': 'frontend-0_to_backend-0' });
  });

  it('the load goes through the client proxy; the host sees every proxy with processes, only client ones with Docker', async () => {
    const ports = await allocatePorts(plan, counter());
    const a = buildAddresses(plan, ports, docker, 'lab:1', { innerAddress: 'tp:1', metricsPath: '/metrics' });
    expect(loadTargets(plan, a)).toEqual({ urls: ['http://127.0.0.1:20005'], links: { 'http://127.0.0.1:20005': 'client_to_frontend-0' } });
    expect(loadTargets({ ...plan, workload: { target: { node: 'backend', port: 'peer' } } }, a)).toEqual({ urls: ['http://127.0.0.1:20002', 'http://127.0.0.1:20004'], links: {} });
    expect(hostProxies(plan, 'docker', a.proxyAddr)).toEqual({ 'client_to_frontend-0': '127.0.0.1:20005' });
    expect(hostProxies(plan, 'process', a.proxyAddr)).toEqual({ 'client_to_frontend-0': '127.0.0.1:20005', 'frontend-0_to_backend-0': '127.0.0.1:20006' });
  });

  it('a load server in the cluster: the load aims at addresses inside it, and the lab and client series are scraped from the load pod', async () => {
    const ports = await allocatePorts(plan, counter());
    const a = buildAddresses(plan, ports, docker, 'lab:1', { innerAddress: 'tp:1', metricsPath: '/metrics' }, '10.0.0.7:7070');
    expect(loadTargets(plan, { addrOf: a.innerAddrOf, proxyAddr: a.innerProxyAddr }).urls).toEqual(['http://chaoslab-toxiproxy:20005']);
    expect(a.targets.slice(0, 3)).toEqual([
      { address: '10.0.0.7:7070', metricsPath: '/metrics/lab', labels: { job: 'lab' } },
      { address: 'tp:1', metricsPath: '/metrics', labels: { job: 'toxiproxy' } },
      { address: '10.0.0.7:7070', labels: { job: 'load' } },
    ]);
  });
});
