import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../errors/lab-error.js';
import { contentTag, parseRegistry, pushHint, registryAuth, registryName } from './registry.js';

function refused(text: string): string {
  try {
    parseRegistry(text);
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).exitCode).toBe(2);
    return (e as LabError).message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseRegistry', () => {
  it('takes a host with a path, a host:port, localhost, an IPv6 host, and a Docker Hub account', () => {
    expect(parseRegistry('registry.example.com/team')).toEqual({ prefix: 'registry.example.com/team', host: 'registry.example.com' });
    expect(parseRegistry('127.0.0.1:5000')).toEqual({ prefix: '127.0.0.1:5000', host: '127.0.0.1:5000' });
    expect(parseRegistry('localhost:5000/a/b-c/d_e/f.g/')).toEqual({ prefix: 'localhost:5000/a/b-c/d_e/f.g', host: 'localhost:5000' });
    expect(parseRegistry('[::1]:5000/lab')).toEqual({ prefix: '[::1]:5000/lab', host: '[::1]:5000' });
    // As docker reads `myuser/chaoslab-toys`: no registry in the name, so Docker Hub.
    expect(parseRegistry('myuser')).toEqual({ prefix: 'myuser', host: 'docker.io' });
  });

  it('refuses a scheme, a tag, a digest, uppercase in a path, a bad port, a bad host, an empty one, with the flag named', () => {
    expect(refused('https://registry.example.com/team')).toMatch(/^--registry "https:\/\/registry.example.com\/team": no scheme/);
    expect(refused('registry.example.com/team:v1')).toMatch(/no tag/);
    expect(refused('registry.example.com/team@sha256:abc')).toMatch(/without spaces or a digest/);
    expect(refused('registry.example.com/Team')).toMatch(/"Team": a path component is lowercase/);
    expect(refused('registry.example.com/a//b')).toMatch(/"": a path component/);
    expect(refused('127.0.0.1:70000')).toMatch(/port 70000 is not from 1 to 65535/);
    expect(refused('-bad-.example.com/x')).toMatch(/is not a registry host/);
    expect(refused('  ')).toMatch(/empty/);
    expect(refused(`r.io/${'a'.repeat(240)}`)).toMatch(/too long/);
    expect(() => parseRegistry('http://x', '--image-registry')).toThrow(/^--image-registry "http:\/\/x"/);
  });
});

describe('image names in a registry', () => {
  it('tags with the short image ID, so a changed image is a new tag', () => {
    const id = `sha256:a5194001e7f9${'0'.repeat(52)}`;
    expect(contentTag(id)).toBe('a5194001e7f9');
    expect(contentTag(`sha256:b31abdb37c89${'1'.repeat(52)}`)).not.toBe(contentTag(id));
    expect(() => contentTag('latest')).toThrow(/not an image ID/);
  });

  it('puts <prefix>/<name>:<tag>, dropping the local tag', () => {
    expect(registryName(parseRegistry('registry.example.com/team'), 'chaoslab-toys:latest', 'a5194001e7f9')).toEqual({
      repository: 'registry.example.com/team/chaoslab-toys',
      tag: 'a5194001e7f9',
      ref: 'registry.example.com/team/chaoslab-toys:a5194001e7f9',
    });
    expect(registryName(parseRegistry('127.0.0.1:5000'), 'chaoslab-prometheus:latest', 'b31abdb37c89').ref).toBe('127.0.0.1:5000/chaoslab-prometheus:b31abdb37c89');
  });

  it('says what to do for the usual push failures', () => {
    const r = parseRegistry('registry.example.com/team');
    expect(pushHint(r, 'unauthorized: authentication required')).toMatch(/docker login registry.example.com/);
    expect(pushHint(r, 'http: server gave HTTP response to HTTPS client')).toMatch(/insecure-registries/);
    expect(pushHint(r, 'dial tcp: connection refused')).toMatch(/reachable from the Docker engine/);
  });
});

describe('registryAuth', () => {
  const configDir = (config: unknown) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-docker-config-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };

  it('reads `auths` as docker login writes it (with or without a scheme), Docker Hub under its historical key', () => {
    const auth = Buffer.from('ann:s3cret:with:colons').toString('base64');
    const dir = configDir({ auths: { 'registry.example.com': { auth }, 'https://index.docker.io/v1/': { auth }, 'https://tok.example.com': { identitytoken: 't0k' } } });
    expect(registryAuth('registry.example.com', { DOCKER_CONFIG: dir })).toEqual({ username: 'ann', password: 's3cret:with:colons', serveraddress: 'registry.example.com' });
    expect(registryAuth('docker.io', { DOCKER_CONFIG: dir })).toEqual({ username: 'ann', password: 's3cret:with:colons', serveraddress: 'https://index.docker.io/v1/' });
    expect(registryAuth('tok.example.com', { DOCKER_CONFIG: dir })).toEqual({ identitytoken: 't0k', serveraddress: 'tok.example.com' });
    expect(registryAuth('other.example.com', { DOCKER_CONFIG: dir })).toEqual({});
  });

  it('asks a credential helper (credHelpers, else credsStore) with the server on stdin', () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-cred-helper-'));
    const helper = path.join(bin, 'docker-credential-fake');
    writeFileSync(helper, '#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = registry.example.com ] && echo \'{"Username":"bob","Secret":"pw"}\' && exit 0\necho "credentials not found" >&2; exit 1\n');
    chmodSync(helper, 0o755);
    const dir = configDir({ credHelpers: { 'registry.example.com': 'fake' }, auths: { 'other.example.com': { auth: Buffer.from('x:y').toString('base64') } } });
    const env = { DOCKER_CONFIG: dir, PATH: `${bin}:/usr/bin:/bin` };
    expect(registryAuth('registry.example.com', env)).toEqual({ username: 'bob', password: 'pw', serveraddress: 'registry.example.com' });
    expect(registryAuth('other.example.com', env)).toEqual({ username: 'x', password: 'y', serveraddress: 'other.example.com' });
    // A store that does not know the server: anonymous, as docker push would be.
    expect(registryAuth('third.example.com', { ...env, DOCKER_CONFIG: configDir({ credsStore: 'fake' }) })).toEqual({});
  });

  it('no config file, or one that is not JSON: anonymous', () => {
    expect(registryAuth('r.io', { DOCKER_CONFIG: mkdtempSync(path.join(os.tmpdir(), 'chaoslab-docker-config-')) })).toEqual({});
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-docker-config-'));
    writeFileSync(path.join(dir, 'config.json'), '{not json');
    expect(registryAuth('r.io', { DOCKER_CONFIG: dir })).toEqual({});
  });
});
