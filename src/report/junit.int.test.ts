/** junit.xml against the common JUnit schema, with xmllint (Debian's libxml2-utils; scripts/test-deps.sh installs it). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { junitRuns } from './html/testing.js';
import { renderJunit } from './junit.js';

const XSD = path.resolve(import.meta.dirname, '../../test/fixtures/junit.xsd');
const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function xmllint(xml: string): { ok: boolean; output: string } {
  const file = path.join(dir, 'junit.xml');
  writeFileSync(file, xml);
  try {
    return { ok: true, output: execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new Error('xmllint is missing: run bash scripts/test-deps.sh (Debian: apt-get install libxml2-utils)');
    return { ok: false, output: err.stderr ?? String(e) };
  }
}

describe('junit.xml', () => {
  it.each(Object.entries(junitRuns()))('validates against the JUnit schema: %s run', (_kind, run) => {
    const r = xmllint(renderJunit(run));
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });

  it('the schema refuses what CI tools would not read (the check can fail)', () => {
    const xml = renderJunit(junitRuns().failed, { hostname: 'h' });
    expect(xmllint(xml.replace(/ time="[^"]*"/, '')).ok).toBe(false);
    expect(xmllint(xml.replace('<testsuites>', '<testsuites tests="5">')).ok).toBe(false);
    expect(xmllint(xml.replace(/<\/failure>/, '</failure><system-out>x</system-out>')).ok).toBe(false);
  });
});
