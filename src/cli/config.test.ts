import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LabError } from '../errors/lab-error.js';
import { CONFIG_FILE, kubeOptions, loadLabConfig } from './config.js';
import { main, type CliEnv } from './main.js';

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function thrown(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return e as LabError;
  }
  throw new Error('expected an error');
}

describe('chaoslab.config.yaml', () => {
  it('is optional in the working folder', () => {
    expect(loadLabConfig(folder(), undefined)).toEqual({ file: undefined });
  });

  it('gives the runtime, an out folder relative to the file, and the Docker engine', () => {
    const dir = folder({ [CONFIG_FILE]: 'runtime: docker\nout: game-day/runs\ndockerHost: unix:///run/docker.sock\n' });
    expect(loadLabConfig(dir, undefined)).toEqual({ file: path.join(dir, CONFIG_FILE), runtime: 'docker', out: path.join(dir, 'game-day', 'runs'), dockerHost: 'unix:///run/docker.sock' });
  });

  it('accepts runtime: kubernetes', () => {
    const dir = folder({ [CONFIG_FILE]: 'runtime: kubernetes\n' });
    expect(loadLabConfig(dir, undefined)).toMatchObject({ runtime: 'kubernetes' });
  });

  it('names the file, line and field of a bad value, as a user error', () => {
    const dir = folder({ [CONFIG_FILE]: 'out: runs\nruntime: nomad\n' });
    const e = thrown(() => loadLabConfig(dir, undefined));
    expect(e.exitCode).toBe(2);
    expect(e.location).toMatchObject({ file: path.join(dir, CONFIG_FILE), line: 2, field: 'runtime' });
    expect(e.message).toMatch(/process|docker/);
  });

  it('refuses an unknown setting, pointing at its key', () => {
    const dir = folder({ [CONFIG_FILE]: 'runtime: process\nruntme: docker\n' });
    const e = thrown(() => loadLabConfig(dir, undefined));
    expect(e.exitCode).toBe(2);
    expect(e.location).toMatchObject({ line: 2, field: 'runtme' });
  });

  it('requires a file named with --config / CHAOSLAB_CONFIG to exist', () => {
    const e = thrown(() => loadLabConfig(folder(), 'team.yaml'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('team.yaml');
  });
});

describe('chaoslab run with a config file', () => {
  function env(cwd: string): CliEnv & { err: () => string } {
    const err = new PassThrough();
    let text = '';
    err.on('data', (d: Buffer) => (text += d.toString()));
    return { cwd, path: '', stdout: new PassThrough(), stderr: err, noColor: true, toxiproxyBinary: undefined, prometheusBinary: undefined, stateDir: path.join(cwd, '.state'), dockerHost: undefined, otel: {}, err: () => text };
  }

  it('exits 2 before starting anything when the settings file is wrong', async () => {
    const dir = folder({ [CONFIG_FILE]: 'runtime: nomad\n' });
    const e = env(dir);
    expect(await main(['run', 'scenarios/none.yaml'], e)).toBe(2);
    expect(e.err()).toContain(`${CONFIG_FILE}:1`);
    expect(e.err()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('uses the settings file runtime and Docker engine: an engine that does not answer is a failed part (exit 3)', async () => {
    const dir = folder({ [CONFIG_FILE]: 'runtime: docker\ndockerHost: unix:///nonexistent/chaoslab-test.sock\n' });
    const e = env(dir);
    const scenario = path.resolve(import.meta.dirname, '..', '..', 'scenarios', 'hello-latency.yaml');
    expect(await main(['run', scenario, '--out', path.join(dir, 'runs')], e), e.err()).toBe(3);
    expect(e.err()).toContain('unix:///nonexistent/chaoslab-test.sock');
    expect(e.err()).toContain('DOCKER_HOST');
  });

  it('takes --config anywhere on the command line', async () => {
    const dir = folder({ 'team.yaml': 'runtme: docker\n' });
    const e = env(dir);
    expect(await main(['run', '--config', 'team.yaml', 'scenarios/none.yaml'], e)).toBe(2);
    expect(e.err()).toContain('team.yaml:1');
  });
});

describe('--kube-context and --image-registry', () => {
  it('pass through for the Kubernetes runtime (a trailing slash dropped)', () => {
    expect(kubeOptions({}, 'kubernetes')).toEqual({});
    expect(kubeOptions({ 'kube-context': 'lab', 'image-registry': 'registry.example.com/team/' }, 'kubernetes')).toEqual({ kubeContext: 'lab', imageRegistry: 'registry.example.com/team' });
  });

  it('a registry with another runtime, or a malformed one, is exit 2 before anything starts', () => {
    const other = thrown(() => kubeOptions({ 'image-registry': '127.0.0.1:5000' }, 'docker'));
    expect(other.exitCode).toBe(2);
    expect(other.message).toMatch(/--image-registry is for the Kubernetes runtime \(this run's runtime is docker\)/);
    const bad = thrown(() => kubeOptions({ 'image-registry': 'https://registry.example.com' }, 'kubernetes'));
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toMatch(/^--image-registry "https:\/\/registry.example.com": no scheme/);
  });
});
