/**
 * Every container and network the lab makes carries these labels; cleanup (the reaper, `chaoslab clean`) finds
 * them by label only, never by name. All labels come from `createLabels`.
 */
import os from 'node:os';

export const LABEL = {
  /** Marks everything the lab made; its value is the label schema version. */
  lab: 'chaoslab',
  run: 'chaoslab.run',
  scenario: 'chaoslab.scenario',
  node: 'chaoslab.node',
  /** `node`, `sandbox` (holds a node's network), `toxiproxy`, `prometheus` or `network`. */
  part: 'chaoslab.part',
  /** `<hostname>/<pid>/<start time>` of the lab that made it: a sweep removes only what a dead lab left. */
  owner: 'chaoslab.owner',
} as const;

export type PartKind = 'node' | 'sandbox' | 'toxiproxy' | 'prometheus' | 'network' | 'load';

export interface LabelOptions {
  scenario?: string;
  node?: string;
  part?: PartKind;
  owner?: string;
}

export function createLabels(runId: string, opts: LabelOptions = {}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL.lab]: '1', [LABEL.run]: runId };
  if (opts.scenario !== undefined) labels[LABEL.scenario] = opts.scenario;
  if (opts.node !== undefined) labels[LABEL.node] = opts.node;
  if (opts.part !== undefined) labels[LABEL.part] = opts.part;
  if (opts.owner !== undefined) labels[LABEL.owner] = opts.owner;
  return labels;
}

/** A Docker API `filters` value selecting one run's objects (or every lab object when runId is undefined). */
export function runFilter(runId?: string): { label: string[] } {
  return { label: [runId === undefined ? `${LABEL.run}` : `${LABEL.run}=${runId}`] };
}

export interface Owner {
  host: string;
  pid: number;
  startTime: string | null;
}

export function formatOwner(o: Owner): string {
  return `${o.host}/${o.pid}/${o.startTime ?? ''}`;
}

export function parseOwner(text: string | undefined): Owner | undefined {
  if (!text) return undefined;
  const m = /^(.*)\/(\d+)\/(\d*)$/.exec(text);
  if (!m) return undefined;
  return { host: m[1]!, pid: Number(m[2]), startTime: m[3] === '' ? null : m[3]! };
}

export function thisHost(): string {
  return os.hostname();
}

/**
 * Docker object names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; run ids and node names already fit, this keeps it so.
 * Nodes are `chaoslab-<run>-<node>`; the lab's own containers end in `_<part>`, which no node name can (node
 * names are [a-z][a-z0-9-]*), so a node called `toxiproxy` cannot collide with the part.
 */
export function partName(runId: string, part: string): string {
  return `${objectName('chaoslab', runId)}_${part.replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
}

export function objectName(...parts: string[]): string {
  return parts
    .join('-')
    .replace(/[^a-zA-Z0-9_.-]/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, 200);
}
