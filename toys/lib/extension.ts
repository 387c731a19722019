/**
 * A learner's module inside a toy (the workshop's extension point). The toy names the functions it may call and
 * what each must return; the lab passes the module's path in the node param `extension` (a CommonJS script: the
 * lab compiles the learner's TypeScript or JavaScript before the run, see src/workshop/module.ts).
 *
 * Why a `vm` context and not `import()`: a synchronous call gets a time limit (`timeout`), so a learner's infinite
 * loop is cut after `callTimeoutMs` instead of freezing the node; and `Math.random` inside it is the toy's seeded RNG,
 * so a jittered backoff replays with `--seed`. Every call is counted in `toy_extension_calls_total{function,outcome}`:
 * a call that throws, hangs or returns the wrong type counts as `threw`, `timeout` or `invalid`, is logged (the
 * first few times), and the toy falls back to its own default behaviour for that call: the exercise fails on its
 * numbers and on that counter, the lab never crashes.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { Counter } from 'prom-client';
import { ToyConfigError } from './config.js';
import type { Toy } from './toy-node.js';

/** The node param that names the module; '' (the default) = no module, the toy's own behaviour. */
export const EXTENSION_PARAM = 'extension';
/**
 * A decision function gets this long per call (a learner's function only decides, the toy does the I/O). Generous:
 * the limit is wall time, and on a busy 2-core host a `return 0` was measured taking over 50 ms.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 1000;
/** After this many timeouts a function is not called again (each call counts as a timeout): the node stays responsive. */
const TIMEOUTS_BEFORE_DISABLED = 3;
/** Failures logged per function before the log goes quiet (the counter keeps counting). */
const LOGGED_FAILURES = 5;

export type CallOutcome = 'ok' | 'threw' | 'timeout' | 'invalid';

/** What a function of the module must return: undefined = fine, else why not (e.g. "a number of ms >= 0"). */
export type ResultCheck = (value: unknown) => string | undefined;

export interface FunctionSpec {
  /** A module without it is refused at start (exit 2), naming the function. */
  required: boolean;
  check: ResultCheck;
}

export interface ExtensionSpec {
  /** For messages: "the frontend's extension". */
  what: string;
  functions: Record<string, FunctionSpec>;
}

export interface Extension {
  readonly file: string;
  /** Whether the module exports this function. */
  has(name: string): boolean;
  /** Calls it; on a throw, a hang or a wrong result, counts it and returns `fallback`; a function not exported gives `fallback`. */
  call<T>(name: string, args: readonly unknown[], fallback: T): T;
}

export interface LoadOptions {
  callTimeoutMs?: number;
  /** For tests: where failures are logged (default: the toy's log). */
  log?: (message: string) => void;
}

/** Reads the `extension` param (always, so it is never refused as unread) and loads the module it names, if any. */
export function loadExtension(toy: Pick<Toy, 'params' | 'registry' | 'rng' | 'log'>, spec: ExtensionSpec, options: LoadOptions = {}): Extension | undefined {
  const file = toy.params.str(EXTENSION_PARAM, '');
  if (file === '') return undefined;
  return compileExtension(file, readModule(file, spec), spec, { random: () => toy.rng.next(), registry: toy.registry, log: options.log ?? ((m) => toy.log(m)), callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS });
}

function readModule(file: string, spec: ExtensionSpec): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ToyConfigError(`${spec.what}: cannot read module ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface CompileDeps {
  random: () => number;
  registry: Toy['registry'] | undefined;
  log: (message: string) => void;
  callTimeoutMs: number;
  /** For the module's top level (default 1 s). */
  loadTimeoutMs?: number;
}

/** The module's text → a guarded `Extension`. A module that fails to load or lacks a required function: ToyConfigError. */
export function compileExtension(file: string, code: string, spec: ExtensionSpec, deps: CompileDeps): Extension {
  const sandbox: Record<string, unknown> = { module: { exports: {} }, console: { log: (...a: unknown[]) => deps.log(`extension: ${a.map(String).join(' ')}`) } };
  sandbox.exports = (sandbox.module as { exports: unknown }).exports;
  const context = vm.createContext(sandbox, { name: `extension ${file}` });
  // Seeded randomness inside the module: `Math.random()` replays with the run's seed.
  context.__random = deps.random;
  vm.runInContext('Math.random = function random() { return __random(); };', context);
  try {
    vm.runInContext(code, context, { filename: file, timeout: deps.loadTimeoutMs ?? 1000 });
  } catch (e) {
    throw new ToyConfigError(`${spec.what}: module ${file} failed to load: ${describe(e)}`);
  }
  const exported = (context.module as { exports: Record<string, unknown> }).exports ?? {};
  const missing = Object.entries(spec.functions)
    .filter(([name, f]) => f.required && typeof exported[name] !== 'function')
    .map(([name]) => name);
  if (missing.length) {
    throw new ToyConfigError(`${spec.what}: module ${file} must export function${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it exports: ${Object.keys(exported).join(', ') || 'nothing'})`);
  }

  const counter = deps.registry
    ? new Counter({
        name: 'toy_extension_calls_total',
        help: "Calls of the workshop module's functions, by function and outcome (ok, threw, timeout, invalid).",
        labelNames: ['function', 'outcome'],
        registers: [deps.registry],
      })
    : undefined;
  for (const name of Object.keys(spec.functions)) counter?.inc({ function: name, outcome: 'ok' }, 0);
  const failures = new Map<string, number>();
  const timeouts = new Map<string, number>();
  const caller = new vm.Script('__result = module.exports[__name].apply(undefined, __args);', { filename: `${file} (call)` });

  const fail = (name: string, outcome: CallOutcome, why: string): void => {
    counter?.inc({ function: name, outcome });
    const n = (failures.get(name) ?? 0) + 1;
    failures.set(name, n);
    if (n <= LOGGED_FAILURES) deps.log(`extension error: ${name}() ${why}${n === LOGGED_FAILURES ? ' (further failures are only counted)' : ''}`);
  };

  return {
    file,
    has: (name) => typeof exported[name] === 'function',
    call<T>(name: string, args: readonly unknown[], fallback: T): T {
      const fn = spec.functions[name];
      if (!fn) throw new Error(`${spec.what}: the toy calls ${name}, which its spec does not declare`);
      // An optional function the module does not export: the toy's default, not a failure of the module.
      if (typeof exported[name] !== 'function') return fallback;
      if ((timeouts.get(name) ?? 0) >= TIMEOUTS_BEFORE_DISABLED) {
        counter?.inc({ function: name, outcome: 'timeout' });
        return fallback;
      }
      context.__name = name;
      context.__args = [...args];
      context.__result = undefined;
      try {
        caller.runInContext(context, { timeout: deps.callTimeoutMs });
      } catch (e) {
        if (isTimeout(e)) {
          const n = (timeouts.get(name) ?? 0) + 1;
          timeouts.set(name, n);
          fail(name, 'timeout', `ran longer than ${deps.callTimeoutMs} ms (a loop that never ends?); the toy used its default${n >= TIMEOUTS_BEFORE_DISABLED ? ` and stops calling ${name}() now` : ''}`);
        }
        else fail(name, 'threw', `threw ${describe(e)}; the toy used its default`);
        return fallback;
      }
      const value = context.__result;
      const problem = fn.check(value);
      if (problem) {
        fail(name, 'invalid', `returned ${show(value)}, expected ${problem}; the toy used its default`);
        return fallback;
      }
      counter?.inc({ function: name, outcome: 'ok' });
      return value as T;
    },
  };
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/** Errors from the module's realm are not `instanceof Error` here: read their fields. */
function describe(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'message' in e) {
    const name = (e as { name?: unknown }).name;
    return `${typeof name === 'string' ? name : 'Error'}: ${String((e as { message: unknown }).message)}`;
  }
  return show(e);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Result checks the toys share. */
export const Checks = {
  nonNegativeNumber: (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a finite number >= 0'),
  boolean: (v: unknown) => (typeof v === 'boolean' ? undefined : 'true or false'),
  /** A number of ms >= 0, or null (e.g. "give up"). */
  delayOrNull: (v: unknown) => (v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0) ? undefined : 'a number of ms >= 0, or null'),
  any: () => undefined,
} as const satisfies Record<string, ResultCheck>;
