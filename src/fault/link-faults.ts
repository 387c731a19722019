import { LabError } from '../errors/lab-error.js';
import { Errors } from '../errors/catalog.js';
import { isGoneError, type ToxicStream, type ToxicType, type ToxiproxyApi } from './toxiproxy-api.js';

/**
 * Network faults on the links between nodes, each done through Toxiproxy: one proxy per directed
 * link `<from>_to_<to>`. `upstream` is from→to (requests), `downstream` is to→from (responses).
 */

export type Stream = 'upstream' | 'downstream' | 'both';

/** Resolved specs: times already in ms (the scenario loader produces these). */
export type LinkFaultSpec =
  | { type: 'latency'; links: string[]; latencyMs: number; jitterMs: number; stream: Stream; toxicity: number }
  | { type: 'bandwidth'; links: string[]; rateKBps: number; stream: Stream; toxicity: number }
  /** Black hole: data dropped; the connection closes after timeoutMs, never with 0. */
  | { type: 'timeout'; links: string[]; timeoutMs: number; stream: Stream; toxicity: number }
  | { type: 'reset_peer'; links: string[]; timeoutMs: number; stream: Stream; toxicity: number }
  | { type: 'slow_close'; links: string[]; delayMs: number; stream: Stream; toxicity: number }
  | { type: 'slicer'; links: string[]; averageSize: number; sizeVariation: number; delayUs: number; stream: Stream; toxicity: number }
  | { type: 'limit_data'; links: string[]; bytes: number; stream: Stream; toxicity: number }
  /** Proxy disabled: new connects refused, open connections closed. */
  | { type: 'down'; links: string[] }
  | { type: 'partition'; groups: string[][]; oneWay: boolean; mode: 'blackhole' | 'down' };

export type SpecOf<T extends LinkFaultSpec['type']> = Extract<LinkFaultSpec, { type: T }>;
type ToxicSpecOf = Extract<LinkFaultSpec, { stream: Stream }>;

export interface LinkInfo {
  name: string;
  from: string;
  to: string;
}

export interface LinkFaultContext {
  /** Unique per applied fault; goes into toxic names so two faults never collide. */
  faultId: string;
  /** Every proxy of the cluster (partition resolves its cuts from this). */
  links: readonly LinkInfo[];
}

export interface AppliedToxic {
  proxy: string;
  name: string;
  stream: 'upstream' | 'downstream';
}

export interface AppliedFault {
  faultId: string;
  spec: LinkFaultSpec;
  description: string;
  /** Toxics this fault added (empty for down). */
  toxics: readonly AppliedToxic[];
  /** Proxies this fault disabled (empty for toxic faults). */
  disabledProxies: readonly string[];
  /** Undo the fault. Idempotent; a proxy (or server) that is already gone counts as healed. */
  heal(): Promise<void>;
}

export interface LinkFault<S extends LinkFaultSpec> {
  apply(api: ToxiproxyApi, spec: S, ctx: LinkFaultContext): Promise<AppliedFault>;
}

// ---------------------------------------------------------------------------------------------

const streamsOf = (s: Stream): ToxicStream[] => (s === 'both' ? ['upstream', 'downstream'] : [s]);

export function toxicName(faultId: string, stream: ToxicStream): string {
  return `chaoslab-${faultId}-${stream}`;
}

/** Makes heal idempotent and safe to call concurrently; a failed heal may be retried. */
function onceHeal(undo: () => Promise<void>): () => Promise<void> {
  let done = false;
  let running: Promise<void> | undefined;
  return () => {
    if (done) return Promise.resolve();
    running ??= undo().then(
      () => {
        done = true;
        running = undefined;
      },
      (e: unknown) => {
        running = undefined;
        throw e;
      },
    );
    return running;
  };
}

async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isGoneError(e)) throw e;
  }
}

/** Adds one toxic per (link, stream); on a partial failure removes what it added and rethrows. */
async function applyToxics(
  api: ToxiproxyApi,
  spec: LinkFaultSpec,
  ctx: LinkFaultContext,
  proxies: readonly string[],
  type: ToxicType,
  streams: readonly ToxicStream[],
  toxicity: number,
  attributes: Record<string, number>,
): Promise<AppliedFault> {
  const added: AppliedToxic[] = [];
  const removeAll = async (): Promise<void> => {
    const results = await Promise.allSettled(added.map((t) => ignoreGone(api.removeToxic(t.proxy, t.name))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    // Sequential keeps the API calm (toxiproxy #159/#412) and makes rollback exact; each call is ~1 ms.
    for (const proxy of proxies) {
      for (const stream of streams) {
        const name = toxicName(ctx.faultId, stream);
        await api.addToxic(proxy, { name, type, stream, toxicity, attributes });
        added.push({ proxy, name, stream });
      }
    }
  } catch (e) {
    await removeAll().catch(() => undefined); // the original error is the one to report
    throw e;
  }
  return {
    faultId: ctx.faultId,
    spec,
    description: describeFault(spec),
    toxics: added,
    disabledProxies: [],
    heal: onceHeal(removeAll),
  };
}

async function disableProxies(
  api: ToxiproxyApi,
  spec: LinkFaultSpec,
  ctx: LinkFaultContext,
  proxies: readonly string[],
): Promise<AppliedFault> {
  const disabled: string[] = [];
  const enableAll = async (): Promise<void> => {
    const results = await Promise.allSettled(disabled.map((p) => ignoreGone(api.setEnabled(p, true))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    for (const proxy of proxies) {
      await api.setEnabled(proxy, false);
      disabled.push(proxy);
    }
  } catch (e) {
    await enableAll().catch(() => undefined);
    throw e;
  }
  return {
    faultId: ctx.faultId,
    spec,
    description: describeFault(spec),
    toxics: [],
    disabledProxies: disabled,
    heal: onceHeal(enableAll),
  };
}

/** A fault that is one Toxiproxy toxic type with attributes taken from the spec. */
function toxicFault<T extends ToxicSpecOf['type']>(
  type: T & ToxicType,
  attributes: (spec: SpecOf<T>) => Record<string, number>,
): LinkFault<SpecOf<T>> {
  return {
    apply: (api, spec, ctx) => {
      // Every SpecOf<T> here is a ToxicSpecOf; TS does not narrow the generic.
      const s: ToxicSpecOf = spec;
      return applyToxics(api, spec, ctx, s.links, type, streamsOf(s.stream), s.toxicity, attributes(spec));
    },
  };
}

/**
 * The proxies a partition cuts. A link is cut when its ends lie in different groups; with
 * `oneWay`, only links from groups[0] to another group. Nodes in no group keep all their links.
 */
export function resolvePartitionLinks(
  groups: readonly (readonly string[])[],
  oneWay: boolean,
  links: readonly LinkInfo[],
): LinkInfo[] {
  const groupOf = new Map<string, number>();
  groups.forEach((members, i) => {
    for (const node of members) {
      const seen = groupOf.get(node);
      if (seen !== undefined && seen !== i) {
        throw new LabError(Errors.InvalidScenario, `partition: node "${node}" is in groups ${seen} and ${i}`, {
          hint: 'each node may be in one partition group only',
        });
      }
      groupOf.set(node, i);
    }
  });
  return links.filter((l) => {
    const from = groupOf.get(l.from);
    const to = groupOf.get(l.to);
    if (from === undefined || to === undefined || from === to) return false;
    return oneWay ? from === 0 : true;
  });
}

export const LinkFaults = {
  latency: toxicFault('latency', (s) => ({ latency: s.latencyMs, jitter: s.jitterMs })),
  bandwidth: toxicFault('bandwidth', (s) => ({ rate: s.rateKBps })),
  timeout: toxicFault('timeout', (s) => ({ timeout: s.timeoutMs })),
  reset_peer: toxicFault('reset_peer', (s) => ({ timeout: s.timeoutMs })),
  slow_close: toxicFault('slow_close', (s) => ({ delay: s.delayMs })),
  slicer: toxicFault('slicer', (s) => ({ average_size: s.averageSize, size_variation: s.sizeVariation, delay: s.delayUs })),
  limit_data: toxicFault('limit_data', (s) => ({ bytes: s.bytes })),
  down: {
    apply: (api, spec, ctx) => disableProxies(api, spec, ctx, spec.links),
  },
  partition: {
    async apply(api, spec, ctx) {
      const cut = resolvePartitionLinks(spec.groups, spec.oneWay, ctx.links).map((l) => l.name);
      if (cut.length === 0) {
        // A partition that cuts nothing would make the run prove nothing: fail loudly.
        throw new LabError(Errors.InvalidScenario, `${describeFault(spec)} cuts no link`, {
          hint: 'partition groups must name node instances that have proxied links between them',
        });
      }
      // Blackhole = timeout 0 both ways: silent drop; new connects still succeed (toxiproxy #265).
      return spec.mode === 'down'
        ? disableProxies(api, spec, ctx, cut)
        : applyToxics(api, spec, ctx, cut, 'timeout', ['upstream', 'downstream'], 1, { timeout: 0 });
    },
  },
} as const satisfies { [K in LinkFaultSpec['type']]: LinkFault<SpecOf<K>> };

export type LinkFaultType = keyof typeof LinkFaults;

export function isLinkFaultType(t: string): t is LinkFaultType {
  return Object.hasOwn(LinkFaults, t);
}

/** Applies any link fault by its type. */
export function applyLinkFault(api: ToxiproxyApi, spec: LinkFaultSpec, ctx: LinkFaultContext): Promise<AppliedFault> {
  // The registry's `satisfies` ties each key to its spec; TS cannot follow that through an index.
  const fault = LinkFaults[spec.type] as LinkFault<LinkFaultSpec>;
  return fault.apply(api, spec, ctx);
}

// ---------------------------------------------------------------------------------------------

/** One line for journals and the terminal, e.g. `latency 800ms±50ms downstream on frontend_to_backend`. */
export function describeFault(spec: LinkFaultSpec): string {
  switch (spec.type) {
    case 'latency':
      return toxicLine(`latency ${spec.latencyMs}ms${spec.jitterMs > 0 ? `±${spec.jitterMs}ms` : ''}`, spec);
    case 'bandwidth':
      return toxicLine(`bandwidth ${spec.rateKBps}KB/s`, spec);
    case 'timeout':
      return toxicLine(
        spec.timeoutMs === 0 ? 'timeout (black hole, never closes)' : `timeout (black hole, closes after ${spec.timeoutMs}ms)`,
        spec,
      );
    case 'reset_peer':
      return toxicLine(`reset_peer after ${spec.timeoutMs}ms`, spec);
    case 'slow_close':
      return toxicLine(`slow_close ${spec.delayMs}ms`, spec);
    case 'slicer':
      return toxicLine(`slicer ${spec.averageSize}±${spec.sizeVariation}B every ${spec.delayUs}µs`, spec);
    case 'limit_data':
      return toxicLine(`limit_data ${spec.bytes}B`, spec);
    case 'down':
      return `down on ${spec.links.join(', ')}`;
    case 'partition': {
      const groups = spec.groups.map((g) => `[${g.join(', ')}]`);
      const shape = spec.oneWay ? `${groups[0] ?? '[]'} -> ${groups.slice(1).join(' ') || '[]'} one-way` : groups.join(' | ');
      return `partition ${shape} (${spec.mode})`;
    }
  }
}

function toxicLine(what: string, spec: ToxicSpecOf): string {
  const toxicity = spec.toxicity < 1 ? ` (toxicity ${Math.round(spec.toxicity * 100)}%)` : '';
  return `${what} ${spec.stream} on ${spec.links.join(', ')}${toxicity}`;
}
