import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LOCAL_KUBE_IMAGES, type KubeImages } from './images.js';
import { gatewayOf, inCidr } from './kubernetes-cluster.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';
import { startLoadServerPod, startPrometheusPod, startToxiproxyPod } from './parts.js';
import { kubeLabels, labelValue, namespaceManifest, namespaceName, podManifest, restrictedContext } from './pods.js';
import { LABEL } from '../docker/labels.js';

describe('Kubernetes names and labels', () => {
  it('makes a DNS-label namespace per run', () => {
    expect(namespaceName('20261206-165738-Hello_short-jij-1')).toBe('chaoslab-20261206-165738-hello-short-jij-1');
    const long = namespaceName('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('labels like the Docker runtime, the owner as an annotation (label values cannot hold slashes)', () => {
    const ns = namespaceManifest('run-1', 'hello-short', 'host/123/456', new Date('2026-01-01T00:00:00Z'), 'ctx');
    expect(ns.metadata!.labels).toEqual({ [LABEL.lab]: '1', [LABEL.run]: 'run-1', [LABEL.scenario]: 'hello-short' });
    expect(ns.metadata!.annotations).toMatchObject({ 'chaoslab.io/owner': 'host/123/456', 'chaoslab.io/deadline': '2026-01-01T00:00:00.000Z' });
    expect(kubeLabels('run-1', { node: 'backend', part: 'node' })).toMatchObject({ [LABEL.node]: 'backend', [LABEL.part]: 'node' });
    expect(labelValue('-a/b:c-')).toBe('a-b-c');
  });
});

describe('pod specs', () => {
  it('are unprivileged, off the host network, never restarted by the kubelet', () => {
    const pod = podManifest({ name: 'n', labels: {}, containers: [{ name: 'c', image: 'i', securityContext: restrictedContext() }], shareProcessNamespace: true });
    expect(pod.spec).toMatchObject({ hostNetwork: false, hostPID: false, restartPolicy: 'Never', automountServiceAccountToken: false, shareProcessNamespace: true });
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(pod.spec!.containers[0]!.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });
});

describe('pod network addresses', () => {
  it('finds the gateway of a pod CIDR and tells pod addresses apart', () => {
    expect(gatewayOf('10.218.0.0/24')).toBe('10.218.0.1');
    expect(gatewayOf(undefined)).toBeUndefined();
    expect(inCidr('10.218.0.7', '10.218.0.0/24')).toBe(true);
    expect(inCidr('::ffff:10.218.0.7', '10.218.0.0/24')).toBe(true);
    expect(inCidr('10.218.1.7', '10.218.0.0/24')).toBe(false);
    expect(inCidr('192.168.0.1', '0.0.0.0/0')).toBe(true);
  });
});

describe('the images pods run', () => {
  /** An API server that records each pod it is asked to create and refuses it (so nothing waits for it). */
  function refusingCore(): { core: CoreV1Api; pods: V1Pod[] } {
    const pods: V1Pod[] = [];
    const core = {
      createNamespacedPod: async ({ body }: { body: V1Pod }) => {
        pods.push(body);
        throw Object.assign(new Error('refused by the test'), { code: 403 });
      },
      deleteNamespacedPod: async () => {
        throw Object.assign(new Error('not found'), { code: 404 });
      },
    } as unknown as CoreV1Api;
    return { core, pods };
  }

  /** Every container's image and pull policy in the pods of a run's parts and one node. */
  async function containersOf(images: KubeImages): Promise<Record<string, [string | undefined, string | undefined]>> {
    const { core, pods } = refusingCore();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-kube-images-'));
    const ctx = { config: {} as KubeConfig, core, namespace: 'ns', runId: 'r', scenario: 's', images };
    await expect(startToxiproxyPod(ctx, { logFile: path.join(dir, 't.log'), seed: 1, proxyPorts: [] })).rejects.toThrow(/HTTP 403/);
    await expect(startPrometheusPod(ctx, { dir, scrapeIntervalMs: 1000, logFile: path.join(dir, 'p.log') })).rejects.toThrow(/HTTP 403/);
    await expect(startLoadServerPod(ctx, { logFile: path.join(dir, 'l.log'), token: 't' })).rejects.toThrow(/HTTP 403/);
    const runtime = new KubernetesRuntime({ ...ctx, projectRoot: '/lab', onAddress: async () => undefined });
    await expect(runtime.start({ name: 'backend', group: 'backend', command: ['node', '/lab/dist/toys/hello/backend.js'], cwd: '/lab', env: {}, logFile: path.join(dir, 'b.log'), healthUrl: 'http://127.0.0.1:1/health', healthTimeoutMs: 1000 })).rejects.toThrow(/HTTP 403/);
    const out: Record<string, [string | undefined, string | undefined]> = {};
    for (const pod of pods) for (const c of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) out[`${pod.metadata!.name}/${c.name}`] = [c.image, c.imagePullPolicy];
    return out;
  }

  it('without a registry: the local names, never pulled (the local test cluster has them imported)', async () => {
    const c = await containersOf(LOCAL_KUBE_IMAGES);
    expect(Object.keys(c).sort()).toEqual(['backend/node', 'chaoslab-load/load', 'chaoslab-prometheus/config', 'chaoslab-prometheus/prometheus', 'chaoslab-prometheus/targets', 'chaoslab-toxiproxy/relay', 'chaoslab-toxiproxy/toxiproxy']);
    for (const [image, policy] of Object.values(c)) {
      expect(image).toMatch(/^chaoslab-(toys|toxiproxy|prometheus):latest$/);
      expect(policy).toBe('Never');
    }
  });

  it("with --image-registry: every container runs the registry's reference of its image, pulled if absent", async () => {
    const images: KubeImages = { toys: 'r.io/t/chaoslab-toys:111111111111', toxiproxy: 'r.io/t/chaoslab-toxiproxy:222222222222', prometheus: 'r.io/t/chaoslab-prometheus:333333333333', pullPolicy: 'IfNotPresent' };
    expect(await containersOf(images)).toEqual({
      'chaoslab-toxiproxy/toxiproxy': [images.toxiproxy, 'IfNotPresent'],
      'chaoslab-toxiproxy/relay': [images.toxiproxy, 'IfNotPresent'],
      'chaoslab-prometheus/config': [images.toys, 'IfNotPresent'],
      'chaoslab-prometheus/prometheus': [images.prometheus, 'IfNotPresent'],
      'chaoslab-prometheus/targets': [images.toys, 'IfNotPresent'],
      'chaoslab-load/load': [images.toys, 'IfNotPresent'],
      'backend/node': [images.toys, 'IfNotPresent'],
    });
  });
});
