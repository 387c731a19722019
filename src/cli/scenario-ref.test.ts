import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLabError, type LabError } from '../errors/lab-error.js';
import { looksLikeId, resolveScenarioFile, scenarioIds } from './scenario-ref.js';

/** A project folder with scenarios/ and a lab folder with its own. */
function folders() {
  const project = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-ref-'));
  mkdirSync(path.join(project, 'scenarios'));
  writeFileSync(path.join(project, 'scenarios', 'hello-latency.yaml'), 'id: hello-latency\n');
  writeFileSync(path.join(project, 'scenarios', 'kafka-split.yml'), 'id: kafka-split\n');
  writeFileSync(path.join(project, 'scenarios', 'notes.txt'), '');
  const lab = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-lab-'));
  mkdirSync(path.join(lab, 'scenarios'));
  writeFileSync(path.join(lab, 'scenarios', 'shipped.yaml'), 'id: shipped\n');
  return { project, lab };
}

function thrown(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    if (isLabError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('resolveScenarioFile', () => {
  it('finds the file of the id `list` prints, .yaml or .yml', () => {
    const { project, lab } = folders();
    expect(resolveScenarioFile('hello-latency', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'scenarios', 'hello-latency.yaml'));
    expect(resolveScenarioFile('kafka-split', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'scenarios', 'kafka-split.yml'));
  });

  it('takes a path that exists as is, before any id', () => {
    const { project, lab } = folders();
    writeFileSync(path.join(project, 'hello-latency'), 'id: mine\n');
    expect(resolveScenarioFile('hello-latency', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'hello-latency'));
    expect(resolveScenarioFile('scenarios/hello-latency.yaml', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'scenarios', 'hello-latency.yaml'));
  });

  it("looks in the lab's own scenarios/ when the working folder has none", () => {
    const { lab } = folders();
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-cwd-'));
    expect(resolveScenarioFile('shipped', { cwd: elsewhere, projectRoot: lab })).toBe(path.join(lab, 'scenarios', 'shipped.yaml'));
    expect(resolveScenarioFile('shipped.yaml', { cwd: elsewhere, projectRoot: lab })).toBe(path.join(lab, 'scenarios', 'shipped.yaml'));
  });

  it('refuses an unknown id with exit 2, naming the close ids and all of them', () => {
    const { project, lab } = folders();
    const e = thrown(() => resolveScenarioFile('hello-latncy', { cwd: project, projectRoot: lab }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('no scenario "hello-latncy": neither a file nor a scenario id in scenarios (did you mean hello-latency?)');
    expect(e.hint).toBe('scenario ids: hello-latency, kafka-split (chaoslab list describes them)');
    expect(thrown(() => resolveScenarioFile('zzz', { cwd: project, projectRoot: lab })).message).not.toContain('did you mean');
  });

  it('refuses a folder or an empty argument (exit 2); a folder named like an id still finds the id', () => {
    const { project, lab } = folders();
    const e = thrown(() => resolveScenarioFile('scenarios', { cwd: project, projectRoot: lab }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('scenarios is a folder, not a scenario file');
    expect(thrown(() => resolveScenarioFile('/', { cwd: project, projectRoot: lab })).message).toBe('/ is a folder, not a scenario file');
    expect(thrown(() => resolveScenarioFile('', { cwd: project, projectRoot: lab })).message).toBe('the scenario argument is empty');
    mkdirSync(path.join(project, 'hello-latency'));
    expect(resolveScenarioFile('hello-latency', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'scenarios', 'hello-latency.yaml'));
  });

  it('leaves a missing path to the loader, which names the file', () => {
    const { project, lab } = folders();
    expect(resolveScenarioFile('scenarios/none.yaml', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'scenarios', 'none.yaml'));
    expect(resolveScenarioFile('none.yaml', { cwd: project, projectRoot: lab })).toBe(path.join(project, 'none.yaml'));
  });
});

describe('looksLikeId / scenarioIds', () => {
  it('an id has no folder and no .yaml', () => {
    expect(looksLikeId('hello-latency')).toBe(true);
    expect(looksLikeId('hello-latency.yaml')).toBe(false);
    expect(looksLikeId('scenarios/hello-latency')).toBe(false);
    expect(looksLikeId('../x')).toBe(false);
    expect(looksLikeId('')).toBe(false);
  });

  it('lists the YAML files of a folder, by name', () => {
    const { project } = folders();
    expect(scenarioIds(path.join(project, 'scenarios'))).toEqual(['hello-latency', 'kafka-split']);
    expect(scenarioIds(path.join(project, 'nope'))).toEqual([]);
  });
});
