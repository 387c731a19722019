import { describe, expect, it } from 'vitest';
import { gatewayOf, inCidr } from './kubernetes-cluster.js';
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
