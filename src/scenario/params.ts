/**
 * Node parameters: their types come from the defaults the cluster file declares (`backendTimeoutMs: 0`
 * is a number, `fallback: false` a boolean), and every override (a mitigation, the scenario, a
 * variant, `--set`) is checked against them before anything starts. A string default that is a
 * duration (`200ms`) makes a duration parameter: its overrides must be durations too (at most 24 h). A toy refuses a parameter of
 * the wrong type at start-up; catching it here makes it exit 2 instead of a part failure (exit 3).
 */
import { parseDuration } from '../common/duration.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { quoted, shown } from './load-yaml.js';
import type { Params } from './plan.js';
import type { ParamValueT } from './schema.js';
import { LIMITS, MAX_DURATION_TEXT } from './limits.js';

const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;

export type ParamType = 'number' | 'boolean' | 'string';

export function paramType(value: ParamValueT): ParamType {
  return typeof value as ParamType;
}

const EXAMPLE: Record<ParamType, string> = { number: '150', boolean: 'true', string: 'fast' };

/** Why `value` cannot be a parameter whose default is `def`, or undefined if it can. */
export function paramTypeProblem(def: ParamValueT, value: unknown): string | undefined {
  const want = paramType(def);
  if (typeof value === 'number' && !Number.isFinite(value)) return `expected a finite number, got ${String(value)}`;
  // A string default that is a duration (`timeout: 200ms`) declares a duration parameter.
  if (typeof def === 'string' && DURATION.test(def) && typeof value === 'string') {
    const ms = parseDuration(value);
    if (!DURATION.test(value) || ms === undefined) return `expected a duration like its default, ${quoted(def)} (${'a number with a unit: 500ms, 2s, 1m'}), got ${quoted(value)}`;
    if (ms > LIMITS.durationMs) return `expected a duration of at most ${MAX_DURATION_TEXT}, got ${quoted(value)}`;
  }
  if (typeof value === want) return undefined;
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'string' ? `the string ${quoted(value)}` : `the ${typeof value} ${String(value)}`;
  return `expected a ${want} (like its default, ${quoted(String(def))}), got ${got}`;
}

/**
 * `--set node.param=value` flags → overrides. Values are typed by their text (`150` a number, `true`
 * a boolean, anything else a string); {@link coerceSetValue} fixes that against the declared type.
 */
export function parseSet(values: string[]): Record<string, Params> {
  const out: Record<string, Params> = Object.create(null) as Record<string, Params>;
  for (const v of values) {
    const m = /^([a-z][a-z0-9-]{0,39})\.([A-Za-z_][A-Za-z0-9_]{0,63})=(.*)$/s.exec(v);
    if (!m) throw new LabError(Errors.InvalidArgument, `--set ${quoted(v)}: expected node.param=value`, { hint: 'e.g. --set frontend.backendTimeoutMs=150' });
    const [, node, param, raw] = m as unknown as [string, string, string, string];
    if (param === '__proto__' || param === 'constructor' || param === 'prototype') {
      throw new LabError(Errors.InvalidArgument, `--set ${quoted(v)}: "${param}" cannot be a parameter name`, { hint: 'use a parameter the cluster file declares' });
    }
    const value = raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
    (out[node] ??= Object.create(null) as Params)[param] = value;
  }
  return out;
}

/** A `--set` value as the declared type wants it: the shell cannot quote `--set svc.mode=1` as a string. */
export function coerceSetValue(def: ParamValueT, value: ParamValueT): ParamValueT {
  return typeof def === 'string' && typeof value !== 'string' ? String(value) : value;
}

export function setFlag(group: string, param: string, value: unknown): string {
  return `--set ${shown(group)}.${shown(param)}=${typeof value === 'string' ? quoted(value).slice(1, -1) : String(value)}`;
}
