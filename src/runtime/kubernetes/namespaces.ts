/**
 * The run's namespace: made first, deleted last (one call removes every pod of the run), and the sweep behind
 * `chaoslab clean` and the start of every Kubernetes run: namespaces labelled `chaoslab.run` whose owner
 * annotation names this host and a pid that is no longer the same process, or whose deadline has passed.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { isSameProcessAlive } from '../proc.js';
import { LABEL, parseOwner, thisHost } from '../docker/labels.js';
import { isHttp } from './cluster-api.js';
import { ANNOTATION } from './pods.js';
import { sleep } from '../../common/time.js';

/** Deletes a namespace (the cluster deletes its pods in the background); a missing one is fine. */
export async function deleteNamespace(core: CoreV1Api, name: string): Promise<boolean> {
  try {
    await core.deleteNamespace({ name, propagationPolicy: 'Background' });
    return true;
  } catch (e) {
    if (isHttp(e, 404)) return false;
    throw e;
  }
}

/** Resolves once the namespace is gone (its pods deleted), or after `timeoutMs`; returns whether it is gone. */
export async function waitNamespaceGone(core: CoreV1Api, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await core.readNamespace({ name });
    } catch (e) {
      if (isHttp(e, 404)) return true;
    }
    await sleep(200);
  }
  return false;
}

export interface LeftoverNamespace {
  name: string;
  runId: string;
  owner: string | undefined;
}

/**
 * Deletes the namespaces of runs whose lab is gone (or all of the lab's, with `all`), except `exceptRunId` and
 * kept runs. Returns what it deleted.
 */
export async function cleanKubeLeftovers(core: CoreV1Api, opts: { all?: boolean; exceptRunId?: string; keptRunIds?: ReadonlySet<string>; now?: Date } = {}): Promise<LeftoverNamespace[]> {
  const list = await core.listNamespace({ labelSelector: LABEL.run });
  const now = (opts.now ?? new Date()).getTime();
  const stale: LeftoverNamespace[] = [];
  for (const ns of list.items) {
    const name = ns.metadata?.name;
    const runId = ns.metadata?.annotations?.[LABEL.run] ?? ns.metadata?.labels?.[LABEL.run];
    if (!name || !runId || runId === opts.exceptRunId || opts.keptRunIds?.has(runId)) continue;
    if (ns.status?.phase === 'Terminating') continue;
    const owner = ns.metadata?.annotations?.[ANNOTATION.owner];
    const deadline = Date.parse(ns.metadata?.annotations?.[ANNOTATION.deadline] ?? '');
    if (opts.all || isOwnerGone(owner) || (Number.isFinite(deadline) && deadline < now)) stale.push({ name, runId, owner });
  }
  await Promise.all(stale.map((s) => deleteNamespace(core, s.name)));
  return stale;
}

function isOwnerGone(text: string | undefined): boolean {
  const owner = parseOwner(text);
  if (!owner || owner.host !== thisHost()) return false;
  return !isSameProcessAlive(owner.pid, owner.startTime);
}
