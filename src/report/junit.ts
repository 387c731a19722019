/**
 * junit.xml: one test suite per variant, one test case per assertion, so CI systems show a replay like a test run.
 * It validates against the common (Ant/Jenkins) JUnit schema, test/fixtures/junit.xsd:
 * - a missed expectation is a `<failure>`; a part that failed (a node that would not start, a dead Prometheus) is an
 *   `<error>` on the test case "variant ran to completion";
 * - an interrupted variant is `<skipped>`: an interrupted run gives no verdict;
 * - a test case's `time` is the length of the window its assertion judged (0 for checker results, judged after the
 *   load); a suite's `time` is the variant's load duration, the span the assertions judge.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { formatNumber } from '../common/format.js';
import type { AssertionResult, RunResult, VariantResult } from '../run/result.js';
import { RUN_VERDICTS, isInterrupted } from './verdict.js';

export interface JunitOptions {
  /** The `hostname` of every suite (default: this machine's). */
  hostname?: string;
}

// XML 1.0 allows no control characters but tab and newlines: a log line's colour code would make the file invalid.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const esc = (s: string): string =>
  s
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/** xs:decimal seconds from milliseconds: `14`, `0.5`, never `1e-7`. */
const seconds = (ms: number): string => (Number.isFinite(ms) && ms > 0 ? String(Math.round(ms) / 1000) : '0');

/** The schema's timestamp: ISO 8601 without a zone or fraction (it is UTC). */
function timestamp(ms: number, fallback: string): string {
  const d = new Date(ms > 0 ? ms : Date.parse(fallback));
  return Number.isNaN(d.getTime()) ? '1970-01-01T00:00:00' : d.toISOString().slice(0, 19);
}

/** The span the variant's assertions judge: its load's duration, else up to its last window. */
function variantMs(v: VariantResult): number {
  const load = v.load?.['durationMs'];
  if (typeof load === 'number' && Number.isFinite(load)) return load;
  return Math.max(0, ...v.assertions.map((a) => a.window.endMs));
}

interface Case {
  name: string;
  timeMs: number;
  /** The one child the schema allows a test case. */
  child: string;
}

function assertionCase(a: AssertionResult, skipped: boolean): Case {
  const timeMs = a.window.endMs - a.window.startMs;
  if (skipped) return { name: a.name, timeMs, child: '<skipped message="the run was interrupted"/>' };
  if (a.passed) return { name: a.name, timeMs, child: '' };
  const observed = a.observed.samples ? ` (min ${formatNumber(a.observed.min)}, max ${formatNumber(a.observed.max)})` : '';
  const message = `expected ${a.expected}, observed ${a.outcome}: ${a.reason}`;
  return { name: a.name, timeMs, child: `<failure type="${esc(a.outcome)}" message="${esc(message)}">${esc(`${a.query}\n${a.condition} over ${a.window.label}${observed}`)}</failure>` };
}

/** The part failure or interruption of a variant, as a test case of its own. */
function completionCase(v: VariantResult): Case | undefined {
  const name = 'variant ran to completion';
  if (v.status === 'interrupted') return { name, timeMs: 0, child: `<skipped message="${esc(RUN_VERDICTS.interrupted.sentence)}"/>` };
  if (v.status === 'failed') {
    const e = v.error ?? { code: 'CHAOSLAB_PART_FAILED', message: 'a part of the run failed' };
    return { name, timeMs: 0, child: `<error type="${esc(e.code)}" message="${esc(e.message)}">${esc(e.hint ?? '')}</error>` };
  }
  // A completed variant with nothing to judge still shows up in CI.
  if (v.assertions.length === 0) return { name, timeMs: variantMs(v), child: '' };
  return undefined;
}

function suite(r: RunResult, v: VariantResult, id: number, hostname: string): string[] {
  const skipped = v.status === 'interrupted';
  const cases = v.assertions.map((a) => assertionCase(a, skipped));
  const completion = completionCase(v);
  if (completion) cases.push(completion);
  const count = (tag: string) => cases.filter((c) => c.child.startsWith(`<${tag}`)).length;
  const name = `${r.scenario}.${v.name}${r.control ? '.control' : ''}`;
  const lines = [
    `  <testsuite id="${id}" package="${esc(`chaoslab.${r.scenario}`)}" name="${esc(name)}" timestamp="${timestamp(v.t0, r.startedAt)}" hostname="${esc(hostname)}" tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(variantMs(v))}">`,
    `    <properties><property name="seed" value="${r.seed}"/><property name="expect" value="${v.expect}"/><property name="status" value="${v.status}"/><property name="replay" value="${esc(r.command)}"/></properties>`,
  ];
  for (const c of cases) {
    const open = `    <testcase classname="${esc(name)}" name="${esc(c.name)}" time="${seconds(c.timeMs)}"`;
    lines.push(c.child ? `${open}>${c.child}</testcase>` : `${open}/>`);
  }
  // The schema puts output per suite, not per test case: each assertion's reason, one per line.
  const out = v.assertions.map((a) => `${a.passed ? 'ok' : 'not ok'} ${a.name} (${a.window.label}): ${a.reason}`).join('\n');
  lines.push(`    <system-out>${esc(out)}</system-out>`, '    <system-err/>', '  </testsuite>');
  return lines;
}

export function renderJunit(r: RunResult, opts: JunitOptions = {}): string {
  const hostname = opts.hostname ?? (os.hostname() || 'localhost');
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>'];
  r.variants.forEach((v, i) => lines.push(...suite(r, v, i, hostname)));
  // Interrupted before a variant began (or between two): say so in CI as well.
  if (isInterrupted(r) && !r.variants.some((v) => v.status === 'interrupted')) {
    const name = `${r.scenario}.run`;
    lines.push(
      `  <testsuite id="${r.variants.length}" package="${esc(`chaoslab.${r.scenario}`)}" name="${esc(name)}" timestamp="${timestamp(0, r.startedAt)}" hostname="${esc(hostname)}" tests="1" failures="0" errors="0" skipped="1" time="0">`,
      `    <properties><property name="seed" value="${r.seed}"/><property name="status" value="interrupted"/></properties>`,
      `    <testcase classname="${esc(name)}" name="run ran to completion" time="0"><skipped message="${esc(RUN_VERDICTS.interrupted.sentence)}"/></testcase>`,
      '    <system-out/>',
      '    <system-err/>',
      '  </testsuite>',
    );
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

export function writeJunit(file: string, r: RunResult, opts: JunitOptions = {}): void {
  writeFileSync(file, renderJunit(r, opts));
}
