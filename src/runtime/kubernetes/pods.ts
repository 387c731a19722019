/**
 * One namespace per run and the pods in it. The namespace carries the run's labels (as the Docker runtime's
 * containers do) and two annotations: the owner (`<host>/<pid>/<start time>` of the lab, as Docker's owner label)
 * and a deadline, so `chaoslab clean` and the reaper delete whatever a crashed lab left with one call. Pods are
 * unprivileged (non-root, no privilege escalation, all capabilities dropped, read-only root, RuntimeDefault
 * seccomp), with requests and limits, never on the host network.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Exec, Log, type KubeConfig, type V1Container, type V1Namespace, type V1Pod, type CoreV1Api } from '@kubernetes/client-node';
import { sleep } from '../../common/time.js';
import { LABEL, createLabels, type PartKind } from '../docker/labels.js';
import { isHttp, reason } from './cluster-api.js';

export const ANNOTATION = {
  owner: 'chaoslab.io/owner',
  /** ISO time after which a sweep may delete the namespace even if the owner cannot be judged (another host). */
  deadline: 'chaoslab.io/deadline',
  context: 'chaoslab.io/context',
} as const;

/** Namespaces are DNS labels: lowercase, [a-z0-9-], at most 63 characters. */
export function namespaceName(runId: string): string {
  return `chaoslab-${runId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** Label values: at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric. */
export function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

export function kubeLabels(runId: string, opts: { scenario?: string; node?: string; part?: PartKind | 'relay' } = {}): Record<string, string> {
  const { [LABEL.owner]: _owner, ...labels } = createLabels(runId, { ...(opts.scenario ? { scenario: opts.scenario } : {}), ...(opts.node ? { node: opts.node } : {}), ...(opts.part && opts.part !== 'relay' ? { part: opts.part } : {}) });
  if (opts.part === 'relay') labels[LABEL.part] = 'relay';
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, labelValue(v)]));
}

export function namespaceManifest(runId: string, scenario: string, owner: string, deadline: Date, context: string): V1Namespace {
  return {
    metadata: {
      name: namespaceName(runId),
      labels: kubeLabels(runId, { scenario }),
      annotations: { [ANNOTATION.owner]: owner, [ANNOTATION.deadline]: deadline.toISOString(), [ANNOTATION.context]: context, [`${LABEL.run}`]: runId },
    },
  };
}

export interface Resources {
  cpu: string;
  memory: string;
}

export interface PodOptions {
  name: string;
  labels: Record<string, string>;
  containers: V1Container[];
  initContainers?: V1Container[];
  /** Emptydir volumes by name (mounted by the containers themselves). */
  volumes?: { name: string; sizeLimit: string; memory?: boolean }[];
  /** So a signal sent by `kubectl exec`-style calls reaches the main process (then not pid 1). */
  shareProcessNamespace?: boolean;
  /** Spread pods of one group over the cluster's nodes where it can. */
  spreadBy?: { key: string; value: string };
  terminationGraceS?: number;
}

/** What every container of the lab gets: an unprivileged user and no way to gain privileges. */
export function restrictedContext(readOnlyRoot = true): V1Container['securityContext'] {
  return {
    runAsNonRoot: true,
    runAsUser: 65534,
    runAsGroup: 65534,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: readOnlyRoot,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function podManifest(o: PodOptions): V1Pod {
  return {
    metadata: { name: o.name, labels: o.labels },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      terminationGracePeriodSeconds: o.terminationGraceS ?? 2,
      ...(o.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      containers: o.containers,
      ...(o.volumes ? { volumes: o.volumes.map((v) => ({ name: v.name, emptyDir: { sizeLimit: v.sizeLimit, ...(v.memory ? { medium: 'Memory' } : {}) } })) } : {}),
      ...(o.spreadBy
        ? {
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { [o.spreadBy.key]: o.spreadBy.value } } } },
                ],
              },
            },
          }
        : {}),
    },
  };
}

export interface PodState {
  phase: string;
  ip: string | undefined;
  /** The named container's state. */
  running: boolean;
  terminated: { exitCode: number; signal?: number; reason?: string } | undefined;
  waiting: { reason?: string; message?: string } | undefined;
}

export function podState(pod: V1Pod, container: string): PodState {
  const cs = pod.status?.containerStatuses?.find((c) => c.name === container);
  const t = cs?.state?.terminated;
  const w = cs?.state?.waiting;
  return {
    phase: pod.status?.phase ?? 'Pending',
    ip: pod.status?.podIP,
    running: Boolean(cs?.state?.running),
    terminated: t ? { exitCode: t.exitCode, ...(t.signal !== undefined ? { signal: t.signal } : {}), ...(t.reason ? { reason: t.reason } : {}) } : undefined,
    waiting: w ? { ...(w.reason ? { reason: w.reason } : {}), ...(w.message ? { message: w.message } : {}) } : undefined,
  };
}

/** Reasons a container never starts: the pod will not get better by waiting. */
const HOPELESS = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Polls until the container runs and the pod has an IP; throws with the reason when it cannot or ends first. */
export async function waitRunning(core: CoreV1Api, namespace: string, name: string, container: string, timeoutMs: number): Promise<PodState> {
  const deadline = Date.now() + timeoutMs;
  let last: PodState | undefined;
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace });
    last = podState(pod, container);
    if (last.running && last.ip) return last;
    if (last.terminated) throw new Error(`the container ended at once (exit code ${last.terminated.exitCode}${last.terminated.reason ? `, ${last.terminated.reason}` : ''})`);
    // An init container that failed (restartPolicy Never): the pod is Failed before its container ever ran.
    const init = pod.status?.initContainerStatuses?.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0);
    if (init) throw new Error(`its init container ${init.name} failed (exit code ${init.state!.terminated!.exitCode}${init.state!.terminated!.message ? `: ${init.state!.terminated!.message.trim()}` : ''})`);
    if (last.waiting?.reason && HOPELESS.has(last.waiting.reason)) throw new Error(`${last.waiting.reason}: ${last.waiting.message ?? ''}`.trim());
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (Date.now() > deadline) {
      throw new Error(`not running after ${timeoutMs / 1000} s (phase ${last.phase}${last.waiting?.reason ? `, ${last.waiting.reason}` : ''}${unschedulable?.message ? `, ${unschedulable.message}` : ''})`);
    }
    await sleep(100);
  }
}

/** Deletes a pod (grace in seconds) and resolves once the API server no longer has it. */
export async function deletePod(core: CoreV1Api, namespace: string, name: string, graceS: number, timeoutMs = 30_000): Promise<void> {
  try {
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: graceS });
  } catch (e) {
    if (isHttp(e, 404)) return;
    throw e;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await core.readNamespacedPod({ name, namespace });
    } catch (e) {
      if (isHttp(e, 404)) return;
      throw e;
    }
    await sleep(100);
  }
  throw new Error(`pod ${namespace}/${name} still exists ${timeoutMs / 1000} s after its deletion`);
}

/** Runs a command in a container and resolves with its stdout (rejects with stderr on a non-zero exit). */
export async function execIn(config: KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<string> {
  let out = '';
  let err = '';
  const sink = (into: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        into(chunk.toString('utf8'));
        cb();
      },
    });
  return new Promise<string>((resolve, reject) => {
    new Exec(config)
      .exec(namespace, pod, container, command, sink((s) => (out += s)), sink((s) => (err += s)), null, false, (status) => {
        if (status.status === 'Success') resolve(out);
        else reject(new Error(`${command[0]} in ${pod}: ${status.message ?? status.reason ?? 'failed'}${err ? `: ${err.trim()}` : ''}`));
      })
      .then(
        (ws) => ws.on('close', () => setTimeout(() => reject(new Error(`exec in ${pod} closed without a status${err ? `: ${err.trim()}` : ''}`)), 1000)),
        (e: unknown) => reject(new Error(`exec in ${pod}: ${reason(e)}`)),
      );
  });
}

/**
 * Streams a container's log into a file (appended, across incarnations) until `stop()` or the container ends.
 * `ended` resolves when the stream is done.
 */
export async function followLog(config: KubeConfig, namespace: string, pod: string, container: string, file: string): Promise<{ ended: Promise<void>; stop(): void }> {
  mkdirSync(path.dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'a' });
  let done!: () => void;
  const ended = new Promise<void>((r) => (done = r));
  const finish = () => out.end(() => done());
  const abort = await new Log(config).log(namespace, pod, container, out, () => finish(), { follow: true }).catch(() => {
    finish();
    return undefined;
  });
  out.on('error', () => undefined);
  return { ended, stop: () => abort?.abort() };
}

export { LABEL };
