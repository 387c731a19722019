import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeClockOffset } from '../fake-clock.js';
import { ManagedNode } from '../managed-node.js';
import type { NodeSpec } from '../runtime.js';
import type { WaitStrategy } from '../wait/index.js';
import { KubeDriver, nodePod, type KubeStreams, type KubernetesRuntimeOptions } from './kubernetes-runtime.js';
import { LOCAL_KUBE_IMAGES } from './images.js';

const healthy: WaitStrategy = { timeoutMs: 1, withTimeout: () => healthy, waitUntilReady: async () => {} };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kube-driver-'));
  mkdirSync(path.join(dir, 'clock'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function specOf(name: string, fakeClock: boolean): NodeSpec {
  return {
    name,
    group: 'g',
    command: [process.execPath, '/project/dist/toys/hello/backend.js'],
    cwd: '/project',
    env: { CHAOSLAB_NODE: '{}' },
    logFile: path.join(dir, 'logs', `${name}.log`),
    healthUrl: 'http://127.0.0.1:1/health',
    healthTimeoutMs: 1000,
    ports: [8080],
    ...(fakeClock ? { fakeClock: { library: '/host/libfaketime.so.1', controlFile: path.join(dir, 'clock', `${name}.faketime`) } } : {}),
  };
}

const podOpts = { projectRoot: '/project', images: LOCAL_KUBE_IMAGES, runId: 'run-1', scenario: 's' };

describe('a node pod', () => {
  it('without a fake clock has no clock volume, init container or preload', () => {
    const { manifest, command } = nodePod(specOf('a', false), podOpts, undefined);
    expect(command).toEqual(['/usr/local/bin/node', '/app/dist/toys/hello/backend.js']);
    expect(manifest.spec!.initContainers).toBeUndefined();
    expect(manifest.spec!.volumes!.map((v) => v.name)).toEqual(['tmp']);
    expect(manifest.spec!.containers[0]!.env!.map((e) => e.name)).toEqual(['CHAOSLAB_NODE']);
  });

  it('with a fake clock preloads the image\'s libfaketime, reads its own emptyDir, and starts with the given text', () => {
    const { manifest } = nodePod(specOf('a', true), podOpts, '-3s');
    const spec = manifest.spec!;
    expect(spec.volumes).toContainEqual({ name: 'clock', emptyDir: { sizeLimit: '1Mi', medium: 'Memory' } });
    const node = spec.containers[0]!;
    expect(node.volumeMounts).toContainEqual({ name: 'clock', mountPath: '/chaoslab/clock' });
    expect(Object.fromEntries(node.env!.map((e) => [e.name, e.value]))).toEqual({
      CHAOSLAB_NODE: '{}',
      LD_PRELOAD: '/app/faketime/libfaketime.so.1',
      FAKETIME_TIMESTAMP_FILE: '/chaoslab/clock/a.faketime',
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
    // The init container writes the text before the node's first clock call; it runs without the preload.
    const [init] = spec.initContainers!;
    expect(init!.command!.slice(0, 2)).toEqual(['/usr/local/bin/node', '-e']);
    expect(init!.command!.slice(3)).toEqual(['--', '/chaoslab/clock/a.faketime', '-3s']);
    expect(init!.env).toBeUndefined();
    expect(init!.volumeMounts).toEqual([{ name: 'clock', mountPath: '/chaoslab/clock' }]);
    expect(init!.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });
});

/** A cluster of one namespace whose pods run as soon as they are created; records every exec. */
function fakeCluster(opts: { onCreate?: (pod: V1Pod) => void } = {}) {
  const pods = new Map<string, V1Pod>();
  const created: V1Pod[] = [];
  const execs: string[][] = [];
  const notFound = () => Object.assign(new Error('not found'), { code: 404 });
  const core = {
    async createNamespacedPod({ body }: { body: V1Pod }) {
      created.push(body);
      opts.onCreate?.(body);
      pods.set(body.metadata!.name!, { ...body, status: { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'node', state: { running: {} } }] } as V1Pod['status'] });
      return body;
    },
    async readNamespacedPod({ name }: { name: string }) {
      const pod = pods.get(name);
      if (!pod) throw notFound();
      return pod;
    },
    async deleteNamespacedPod({ name }: { name: string }) {
      if (!pods.delete(name)) throw notFound();
      return {};
    },
  } as unknown as CoreV1Api;
  const streams: KubeStreams = {
    exec: async (_config, _ns, pod, _container, command) => {
      if (!pods.has(pod)) throw new Error('pod gone');
      execs.push(command);
      return '';
    },
    followLog: async () => ({ ended: Promise.resolve(), stop: () => undefined }),
    forwardPort: async (_config, o) => ({ port: o.hostPort, close: async () => undefined }),
  };
  const runtimeOpts: KubernetesRuntimeOptions = { ...podOpts, config: {} as KubeConfig, core, namespace: 'ns', onAddress: async () => undefined };
  /** The text each created pod's init container writes. */
  const startTexts = () => created.map((p) => p.spec!.initContainers?.[0]?.command?.at(-1));
  /** The text each exec wrote into a pod. */
  const written = () => execs.map((c) => c.at(-1));
  return { core, streams, runtimeOpts, pods, startTexts, written };
}

describe('the clock of a node in Kubernetes', () => {
  it('copies each write of the lab\'s control file into the running pod', async () => {
    const spec = specOf('a', true);
    writeClockOffset(spec.fakeClock!.controlFile, 0);
    const k = fakeCluster();
    const node = new ManagedNode(spec, new KubeDriver(spec, k.runtimeOpts, k.streams), healthy);
    await node.driver.start();
    await node.setClock('-3s');
    await node.setClock('+0');
    expect(k.startTexts()).toEqual(['+0']);
    expect(k.written()).toEqual(['-3s', '+0']);
    expect(readFileSync(spec.fakeClock!.controlFile, 'utf8')).toBe('+0\n');
    await node.stop();
  });

  it('starts a restarted node\'s new pod with the offset on now, and a node stopped meanwhile with the heal', async () => {
    const spec = specOf('a', true);
    writeClockOffset(spec.fakeClock!.controlFile, 0);
    const k = fakeCluster();
    const node = new ManagedNode(spec, new KubeDriver(spec, k.runtimeOpts, k.streams), healthy);
    await node.driver.start();
    await node.setClock('-3s');
    await node.restart();
    await node.stop();
    // The heal while no pod runs: the lab's file only (no exec into a pod that is not there), and the next pod has it.
    await node.setClock('+0');
    await node.driver.start();
    expect(k.startTexts()).toEqual(['+0', '-3s', '+0']);
    expect(k.written()).toEqual(['-3s']);
    await node.stop();
  });

  it('copies a write made while the pod was being created once it runs', async () => {
    const spec = specOf('a', true);
    writeClockOffset(spec.fakeClock!.controlFile, 0);
    let node: ManagedNode | undefined;
    let during: Promise<void> | undefined;
    const k = fakeCluster({ onCreate: () => void (during = node!.setClock('-1s')) });
    node = new ManagedNode(spec, new KubeDriver(spec, k.runtimeOpts, k.streams), healthy);
    await node.driver.start();
    await during;
    expect(k.startTexts()).toEqual(['+0']);
    expect(k.written()).toEqual(['-1s']);
    await node.stop();
  });

  it('refuses a clock write to a node started without libfaketime', async () => {
    const spec = specOf('b', false);
    const k = fakeCluster();
    const node = new ManagedNode(spec, new KubeDriver(spec, k.runtimeOpts, k.streams), healthy);
    await node.driver.start();
    await expect(node.setClock('-3s')).rejects.toThrow(/without a libfaketime control file/);
    expect(k.written()).toEqual([]);
    await node.stop();
  });
});

describe('a node leaving the relay', () => {
  it('is taken out of the relay before its pod is deleted (a deleted pod\'s IP would hang the relay\'s dial)', async () => {
    const spec = specOf('a', false);
    const k = fakeCluster();
    const order: string[] = [];
    const deletePod = k.core.deleteNamespacedPod.bind(k.core);
    (k.core as unknown as { deleteNamespacedPod: typeof deletePod }).deleteNamespacedPod = async (o) => {
      order.push('delete pod');
      return deletePod(o);
    };
    const opts: KubernetesRuntimeOptions = { ...k.runtimeOpts, onAddress: async (_n, _p, ip) => void order.push(ip ? `relay → ${ip}` : 'relay off') };
    const node = new ManagedNode(spec, new KubeDriver(spec, opts, k.streams), healthy);
    await node.driver.start();
    order.length = 0;
    await node.stop();
    expect(order[0]).toBe('relay off');
    expect(order.indexOf('relay off')).toBeLessThan(order.indexOf('delete pod'));
  });
});
