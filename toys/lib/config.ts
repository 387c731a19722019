/**
 * The contract between the lab and a toy process: the lab starts `node dist/toys/<toy>/<file>.js` with env
 * `CHAOSLAB_NODE` holding a JSON `NodeConfig`. Peers are Toxiproxy listen addresses, so a toy reaches its peers
 * only through the proxies the lab can break.
 */
export type ParamValue = number | string | boolean;

export interface NodeConfig {
  /** Unique in the cluster, e.g. `storage-2`. */
  name: string;
  /** The group (role) this node belongs to, e.g. `storage`. */
  group: string;
  /** 0-based index inside the group. */
  index: number;
  /** Interface to listen on; always loopback in the lab. */
  host: string;
  /** Named listen ports; every toy serves HTTP on `ports.http` (0 = ephemeral, used by tests). */
  ports: Record<string, number> & { http: number };
  /** `host:port` addresses of other nodes, keyed by group name. */
  /** Peer addresses by group, in index order, never including this node itself. */
  peers: Record<string, string[]>;
  /** Scenario-chosen knobs; read them through `Params`. */
  params: Record<string, ParamValue>;
  seed: number;
  runId: string;
}

export const NODE_CONFIG_ENV = 'CHAOSLAB_NODE';

/** A bad contract: the toy refuses to start (exit 2) and says why on stderr. */
export class ToyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToyConfigError';
  }
}

const KEYS = ['name', 'group', 'index', 'host', 'ports', 'peers', 'params', 'seed', 'runId'] as const;
const ADDRESS = /^[^\s:]+:(\d{1,5})$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Validates the JSON text; reports every problem at once. */
export function parseNodeConfig(text: string | undefined): NodeConfig {
  if (text === undefined || text.trim() === '') {
    throw new ToyConfigError(`${NODE_CONFIG_ENV} is not set; toys are started by the lab (chaoslab run), not by hand`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ToyConfigError(`${NODE_CONFIG_ENV} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new ToyConfigError(`${NODE_CONFIG_ENV} must be a JSON object, got ${show(raw)}`);

  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) problems.push(`unknown key "${key}"`);
  }
  for (const key of ['name', 'group', 'host', 'runId'] as const) {
    if (typeof raw[key] !== 'string' || raw[key] === '') problems.push(`"${key}" must be a non-empty string, got ${show(raw[key])}`);
  }
  if (!Number.isInteger(raw.index) || (raw.index as number) < 0) problems.push(`"index" must be an integer >= 0, got ${show(raw.index)}`);
  if (!Number.isInteger(raw.seed)) problems.push(`"seed" must be an integer, got ${show(raw.seed)}`);

  if (!isObject(raw.ports)) problems.push(`"ports" must be an object of name → port, got ${show(raw.ports)}`);
  else {
    if (!('http' in raw.ports)) problems.push('"ports.http" is required');
    for (const [k, v] of Object.entries(raw.ports)) {
      if (!isPort(v)) problems.push(`"ports.${k}" must be a port number 0..65535, got ${show(v)}`);
    }
  }

  if (!isObject(raw.peers)) problems.push(`"peers" must be an object of group → ["host:port", ...], got ${show(raw.peers)}`);
  else {
    for (const [group, list] of Object.entries(raw.peers)) {
      if (!Array.isArray(list)) {
        problems.push(`"peers.${group}" must be an array of "host:port", got ${show(list)}`);
        continue;
      }
      list.forEach((addr, i) => {
        const m = typeof addr === 'string' ? ADDRESS.exec(addr) : null;
        if (!m || !isPort(Number(m[1]))) problems.push(`"peers.${group}[${i}]" must be "host:port", got ${show(addr)}`);
      });
    }
  }

  if (!isObject(raw.params)) problems.push(`"params" must be an object, got ${show(raw.params)}`);
  else {
    for (const [k, v] of Object.entries(raw.params)) {
      const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) problems.push(`"params.${k}" must be a number, string or boolean, got ${show(v)}`);
    }
  }

  if (problems.length > 0) throw new ToyConfigError(`${NODE_CONFIG_ENV} is invalid:\n  - ${problems.join('\n  - ')}`);
  return raw as unknown as NodeConfig;
}

/**
 * Typed access to `config.params`. A present param of the wrong type is an error, never silently the default.
 * Reads are tracked so the toy can refuse params it never read: a typo in a scenario fails loudly at start.
 */
export class Params {
  readonly #values: Record<string, ParamValue>;
  readonly #read = new Set<string>();
  readonly #live = new Map<string, { type: 'number' | 'boolean' | 'string'; value: ParamValue; oneOf?: readonly string[] }>();

  constructor(values: Record<string, ParamValue>) {
    this.#values = values;
  }

  num(name: string, fallback: number): number {
    return this.#get(name, 'number', fallback);
  }

  bool(name: string, fallback: boolean): boolean {
    return this.#get(name, 'boolean', fallback);
  }

  str(name: string, fallback: string): string {
    return this.#get(name, 'string', fallback);
  }

  /**
   * A live param: read now like `num`, but the returned getter gives the value as it is after any config push
   * (`POST /admin/params`), as a production service reloads a flag without a restart. Read it per request.
   */
  liveNum(name: string, fallback: number): () => number {
    return this.#declareLive(name, 'number', this.num(name, fallback));
  }

  liveBool(name: string, fallback: boolean): () => boolean {
    return this.#declareLive(name, 'boolean', this.bool(name, fallback));
  }

  /** With `oneOf`, the start value and every push must be one of those strings. */
  liveStr(name: string, fallback: string, oneOf?: readonly string[]): () => string {
    const value = this.str(name, fallback);
    if (oneOf && !oneOf.includes(value)) throw new ToyConfigError(`param "${name}" must be one of ${oneOf.map(show).join(', ')}, got ${show(value)}`);
    const get = this.#declareLive(name, 'string', value);
    if (oneOf) this.#live.get(name)!.oneOf = oneOf;
    return get;
  }

  /** The live params and their values now. */
  liveValues(): Record<string, ParamValue> {
    return Object.fromEntries([...this.#live].map(([k, v]) => [k, v.value]));
  }

  /**
   * A config push: every key must be a live param and have its type; all or nothing. Returns the values after it.
   * Throws a `ToyConfigError` naming every problem (the admin route answers 400 with it).
   */
  setLive(changes: unknown): Record<string, ParamValue> {
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) throw new ToyConfigError(`a config push is a JSON object of param → value, got ${show(changes)}`);
    const problems: string[] = [];
    for (const [k, v] of Object.entries(changes)) {
      const live = this.#live.get(k);
      if (!live) problems.push(`"${k}" is not a live param (live: ${[...this.#live.keys()].join(', ') || 'none'})`);
      else if (typeof v !== live.type || (typeof v === 'number' && !Number.isFinite(v))) problems.push(`"${k}" must be a ${live.type}, got ${show(v)}`);
      else if (live.oneOf && !live.oneOf.includes(v as string)) problems.push(`"${k}" must be one of ${live.oneOf.map(show).join(', ')}, got ${show(v)}`);
    }
    if (problems.length > 0) throw new ToyConfigError(problems.join('; '));
    for (const [k, v] of Object.entries(changes)) this.#live.get(k)!.value = v as ParamValue;
    return this.liveValues();
  }

  #declareLive<T extends ParamValue>(name: string, type: 'number' | 'boolean' | 'string', initial: T): () => T {
    const slot = { type, value: initial as ParamValue };
    this.#live.set(name, slot);
    return () => slot.value as T;
  }

  /** Names the toy asked for, in order. */
  read(): string[] {
    return [...this.#read];
  }

  /** Params given by the lab that the toy never asked for. */
  unread(): string[] {
    return Object.keys(this.#values).filter((k) => !this.#read.has(k));
  }

  #get<T extends ParamValue>(name: string, type: 'number' | 'boolean' | 'string', fallback: T): T {
    this.#read.add(name);
    const v = this.#values[name];
    if (v === undefined) return fallback;
    if (typeof v !== type) throw new ToyConfigError(`param "${name}" must be a ${type}, got ${show(v)}`);
    return v as T;
  }
}
