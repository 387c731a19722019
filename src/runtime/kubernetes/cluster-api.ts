/**
 * The user's Kubernetes cluster as the lab uses it: their kubeconfig (KUBECONFIG or ~/.kube/config), the context
 * they chose (`--kube-context`, else the current one), and a check that the API server answers and lets us make a
 * namespace. A bad kubeconfig or context is exit 3 naming the context and the reason, before anything starts.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';

export interface KubeTarget {
  /** The context's name (for messages and the kept-run record). */
  context: string;
  /** The API server's URL. */
  server: string;
  config: KubeConfig;
  core: CoreV1Api;
}

export interface KubeTargetOptions {
  /** `--kube-context`; default the kubeconfig's current context. */
  context?: string;
  /** A kubeconfig file; default KUBECONFIG, else ~/.kube/config (client-node's rules). */
  kubeconfig?: string;
}

/** Loads the kubeconfig and picks the context; throws exit 3 naming the context and what is wrong. */
export function loadKubeTarget(opts: KubeTargetOptions = {}): KubeTarget {
  const config = new KubeConfig();
  const where = opts.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
  try {
    if (opts.kubeconfig) config.loadFromFile(opts.kubeconfig);
    else config.loadFromDefault();
  } catch (e) {
    throw unavailable(opts.context ?? '(current)', where, `the kubeconfig cannot be read: ${reason(e)}`);
  }
  if (opts.context !== undefined) {
    if (!config.getContextObject(opts.context)) {
      const known = config.getContexts().map((c) => c.name);
      throw unavailable(opts.context, where, `no such context (the kubeconfig has: ${known.join(', ') || 'none'})`);
    }
    config.setCurrentContext(opts.context);
  }
  const context = config.getCurrentContext();
  const cluster = config.getCurrentCluster();
  if (!context || !cluster) throw unavailable(context || '(none)', where, 'the kubeconfig names no current context with a cluster');
  return { context, server: cluster.server, config, core: config.makeApiClient(CoreV1Api) };
}

/** Asks the API server for its nodes (one call, with a deadline); exit 3 naming the context on any failure. */
export async function checkKubeTarget(target: KubeTarget, timeoutMs = 10_000): Promise<{ nodes: { name: string; podCIDR?: string; ready: boolean }[] }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const list = await Promise.race([
      target.core.listNode(),
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
    const nodes = list.items.map((n) => ({
      name: n.metadata?.name ?? '?',
      ...(n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR } : {}),
      ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    }));
    if (!nodes.some((n) => n.ready)) throw new Error(`no node is Ready (${nodes.map((n) => n.name).join(', ') || 'no nodes'})`);
    return { nodes };
  } catch (e) {
    throw unavailable(target.context, target.server, reason(e));
  } finally {
    clearTimeout(timer);
  }
}

function unavailable(context: string, where: string, why: string): LabError {
  return new LabError(Errors.KubernetesUnavailable, `Kubernetes context "${context}" (${where}) cannot be used: ${why}`, {
    hint: 'check KUBECONFIG and --kube-context (kubectl config get-contexts); for the local test cluster: bash scripts/k8s-test-cluster.sh up',
  });
}

/** A short reason from a client-node error (ApiException carries the HTTP code and the Status body). */
export function reason(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; body?: unknown; message?: unknown; cause?: unknown };
    if (typeof o.code === 'number') {
      let message = '';
      try {
        message = (JSON.parse(String(o.body)) as { message?: string }).message ?? '';
      } catch {
        message = typeof o.body === 'string' ? o.body.slice(0, 200) : '';
      }
      return `HTTP ${o.code}${message ? `: ${message}` : ''}`;
    }
    const cause = o.cause && typeof o.cause === 'object' && 'message' in o.cause ? ` (${String((o.cause as { message: unknown }).message)})` : '';
    if (typeof o.message === 'string') return `${o.message.split('\n')[0]}${cause}`;
  }
  return String(e);
}

/** Whether a client-node error is HTTP `code` (404: gone, 409: exists). */
export function isHttp(e: unknown, code: number): boolean {
  return Boolean(e && typeof e === 'object' && (e as { code?: unknown }).code === code);
}
