/**
 * What the link fault kinds share: faults on proxied links, each done through Toxiproxy, one proxy per
 * directed link `<from>_to_<to>`. `upstream` is from→to (requests), `downstream` is to→from (responses).
 */
import { z } from 'zod';
import { Selector, type ApplyContext, type FaultKind, type Heal, type LinkInfo, type ToxicsApi } from './fault-kind.js';
import { isGoneError, type ToxicStream, type ToxicType } from './toxiproxy-api.js';

export type Stream = 'upstream' | 'downstream' | 'both';

/** The fields every toxic-based spec has. */
export interface ToxicSpecBase {
  links: string[];
  stream: Stream;
  toxicity: number;
}

/** `links`, `stream` and `toxicity`: the YAML fields of every toxic fault, with the kind's default stream. */
export function toxicFields(defaultStream: Stream) {
  return {
    links: Selector.describe('The proxied links to act on: a link name like frontend_to_backend, a list, or * globs like storage-*_to_metadata.'),
    stream: z
      .enum(['upstream', 'downstream', 'both'])
      .default(defaultStream)
      .describe(`Direction: upstream is from→to (requests), downstream is to→from (responses), both is each; default ${defaultStream}.`),
    toxicity: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe('Share of connections the fault applies to, 0 to 1 (default 1: every connection).'),
  };
}

export const streamsOf = (s: Stream): ToxicStream[] => (s === 'both' ? ['upstream', 'downstream'] : [s]);

export function toxicName(faultId: string, stream: ToxicStream): string {
  return `chaoslab-${faultId}-${stream}`;
}

async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isGoneError(e)) throw e;
  }
}

async function allOrFirstError(ps: readonly Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface ToxicsRequest {
  proxies: readonly string[];
  type: ToxicType;
  streams: readonly ToxicStream[];
  toxicity: number;
  attributes: Record<string, number>;
}

/**
 * Adds one toxic per (proxy, stream); on a partial failure removes what it added and rethrows. Heal
 * removes them; a proxy (or server) that is already gone counts as healed.
 */
export async function addToxics(api: ToxicsApi, faultId: string, req: ToxicsRequest): Promise<Heal> {
  const added: { proxy: string; name: string }[] = [];
  const removeAll = () => allOrFirstError(added.map((t) => ignoreGone(api.removeToxic(t.proxy, t.name))));
  try {
    // Sequential keeps the API calm (toxiproxy #159/#412) and makes rollback exact; each call is ~1 ms.
    for (const proxy of req.proxies) {
      for (const stream of req.streams) {
        const name = toxicName(faultId, stream);
        await api.addToxic(proxy, { name, type: req.type, stream, toxicity: req.toxicity, attributes: req.attributes });
        added.push({ proxy, name });
      }
    }
  } catch (e) {
    await removeAll().catch(() => undefined); // the original error is the one to report
    throw e;
  }
  return removeAll;
}

/** Disables proxies (new connects refused, open connections closed); heal enables them again. */
export async function disableProxies(api: ToxicsApi, proxies: readonly string[]): Promise<Heal> {
  const disabled: string[] = [];
  const enableAll = () => allOrFirstError(disabled.map((p) => ignoreGone(api.setEnabled(p, true))));
  try {
    for (const proxy of proxies) {
      await api.setEnabled(proxy, false);
      disabled.push(proxy);
    }
  } catch (e) {
    await enableAll().catch(() => undefined);
    throw e;
  }
  return enableAll;
}

/** `<what> <stream> on <links>[ (toxicity N%)]`, the journal line of every toxic fault. */
export function toxicLine(what: string, spec: ToxicSpecBase): string {
  const toxicity = spec.toxicity < 1 ? ` (toxicity ${Math.round(spec.toxicity * 100)}%)` : '';
  return `${what} ${spec.stream} on ${spec.links.join(', ')}${toxicity}`;
}

type ToxicInput = { links: string[]; stream: Stream; toxicity: number };

/**
 * A fault kind that is one Toxiproxy toxic on the chosen links: the kind gives its own fields, how they
 * become the spec, its attributes, and its journal line; links, stream, toxicity and apply/heal are shared.
 */
export function toxicKind<Schema extends z.ZodObject, Spec extends ToxicSpecBase & { type: ToxicType }>(kind: {
  schema: Schema;
  /** The kind's own fields of the spec (times in ms). */
  fields(input: z.output<Schema>): Omit<Spec, keyof ToxicSpecBase | 'type'>;
  type: Spec['type'];
  attributes(spec: Spec): Record<string, number>;
  /** What goes before `<stream> on <links>`, e.g. `latency 800ms±50ms`. */
  what(spec: Spec): string;
}): FaultKind<Schema, Spec> {
  return {
    schema: kind.schema,
    resolve(input, ctx) {
      const common = input as z.output<Schema> & ToxicInput;
      return {
        type: kind.type,
        links: ctx.pickLinks(common.links, ['fault', 'links']),
        ...kind.fields(input),
        stream: common.stream,
        toxicity: common.toxicity,
      } as Spec; // the spread of the kind's own fields completes the spec; TS cannot see that through Omit
    },
    describe: (spec) => toxicLine(kind.what(spec), spec),
    targets: (spec) => spec.links,
    claims: (spec) => linkClaims(spec.links),
    apply: (spec, ctx: ApplyContext) =>
      addToxics(ctx.toxiproxy, ctx.faultId, {
        proxies: spec.links,
        type: kind.type,
        streams: streamsOf(spec.stream),
        toxicity: spec.toxicity,
        attributes: kind.attributes(spec),
      }),
  };
}

/** `claims` of a fault on links. */
export const linkClaims = (links: readonly string[]): string[] => links.map((l) => `link:${l}`);

export type { LinkInfo };
