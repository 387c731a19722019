/**
 * `chaoslab images push` against a real registry: go-containerregistry's in-memory registry (cmd/registry, built
 * by scripts/build-registry.sh) on 127.0.0.1, which the Docker engine pushes to over plain HTTP (127.0.0.0/8 is an
 * insecure registry by default). What lands there is read back through the registry's HTTP API, and the names a
 * Kubernetes run with `--image-registry` gives its pods are those. Only tags and pushes: the images are the ones
 * `chaoslab images build` made. Skipped (one line) without Docker, the images or the registry binary on a
 * developer's machine; fails in CI. CHAOSLAB_OCI_REGISTRY names another registry binary than .tools/bin's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/common/ports.js';
import { IMAGES } from '../../src/runtime/docker/images.js';
import { PUSHED, contentTag } from '../../src/runtime/docker/registry.js';
import { shouldRunDockerTests } from '../../src/runtime/docker/testing.js';
import { kubeImagesFrom } from '../../src/runtime/kubernetes/images.js';
import { root, runCli } from '../utils/cli.js';

const FILE = 'docker-registry.test.ts';
const registryBinary = process.env.CHAOSLAB_OCI_REGISTRY ?? path.join(root, '.tools', 'bin', 'oci-registry');
const { run: haveDocker, engine } = await shouldRunDockerTests(FILE);

/** Docker, the three images and the registry binary; in CI a missing one fails the file, elsewhere it is skipped. */
async function ready(): Promise<boolean> {
  if (!haveDocker) return false;
  const missing = [
    ...(existsSync(registryBinary) ? [] : [`the test registry ${registryBinary} (bash scripts/build-registry.sh)`]),
    ...(await Promise.all(PUSHED.map(async (n) => ((await engine.imageId(IMAGES[n])) ? [] : [`image ${IMAGES[n]} (npx chaoslab images build)`])))).flat(),
  ];
  if (!missing.length) return true;
  if (process.env.CI) throw new Error(`${FILE}: CI needs ${missing.join(', ')}`);
  process.stderr.write(`skipped ${FILE}: no ${missing.join(', no ')}\n`);
  return false;
}
const run = await ready();

const MANIFEST_TYPES = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'].join(', ');

describe('images push: bad input', () => {
  it('a malformed --registry is exit 2 naming it, before any engine is asked (the cases: registry.test.ts)', async () => {
    const res = await runCli(['images', 'push', '--registry', 'http://registry.example.com/team'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('--registry "http://registry.example.com/team": no scheme');
    expect(res.stderr).toContain('CHAOSLAB_INVALID_ARGUMENT');
  });

  it('--image-registry is exit 2 with another runtime than kubernetes', async () => {
    const res = await runCli(['run', 'hello-latency', '--image-registry', '127.0.0.1:5000']);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('--image-registry is for the Kubernetes runtime');
  });
});

describe.runIf(run)('images push to a real registry', () => {
  let registry: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    // Port 0: the registry takes a free one and says which ("serving on port N"), so no port race.
    const child = spawn(registryBinary, ['-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    registry = child;
    port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`the test registry said nothing in 5 s: ${text}`)), 5000);
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /serving on port (\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`the test registry exited (${code}): ${text}`)));
    });
  });

  afterAll(() => {
    registry?.kill('SIGKILL');
  });

  it('pushes every image as <registry>/<name>:<image ID>; the registry has each tag, and a Kubernetes run names exactly those', async () => {
    const prefix = `127.0.0.1:${port}/chaoslab`;
    const res = await runCli(['images', 'push', '--registry', prefix]);
    expect(res.code, res.stderr).toBe(0);
    const refs: string[] = [];
    for (const name of PUSHED) {
      const id = (await engine.imageId(IMAGES[name]))!;
      const repo = `chaoslab/${IMAGES[name].split(':')[0]}`;
      const tag = contentTag(id);
      const ref = `${prefix}/${IMAGES[name].split(':')[0]}:${tag}`;
      refs.push(ref);
      expect(res.stdout).toContain(`pushed  ${ref}`);

      const tags = (await (await fetch(`http://127.0.0.1:${port}/v2/${repo}/tags/list`)).json()) as { name: string; tags: string[] };
      expect(tags).toEqual({ name: repo, tags: [tag] });
      const manifest = await fetch(`http://127.0.0.1:${port}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES } });
      expect(manifest.status).toBe(200);
      // The image in the registry is the local image: its config digest is the local image ID.
      const body = (await manifest.json()) as { config: { digest: string }; layers: { digest: string }[] };
      expect(body.config.digest).toBe(id);
      expect(body.layers.length).toBeGreaterThan(0);
      expect(res.stdout).toContain(manifest.headers.get('docker-content-digest')!);
      // Every layer is there to pull.
      for (const l of body.layers) expect((await fetch(`http://127.0.0.1:${port}/v2/${repo}/blobs/${l.digest}`, { method: 'HEAD' })).status).toBe(200);
      // The push's own tag is dropped again: the engine keeps no extra name (a rebuild can remove the old image).
      expect(await engine.imageId(ref)).toBeUndefined();
    }
    // `run --runtime kubernetes --image-registry <prefix>`: the pods' images are the pushed ones, pulled if absent.
    const kube = await kubeImagesFrom(prefix);
    expect([kube.toys, kube.toxiproxy, kube.prometheus]).toEqual(refs);
    expect(kube.pullPolicy).toBe('IfNotPresent');
  });

  it('a registry that does not answer is exit 3 naming it and the reason', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const res = await runCli(['images', 'push', '--registry', `${dead}/chaoslab`]);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('CHAOSLAB_IMAGE_PUSH_FAILED');
    expect(res.stderr).toContain(`to registry ${dead}`);
    expect(res.stderr).toMatch(/connection refused/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(await engine.imageId(`${dead}/chaoslab/chaoslab-toys:${contentTag((await engine.imageId(IMAGES.toys))!)}`)).toBeUndefined();
  });
});
