/**
 * YAML → a plain object validated by a zod schema, keeping source positions so every error
 * names file:line:column and the field. Limits guard against hostile input (size, alias bombs).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { Errors } from '../errors/catalog.js';
import { LabError, type SourceLocation } from '../errors/lab-error.js';
import { LIMITS } from './limits.js';

export const MAX_FILE_BYTES = LIMITS.fileBytes;
const MAX_ALIASES = 100;

export type PathSeg = string | number;

export interface SourceDoc {
  /** The file as shown to the user (control characters escaped). */
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The location of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PathSeg[], opts?: { key?: boolean }): SourceLocation;
}

/**
 * Text from a file or a file name as a terminal may show it: control characters (escape codes, NUL,
 * newlines) and bidi overrides become `\u001b`-style escapes, so a crafted name cannot recolour or
 * rewrite the screen.
 */
export function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A value quoted for a message: escaped, and cut to a readable length. */
export function quoted(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return `"${shown(cut)}"`;
}

export function fieldPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? shown(String(seg)) : `.${shown(String(seg))}`;
  return out || '(top level)';
}

function fileError(file: string, message: string, hint: string, data: typeof Errors[keyof typeof Errors] = Errors.InvalidFile): LabError {
  return new LabError(data, message, { location: { file: shown(file) }, hint });
}

/** Why `stat` failed, in the user's words. */
function statProblem(file: string, err: NodeJS.ErrnoException): LabError {
  const where = shown(file);
  switch (err.code) {
    case 'ENOENT': {
      let link: string | undefined;
      try {
        if (lstatSync(file).isSymbolicLink()) link = readlinkSync(file);
      } catch {
        // Not there at all: the plain message below.
      }
      if (link !== undefined) return fileError(file, `the path is a symbolic link to ${shown(link)}, which does not exist`, 'fix or remove the link, or point at the file itself', Errors.FileNotFound);
      return fileError(file, `no file at ${where}`, 'check the path; scenarios live in scenarios/, clusters in clusters/ (`chaoslab list` shows them)', Errors.FileNotFound);
    }
    case 'ELOOP':
      return fileError(file, `the path is a symbolic link that loops (it leads back to itself)`, 'point at the file itself, or fix the links');
    case 'ENOTDIR':
      return fileError(file, `a part of the path is a file, not a folder`, 'check the path (a trailing slash, or a file name used as a folder)', Errors.FileNotFound);
    case 'ENAMETOOLONG':
      return fileError(file, 'the path is too long for the file system', 'check the path');
    case 'EACCES':
    case 'EPERM':
      return fileError(file, `the file cannot be read: permission denied`, 'check its permissions');
    default:
      return fileError(file, `the file cannot be read (${err.code ?? err.message})`, 'check the path');
  }
}

/** A regular file, or what it is instead. */
function notRegular(file: string, st: Stats): LabError | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return fileError(file, `the path is a folder, not a file`, 'give the path of a .yaml file (`chaoslab list` shows the scenarios)');
  if (st.isFIFO()) return fileError(file, `the path is a named pipe, not a regular file; only regular files are read`, 'save the YAML to a file and give its path');
  if (st.isCharacterDevice() || st.isBlockDevice()) return fileError(file, `the path is a device, not a regular file; only regular files are read`, 'give the path of a .yaml file');
  if (st.isSocket()) return fileError(file, `the path is a socket, not a regular file`, 'give the path of a .yaml file');
  return fileError(file, `the path is not a regular file`, 'give the path of a .yaml file');
}

function tooLarge(file: string, size: number): LabError {
  return new LabError(Errors.FileTooLarge, `the file is ${size > MAX_FILE_BYTES ? `${(size / 1024 / 1024).toFixed(1)} MB` : 'over 1 MB'}; at most ${MAX_FILE_BYTES / 1024 / 1024} MB is read`, {
    location: { file: shown(file) },
    hint: 'scenario and cluster files are small; check that you pointed at the right file',
  });
}

const lineAt = (bytes: Uint8Array, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
};

/** UTF-8 text, or an error saying what the bytes are instead. */
function decode(file: string, bytes: Uint8Array): string {
  const where = shown(file);
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  const convert = 'convert it to UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`, or "Save with encoding: UTF-8" in the editor)';
  if (starts(0xff, 0xfe, 0, 0) || starts(0, 0, 0xfe, 0xff)) return fail('is UTF-32 text (it starts with a UTF-32 byte-order mark); scenario files are UTF-8', convert);
  if (starts(0xff, 0xfe) || starts(0xfe, 0xff)) return fail('is UTF-16 text (it starts with a UTF-16 byte-order mark); scenario files are UTF-8', convert);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    // UTF-16 without a byte-order mark: ASCII text with a NUL after (or before) every character.
    let pairs = 0;
    const n = Math.min(bytes.length, 256);
    for (let i = 0; i + 1 < n; i += 2) if ((bytes[i] === 0) !== (bytes[i + 1] === 0)) pairs++;
    if (n >= 8 && pairs >= (n / 2) * 0.9) return fail('looks like UTF-16 text (every other byte is NUL); scenario files are UTF-8', convert);
    return fail(`contains a NUL byte (line ${lineAt(bytes, nul)}): it is a binary file, not YAML text`, 'check that you pointed at the right file');
  }
  const body = starts(0xef, 0xbb, 0xbf) ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    // Find the first bad byte for the line number.
    let at = 0;
    for (let lo = 0, hi = body.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, mid));
        at = mid;
        lo = mid + 1;
      } catch {
        hi = mid;
      }
    }
    return fail(`is not UTF-8 text (an invalid byte on line ${lineAt(body, at)})`, `${convert}; or check that you pointed at the right file`);
  }
  function fail(what: string, hint: string): never {
    throw new LabError(Errors.InvalidFile, `the file ${what}`, { location: { file: where }, hint });
  }
}

/**
 * Reads a scenario or cluster file safely: only a regular file (checked before opening, and again on
 * the open descriptor), opened non-blocking so a named pipe cannot hang the lab, read with a cap
 * (a device reports size 0 and never ends), and decoded as UTF-8 with a clear word for anything else.
 */
export function readSource(file: string): { text: string } {
  if (file === '') throw fileError(file, 'the path is empty', 'give the path of a .yaml file', Errors.FileNotFound);
  if (file.includes('\0')) throw fileError(file, `the path ${quoted(file)} contains a NUL character`, 'check the path');
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw statProblem(file, e as NodeJS.ErrnoException);
  }
  const problem = notRegular(file, st);
  if (problem) throw problem;
  if (st.size > MAX_FILE_BYTES) throw tooLarge(file, st.size);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw statProblem(file, e as NodeJS.ErrnoException);
  }
  try {
    // The file may have been swapped between stat and open.
    const again = notRegular(file, fstatSync(fd));
    if (again) throw again;
    const buf = new Uint8Array(MAX_FILE_BYTES + 1);
    let len = 0;
    for (;;) {
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
      if (len > MAX_FILE_BYTES) throw tooLarge(file, len);
    }
    return { text: decode(file, buf.subarray(0, len)) };
  } finally {
    closeSync(fd);
  }
}

/** Text problems the YAML parser would accept: raw control characters (terminal escape codes). */
function checkText(file: string, text: string): void {
  const m = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (m) {
    const line = text.slice(0, m.index).split('\n').length;
    throw new LabError(Errors.InvalidFile, `the file contains a control character (${shown(m[0])}) on line ${line}; YAML text may not`, {
      location: { file: shown(file), line },
      hint: 'remove it; in a quoted string write it as an escape ("\\e") if you really mean it',
    });
  }
}

/**
 * Deepest nesting of flow collections (`[`, `{`) outside quotes and comments, found before parsing:
 * the parser recurses per level and overflows the stack at a few thousand.
 */
function flowDepth(text: string): { depth: number; offset: number } {
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === '\n') comment = false;
    } else if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      // A quote opens a string only at the start of a scalar; `it's` inside plain text does not.
      const prev = text[i - 1];
      if (prev === undefined || /[\s[{,:]/.test(prev)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > LIMITS.nesting) return { depth, offset: i };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return { depth, offset: -1 };
}

/** Deepest nesting by indentation (block mappings and lists), found before parsing, for the same reason. */
function blockDepth(text: string): { depth: number; line: number } {
  const indents: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^( *)((?:- +)*)(\S?)/.exec(lines[i]!)!;
    if (m[3] === '' || m[3] === '#') continue;
    const indent = m[1]!.length;
    while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
    indents.push(indent);
    // `- - - x` nests a list per dash on one line.
    const depth = indents.length + (m[2]!.match(/-/g)?.length ?? 0);
    if (depth > LIMITS.nesting) return { depth, line: i + 1 };
  }
  return { depth: indents.length, line: -1 };
}

function tooDeep(file: string, line: number | undefined): LabError {
  return new LabError(Errors.YamlTooDeep, `the YAML is nested more than ${LIMITS.nesting} levels deep`, {
    location: { file: shown(file), ...(line !== undefined ? { line } : {}) },
    hint: 'scenario and cluster files nest a few levels; check for unclosed or runaway brackets',
  });
}

/** Walks the parsed document without recursion: depth, and keys that would rewrite an object's prototype. */
function checkTree(file: string, doc: Document, lines: LineCounter): void {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (depth >= LIMITS.nesting) throw tooDeep(file, node.range ? lines.linePos(node.range[0]).line : undefined);
      for (const item of node.items) {
        if (isMap(node)) {
          const pair = item as { key: unknown; value: unknown };
          if (isScalar(pair.key) && String(pair.key.value) === '__proto__') {
            const pos = pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
            throw new LabError(Errors.InvalidField, 'the key "__proto__" is not allowed', { location: { file: shown(file), ...(pos ? { line: pos.line, column: pos.col } : {}) }, hint: 'remove it' });
          }
          stack.push({ node: pair.value, depth: depth + 1 });
        } else stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
}

export function parseYamlSource(file: string, text: string): { source: SourceDoc; value: unknown } {
  checkText(file, text);
  const deep = flowDepth(text);
  if (deep.offset >= 0) throw tooDeep(file, text.slice(0, deep.offset).split('\n').length);
  const block = blockDepth(text);
  if (block.line >= 0) throw tooDeep(file, block.line);
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(file, undefined);
    throw e;
  }
  // Unknown tags (`!js/function`, `!foo`) are warnings to the parser; the lab refuses them.
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first && /call stack/i.test(first.message)) throw tooDeep(file, lines.linePos(first.pos[0]).line);
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new LabError(Errors.YamlSyntax, shown(first.message.split('\n')[0] ?? 'YAML does not parse'), {
      location: { file: shown(file), line: pos.line, column: pos.col },
      hint: doc.errors[0] ? 'fix the YAML syntax at that line (indentation, a missing colon or quote)' : 'scenario files use plain YAML: remove the tag',
    });
  }
  checkTree(file, doc, lines);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(file, undefined);
    const msg = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(msg)) {
      throw new LabError(Errors.YamlAliasBomb, `the file expands too many YAML aliases (${msg})`, {
        location: { file: shown(file) },
        hint: 'write the values out, or use fewer anchors (*alias); the lab refuses alias bombs',
      });
    }
    throw new LabError(Errors.YamlSyntax, shown(msg), { location: { file: shown(file) }, hint: 'fix the YAML' });
  }
  const display = shown(file);
  const source: SourceDoc = {
    file: display,
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
      return { file: display, line: pos.line, column: pos.col, field: fieldPath(path) };
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
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.slice(0, 5).map((k) => quoted(k)).join(', ')}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''}`,
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
      if (/at most/.test(issue.message)) return { code: Errors.InvalidField, message: issue.message, hint: 'this is a limit of the lab (README lists them): make it smaller' };
      if (/duration/.test(issue.message)) {
        return { code: Errors.InvalidDuration, message: issue.message, hint: 'write durations with a unit and no space: 500ms, 2s, 1m' };
      }
      return { code: Errors.InvalidField, message: shown(issue.message) };
    case 'invalid_union': {
      const u = issue as { discriminator?: string; options?: unknown[]; errors: z.core.$ZodIssue[][] };
      if (u.options) return { code: Errors.InvalidField, message: `expected one of ${u.options.map((o) => `"${String(o)}"`).join(', ')}` };
      // Report the branch that got furthest: its first issue.
      const best = u.errors.slice().sort((a, b) => (b[0]?.path.length ?? 0) - (a[0]?.path.length ?? 0))[0]?.[0];
      if (best) return describeIssue(best);
      return { code: Errors.InvalidField, message: 'does not match any allowed form' };
    }
    case 'invalid_key': {
      // A record key that is not a valid name: say what names may be.
      const inner = (issue as { issues: z.core.$ZodIssue[] }).issues[0];
      const key = issue.path[issue.path.length - 1];
      return { code: Errors.InvalidField, message: `${quoted(String(key))}: ${inner ? describeIssue(inner).message : 'not an allowed key'}` };
    }
    case 'invalid_value':
      return { code: Errors.InvalidField, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'too_small':
      return { code: Errors.InvalidField, message: issue.message.replace(/^Too small: /, '') };
    case 'too_big': {
      const b = issue as { origin?: string; maximum: number | bigint; inclusive?: boolean };
      const unit = b.origin === 'array' ? ' items' : b.origin === 'string' ? ' characters' : '';
      return { code: Errors.InvalidField, message: `expected at most ${String(b.maximum)}${unit}${b.inclusive === false ? ' (exclusive)' : ''}`, hint: 'this is a limit of the lab (README lists them): make it smaller' };
    }
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
        : source.locate(path, { key: issue.code === 'invalid_key' });
    return new LabError(d.code, d.message, { location, ...(d.hint ? { hint: d.hint } : {}) });
  });
  throw invalid(source.file, what, details.slice(0, MAX_DETAILS), details.length);
}

/** At most this many problems are listed (a file of 10,000 bad steps would print 10,000 lines). */
const MAX_DETAILS = 20;

export function invalid(file: string, what: string, details: LabError[], total = details.length): LabError {
  if (details.length === 1 && total === 1) return details[0]!;
  const shownDetails = details.slice(0, MAX_DETAILS);
  const more = total > shownDetails.length ? ` (the first ${shownDetails.length} are listed)` : '';
  return new LabError(Errors.InvalidScenario, `${file}: ${total} problems in this ${what}${more}.`, { details: shownDetails, location: { file } });
}

export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): { data: z.output<S>; source: SourceDoc } {
  const { text } = readSource(file);
  const { source, value } = parseYamlSource(file, text);
  if (value === null || value === undefined) {
    throw new LabError(Errors.InvalidFile, `the file is empty (no YAML content); expected a ${what}`, {
      location: { file: source.file, line: 1 },
      hint: `see README.md for the ${what} format, or start from a file in ${what === 'cluster file' ? 'clusters/' : 'scenarios/'}`,
    });
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new LabError(Errors.InvalidField, `expected a ${what} (a YAML mapping at the top level), found ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`, {
      location: { file: source.file, line: 1, column: 1 },
      hint: `see README.md for the ${what} format`,
    });
  }
  return { data: validateWith(schema, value, source, what), source };
}
