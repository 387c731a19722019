/**
 * The learner's module, made ready for a toy. Learners write TypeScript or JavaScript with `export function ...`;
 * Node 20 imports neither a .ts file nor an ES module into a `vm` context, so the lab compiles both the same way:
 * the `typescript` package's `transpileModule` (types stripped, no type check, ES2022 as CommonJS) into a script the
 * toy runs in a `vm` context (toys/lib/extension.ts: each call under a time limit, `Math.random` seeded). One path
 * for both languages, and the lab's own compiler, so no new dependency and no Node flag.
 *
 * Before anything starts, the compiled module is loaded here once in a throw-away context with the same rules, so a
 * syntax error, a throw at load or a missing function is told at once (an exercise failure), not after a replay.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import type { Exercise } from './exercise.js';

export class ModuleProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleProblem';
  }
}

type Ts = typeof import('typescript');
let typescript: Ts | undefined;

async function loadTypescript(): Promise<Ts> {
  if (typescript) return typescript;
  try {
    const mod = (await import('typescript')) as Ts & { default?: Ts };
    typescript = mod.default ?? mod;
    return typescript;
  } catch {
    throw new ModuleProblem("the workshop needs the npm package typescript to read modules (it is one of chaoslab's packages: run npm install in the chaoslab folder)");
  }
}

/** Source text → a CommonJS script; a syntax error is a ModuleProblem with its line. */
export async function compileModule(source: string, fileName: string): Promise<string> {
  const ts = await loadTypescript();
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, strict: false, sourceMap: false, removeComments: false },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const d = errors[0]!;
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    throw new ModuleProblem(`${fileName}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  return out.outputText;
}

/** Loads the compiled script once and checks the exercise's functions are exported. */
export function precheckModule(compiled: string, fileName: string, ex: Pick<Exercise, 'extension'>): void {
  const sandbox: Record<string, unknown> = { module: { exports: {} }, console: { log: () => undefined } };
  sandbox.exports = (sandbox.module as { exports: unknown }).exports;
  const context = vm.createContext(sandbox);
  try {
    vm.runInContext(compiled, context, { filename: fileName, timeout: 1000 });
  } catch (e) {
    const what = typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
    throw new ModuleProblem(`${fileName} fails when it loads: ${what}`);
  }
  const exported = ((context.module as { exports?: Record<string, unknown> }).exports ?? {}) as Record<string, unknown>;
  const missing = ex.extension.functions.filter((f) => typeof exported[f.name] !== 'function').map((f) => f.name);
  if (missing.length) {
    throw new ModuleProblem(`${fileName} must export ${missing.map((m) => `function ${m}`).join(' and ')} (it exports: ${Object.keys(exported).join(', ') || 'nothing'})`);
  }
}

/** Reads, compiles and prechecks a learner's file. */
export async function prepareModule(file: string, ex: Pick<Exercise, 'extension'>): Promise<string> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModuleProblem(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const compiled = await compileModule(source, file);
  precheckModule(compiled, file, ex);
  return compiled;
}
