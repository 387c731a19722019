/**
 * YAML → a plain object validated by a zod schema, keeping source positions so every error
 * names file:line:column and the field. Limits guard against hostile input (size, alias bombs).
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { Errors } from '../errors/catalog.js';
import { LabError, type SourceLocation } from '../errors/lab-error.js';

export const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export type PathSeg = string | number;

export interface SourceDoc {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The location of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PathSeg[], opts?: { key?: boolean }): SourceLocation;
}

export function fieldPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out || '(top level)';
}

export function readSource(file: string): { text: string } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new LabError(Errors.FileNotFound, `no file at ${file}`, {
      location: { file },
      hint: 'check the path; scenarios live in scenarios/, clusters in clusters/ (`chaoslab list` shows them)',
    });
  }
  if (size > MAX_FILE_BYTES) {
    throw new LabError(Errors.FileTooLarge, `the file is ${(size / 1024 / 1024).toFixed(1)} MB; at most ${MAX_FILE_BYTES / 1024 / 1024} MB is read`, {
      location: { file },
      hint: 'scenario and cluster files are small; check that you pointed at the right file',
    });
  }
  return { text: readFileSync(file, 'utf8') };
}

export function parseYamlSource(file: string, text: string): { source: SourceDoc; value: unknown } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new LabError(Errors.YamlSyntax, first.message.split('\n')[0] ?? 'YAML does not parse', {
      location: { file, line: pos.line, column: pos.col },
      hint: 'fix the YAML syntax at that line (indentation, a missing colon or quote)',
    });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(msg)) {
      throw new LabError(Errors.YamlAliasBomb, `the file expands too many YAML aliases (${msg})`, {
        location: { file },
        hint: 'write the values out, or use fewer anchors (*alias); the lab refuses alias bombs',
      });
    }
    throw new LabError(Errors.YamlSyntax, msg, { location: { file }, hint: 'fix the YAML' });
  }
  const source: SourceDoc = {
    file,
    doc,
    lines,
    locate(path, opts) {
      // Walk down as far as the path exists; report the deepest node found.
      let node: unknown = doc.contents;
      let keyNode: YamlNode | undefined;
      for (const seg of path) {
        if (!node || typeof node !== 'object' || !('items' in node)) break;
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
          if (!pair) break;
          keyNode = pair.key as YamlNode;
          node = pair.value;
        } else {
          const items = (node as { items: unknown[] }).items;
          const next = typeof seg === 'number' ? items[seg] : undefined;
          if (next === undefined) break;
          keyNode = undefined;
          node = next;
        }
      }
      const target = (opts?.key && keyNode ? keyNode : (node as YamlNode | null)) ?? keyNode;
      const offset = target && 'range' in target && target.range ? target.range[0] : 0;
      const pos = lines.linePos(offset);
      return { file, line: pos.line, column: pos.col, field: fieldPath(path) };
    },
  };
  return { source, value };
}

/** Friendly one-line text for a zod issue, plus a hint where we know one. */
function describeIssue(issue: z.core.$ZodIssue): { message: string; hint?: string; code: typeof Errors[keyof typeof Errors] } {
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        code: Errors.UnknownKey,
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
        hint: 'remove it or fix its spelling; the JSON Schema in schema/ lists the allowed keys (editors autocomplete with it)',
      };
    case 'invalid_type': {
      if (/duration/.test(issue.message)) {
        return { code: Errors.InvalidDuration, message: issue.message, hint: 'write durations with a unit and no space: 500ms, 2s, 1m' };
      }
      const got = (issue as { input?: unknown }).input;
      const received = got === undefined ? 'nothing' : Array.isArray(got) ? 'a list' : got === null ? 'null' : typeof got;
      if (got === undefined) return { code: Errors.InvalidField, message: `missing required field (expected ${issue.expected})`, hint: 'add the field' };
      return { code: Errors.InvalidField, message: `expected ${issue.expected}, received ${received}` };
    }
    case 'invalid_format':
    case 'custom':
      if (/duration/.test(issue.message)) {
        return { code: Errors.InvalidDuration, message: issue.message, hint: 'write durations with a unit and no space: 500ms, 2s, 1m' };
      }
      return { code: Errors.InvalidField, message: issue.message };
    case 'invalid_union': {
      const u = issue as { discriminator?: string; options?: unknown[]; errors: z.core.$ZodIssue[][] };
      if (u.options) return { code: Errors.InvalidField, message: `expected one of ${u.options.map((o) => `"${String(o)}"`).join(', ')}` };
      // Report the branch that got furthest: its first issue.
      const best = u.errors.slice().sort((a, b) => (b[0]?.path.length ?? 0) - (a[0]?.path.length ?? 0))[0]?.[0];
      if (best) return describeIssue(best);
      return { code: Errors.InvalidField, message: 'does not match any allowed form' };
    }
    case 'invalid_value':
      return { code: Errors.InvalidField, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'too_small':
      return { code: Errors.InvalidField, message: issue.message.replace(/^Too small: /, '') };
    case 'too_big':
      return { code: Errors.InvalidField, message: issue.message.replace(/^Too big: /, '') };
    default:
      return { code: Errors.InvalidField, message: issue.message };
  }
}

function issuePath(issue: z.core.$ZodIssue): PathSeg[] {
  const base = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'invalid_union') {
    const u = issue as { errors: z.core.$ZodIssue[][]; options?: unknown[] };
    if (!u.options) {
      const best = u.errors.slice().sort((a, b) => (b[0]?.path.length ?? 0) - (a[0]?.path.length ?? 0))[0]?.[0];
      if (best) return [...base, ...issuePath(best)];
    }
  }
  return base;
}

/** Validates against a schema; all problems are collected into one LabError. */
export function validateWith<S extends z.ZodType>(schema: S, value: unknown, source: SourceDoc, what: string): z.output<S> {
  const res = schema.safeParse(value, { reportInput: true });
  if (res.success) return res.data;
  const details = res.error.issues.map((issue) => {
    const d = describeIssue(issue);
    const path = issuePath(issue);
    const location =
      issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined
        ? { ...source.locate([...path, issue.keys[0]], { key: true }), field: fieldPath([...path, issue.keys[0]]) }
        : source.locate(path);
    return new LabError(d.code, d.message, { location, ...(d.hint ? { hint: d.hint } : {}) });
  });
  throw invalid(source.file, what, details);
}

export function invalid(file: string, what: string, details: LabError[]): LabError {
  if (details.length === 1) return details[0]!;
  return new LabError(Errors.InvalidScenario, `${file}: ${details.length} problems in this ${what}.`, { details, location: { file } });
}

export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): { data: z.output<S>; source: SourceDoc } {
  const { text } = readSource(file);
  const { source, value } = parseYamlSource(file, text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LabError(Errors.InvalidField, `expected a ${what} (a YAML mapping at the top level)`, {
      location: { file, line: 1, column: 1 },
      hint: `see README.md for the ${what} format`,
    });
  }
  return { data: validateWith(schema, value, source, what), source };
}
