import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { invalidCases, invalidClusters, validBase, validCluster } from '../../test/fixtures/invalid-scenarios.js';
import { LabError } from '../errors/lab-error.js';
import { detectFileKind, globMatch, loadAnyFile, loadCluster, loadScenario } from './load.js';
import { parseSet } from './params.js';
import { MAX_FILE_BYTES } from './load-yaml.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'cluster.yaml'), validCluster);

function write(name: string, text: string): string {
  const f = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(f, text);
  return f;
}

function failure(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LabError) return e.details.length === 1 ? e.details[0]! : e;
    throw e;
  }
  throw new Error('expected a LabError, but it loaded');
}

describe('the valid base', () => {
  it('loads into a plan', () => {
    const plan = loadScenario(write('valid', validBase));
    expect(plan.nodes.map((n) => n.name)).toEqual(['backend', 'frontend']);
    expect(plan.links.map((l) => l.name)).toEqual(['frontend_to_backend']);
    expect(plan.steps[0]).toMatchObject({ name: 'slow', atMs: 10_000, forMs: 10_000, fault: { type: 'latency', latencyMs: 500, links: ['frontend_to_backend'] } });
    expect(plan.assertions[0]!.window).toEqual({ startMs: 10_000, endMs: 20_000, label: 'during slow' });
    expect(plan.variants.find((v) => v.name === 'mitigated')!.params.frontend).toEqual({ backendTimeoutMs: 150, fallback: true });
    expect(plan.variants.find((v) => v.name === 'baseline')!.params.frontend).toEqual({ backendTimeoutMs: 0, fallback: false });
  });
  it('--set overrides apply after mitigations', () => {
    const plan = loadScenario(write('valid2', validBase), { overrides: { frontend: { backendTimeoutMs: 999 } } });
    expect(plan.variants.every((v) => v.params.frontend!.backendTimeoutMs === 999)).toBe(true);
  });
  it('an unknown --set parameter is an input error', () => {
    const e = failure(() => loadScenario(write('valid3', validBase), { overrides: { frontend: { nope: 1 } } }));
    expect(e.code).toBe('CHAOSLAB_INVALID_ARGUMENT');
    expect(e.exitCode).toBe(2);
  });
});

describe('steps limited to some variants (counterfactuals)', () => {
  const slowInMitigated = validBase.replace('    fault: { type: latency, links: frontend_to_backend, latency: 500ms }', '    fault: { type: latency, links: frontend_to_backend, latency: 500ms }\n    variants: [mitigated]');
  it('carry their variants into the plan; two of disjoint variants may touch one link at once', () => {
    const yaml = slowInMitigated.replace('assertions:', '  - name: slower\n    at: 15s\n    for: 10s\n    fault: { type: timeout, links: frontend_to_backend }\n    variants: [baseline]\nassertions:');
    const plan = loadScenario(write('step-variants', yaml));
    expect(plan.steps.map((s) => s.variants)).toEqual([['mitigated'], ['baseline']]);
    expect(loadScenario(write('step-variants0', validBase)).steps[0]!.variants).toBeUndefined();
  });
  it('a variant the scenario does not have is an input error naming the field', () => {
    const e = failure(() => loadScenario(write('step-variants-bad', slowInMitigated.replace('variants: [mitigated]', 'variants: [mitigatd]'))));
    expect(e.code).toBe('CHAOSLAB_UNKNOWN_REFERENCE');
    expect(e.location?.field).toBe('timeline[0].variants[0]');
  });
});

describe('operator actions (timeline `action:`)', () => {
  const withAction = (action: string, extra = '') => validBase.replace('assertions:', `  - name: poke\n    at: 5s\n${extra}    action: ${action}\nassertions:`);
  it('resolve to the instances they call, with the body as JSON, POST by default', () => {
    const plan = loadScenario(write('action', withAction('{ node: backend, path: /admin/delete, body: { lbs: [lb-tv-east] } }')));
    expect(plan.steps[1]).toMatchObject({ name: 'poke', atMs: 5000, forMs: undefined, inControl: false });
    expect(plan.steps[1]!.action).toEqual({ node: 'backend', instances: ['backend'], port: 'http', method: 'POST', path: '/admin/delete', body: { text: '{"lbs":["lb-tv-east"]}', contentType: 'application/json' }, timeoutMs: 5000 });
  });
  it('a control run drops them by default; `control: keep` keeps one', () => {
    expect(loadScenario(write('action-keep', withAction('{ node: frontend, method: GET, path: /admin/x }', '    control: keep\n'))).steps[1]!.inControl).toBe(true);
  });
  it('end the steady-state window, like the first fault', () => {
    const text = withAction('{ node: backend, path: /admin/x }').replace('    condition: "< 0.5"', '    condition: "< 0.5"\n  - name: steady\n    query: up\n    window: steady\n    condition: "> 0"');
    expect(loadScenario(write('action-steady', text)).assertions[1]!.window).toEqual({ startMs: 3000, endMs: 5000, label: 'steady state' });
  });
  it('a port the node does not have is an input error naming the field', () => {
    const e = failure(() => loadScenario(write('action-port', withAction('{ node: backend, port: admin, path: /x }'))));
    expect(e.code).toBe('CHAOSLAB_UNKNOWN_REFERENCE');
    expect(e.location?.field).toBe('timeline[1].action.port');
  });
});

describe('mayDie (nodes that may exit on their own)', () => {
  it('names instances or groups; the plan lists the instances', () => {
    expect(loadScenario(write('maydie', `${validBase}\nmayDie: [backend]\n`)).mayDie).toEqual(['backend']);
    expect(loadScenario(write('maydie0', validBase)).mayDie).toBeUndefined();
  });
  it('a name that matches no node is an input error naming the field', () => {
    const e = failure(() => loadScenario(write('maydie-bad', `${validBase}\nmayDie: [nope]\n`)));
    expect(e.code).toBe('CHAOSLAB_UNKNOWN_REFERENCE');
    expect(e.location?.field).toBe('mayDie');
  });
});

describe('each invalid scenario gets its own clear error', () => {
  for (const c of invalidCases) {
    it(c.name, () => {
      const file = write(c.name, c.yaml);
      const e = failure(() => loadScenario(file));
      expect(e.code, e.format()).toBe(c.code);
      expect(e.kind).toBe('input');
      expect(e.exitCode).toBe(2);
      expect(e.location?.file).toBe(file);
      if (c.line !== undefined) expect(e.location?.line, e.format()).toBe(c.line);
      if (c.field !== undefined) expect(e.location?.field ?? '', e.format()).toContain(c.field);
      if (c.message) expect(e.message).toMatch(c.message);
      expect(e.hint ?? e.message, 'every error says what to do or what was expected').toBeTruthy();
      expect(e.format()).toMatch(new RegExp(`${path.basename(file)}(:\\d+:\\d+)?`));
    });
  }
  it('a file over the size limit is refused before it is read', () => {
    const file = path.join(dir, 'huge.yaml');
    writeFileSync(file, Buffer.alloc(MAX_FILE_BYTES + 1, 'a'));
    expect(failure(() => loadScenario(file)).code).toBe('CHAOSLAB_FILE_TOO_LARGE');
  });
  it('a missing scenario file', () => {
    expect(failure(() => loadScenario(path.join(dir, 'missing.yaml'))).code).toBe('CHAOSLAB_FILE_NOT_FOUND');
  });
  it('several problems are reported together', () => {
    const text = validBase.replace('duration: 30s', 'duration: 5 seconds').replace('timeline:', 'tmeline:');
    const e = (() => { try { loadScenario(write('two', text)); } catch (x) { return x as LabError; } throw new Error('loaded'); })();
    expect(e.details.map((d) => d.code).sort()).toEqual(['CHAOSLAB_INVALID_DURATION', 'CHAOSLAB_UNKNOWN_KEY']);
  });
});

describe('each invalid cluster gets its own clear error', () => {
  for (const c of invalidClusters) {
    it(c.name, () => {
      const file = write(`cluster-${c.name}`, c.yaml);
      const e = failure(() => loadCluster(file));
      expect(e.code, e.format()).toBe(c.code);
      if (c.line !== undefined) expect(e.location?.line, e.format()).toBe(c.line);
      if (c.field !== undefined) expect(e.location?.field ?? '', e.format()).toContain(c.field);
    });
  }
});

describe('parameter types come from the cluster file\'s defaults', () => {
  it('--set values are typed against the declared default, and a wrong one names the flag', () => {
    const file = write('types', validBase);
    const e = failure(() => loadScenario(file, { overrides: parseSet(['frontend.backendTimeoutMs=abc']) }));
    expect(e.code).toBe('CHAOSLAB_INVALID_ARGUMENT');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^--set frontend\.backendTimeoutMs=abc: expected a number/);
    expect(e.hint).toMatch(/cluster\.yaml:8/);
  });
  it('a boolean default refuses "yes" from the scenario, with the line', () => {
    const file = write('types2', validBase.replace('  file: cluster.yaml\n', '  file: cluster.yaml\n  params: { frontend: { fallback: "yes" } }\n'));
    const e = failure(() => loadScenario(file));
    expect(e.code).toBe('CHAOSLAB_INVALID_FIELD');
    expect(e.location).toMatchObject({ line: 11, field: 'cluster.params.frontend.fallback' });
    expect(e.message).toMatch(/expected a boolean/);
  });
  it('a string default takes a --set value that looks like a number as a string', () => {
    const cluster = path.join(dir, 'string-param.yaml');
    writeFileSync(cluster, validCluster.replace('{ workMs: 2 }', '{ workMs: 2, mode: fast }'));
    const file = write('types3', validBase.replace('file: cluster.yaml', 'file: string-param.yaml'));
    const plan = loadScenario(file, { overrides: parseSet(['backend.mode=1']) });
    expect(plan.variants[0]!.params.backend!.mode).toBe('1');
  });
  it('a default that is a duration makes a duration parameter', () => {
    const cluster = path.join(dir, 'duration-param.yaml');
    writeFileSync(cluster, validCluster.replace('{ workMs: 2 }', '{ workMs: 2, work: 2ms }'));
    const file = write('types5', validBase.replace('file: cluster.yaml', 'file: duration-param.yaml'));
    expect(loadScenario(file, { overrides: parseSet(['backend.work=5ms']) }).variants[0]!.params.backend!.work).toBe('5ms');
    expect(failure(() => loadScenario(file, { overrides: parseSet(['backend.work=slow']) })).message).toMatch(/expected a duration like its default, "2ms"/);
    expect(failure(() => loadScenario(file, { overrides: parseSet(['backend.work=100000000h']) })).message).toMatch(/at most 24h/);
  });
  it('good overrides still apply', () => {
    const plan = loadScenario(write('types4', validBase), { overrides: parseSet(['frontend.fallback=true', 'backend.workMs=3.5']) });
    expect(plan.variants[0]!.params).toMatchObject({ frontend: { fallback: true }, backend: { workMs: 3.5 } });
  });
});

describe('validate tells the kinds of file apart by content', () => {
  it('by the yaml-language-server line, the $schema key, or the top-level keys; not by folder', () => {
    const sub = path.join(dir, 'scenarios');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'a-cluster.yaml'), validCluster);
    writeFileSync(path.join(sub, 'with-line.yaml'), `# yaml-language-server: $schema=../schema/cluster.schema.json\n${validCluster}`);
    writeFileSync(path.join(sub, 'with-key.yaml'), `$schema: ../schema/cluster.schema.json\n${validCluster}`);
    expect(detectFileKind(path.join(sub, 'a-cluster.yaml'))).toBe('cluster');
    expect(detectFileKind(path.join(sub, 'with-line.yaml'))).toBe('cluster');
    expect(loadAnyFile(path.join(sub, 'with-key.yaml'))).toBe('cluster');
    expect(detectFileKind(write('kind', validBase))).toBe('scenario');
  });
  it('a file that is neither is an input error that says what it lacks', () => {
    const e = failure(() => detectFileKind(write('neither', 'name: x\n')));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/neither `nodes`/);
  });
});

describe('globs', () => {
  it('match like a shell * and stay linear on patterns that would make a regex backtrack', () => {
    expect(globMatch('storage-*_to_metadata', 'storage-3_to_metadata')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*b*c', 'aXbYc')).toBe(true);
    expect(globMatch('a*b*c', 'aXbY')).toBe(false);
    expect(globMatch(`${'*a'.repeat(40)}*b`, 'a'.repeat(60))).toBe(false);
  });
});
