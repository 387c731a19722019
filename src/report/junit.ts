/** junit.xml: one test case per assertion per variant, so CI systems show a replay like a test run. */
import { writeFileSync } from 'node:fs';
import type { RunResult } from '../run/result.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function renderJunit(r: RunResult): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = r.variants.reduce((n, v) => n + Math.max(1, v.assertions.length), 0);
  const failed = r.variants.reduce((n, v) => n + (v.assertions.length ? v.assertions.filter((a) => !a.passed).length : 1), 0);
  lines.push(`<testsuites name="chaoslab ${esc(r.scenario)}" tests="${total}" failures="${failed}">`);
  for (const v of r.variants) {
    const suite = `${r.scenario}.${v.name}${r.control ? '.control' : ''}`;
    const fails = v.assertions.filter((a) => !a.passed).length + (v.assertions.length ? 0 : 1);
    lines.push(`  <testsuite name="${esc(suite)}" tests="${Math.max(1, v.assertions.length)}" failures="${fails}" timestamp="${esc(r.startedAt)}">`);
    lines.push(`    <properties><property name="seed" value="${r.seed}"/><property name="expect" value="${v.expect}"/><property name="status" value="${v.status}"/></properties>`);
    if (!v.assertions.length) {
      lines.push(`    <testcase classname="${esc(suite)}" name="variant ran to completion"><failure message="${esc(v.error?.message ?? v.status)}"/></testcase>`);
    }
    for (const a of v.assertions) {
      lines.push(`    <testcase classname="${esc(suite)}" name="${esc(a.name)}">`);
      if (!a.passed) {
        lines.push(`      <failure message="${esc(`expected ${a.expected}, observed ${a.outcome}: ${a.reason}`)}">${esc(a.query)}</failure>`);
      }
      lines.push(`      <system-out>${esc(`${a.window.label}: ${a.reason}`)}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

export function writeJunit(file: string, r: RunResult): void {
  writeFileSync(file, renderJunit(r));
}
