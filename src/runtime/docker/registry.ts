/**
 * The lab's images in a registry, for a Kubernetes cluster that pulls them (`chaoslab images push --registry R`,
 * `run --image-registry R`). Each image the pods run goes to `R/<name>:<tag>`, the tag being the local image's
 * short ID (as `docker images` shows it): a changed image is a new tag, so a node that cached an earlier push never
 * runs a stale image, and a run names the same reference from the same local image without asking the registry.
 * The engine pushes (its credentials, its insecure-registries list); the lab only tags and follows the stream.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Errors } from '../../errors/catalog.js';
import { LabError } from '../../errors/lab-error.js';
import type { DockerEngine, RegistryAuth } from './engine.js';
import { IMAGES } from './images.js';

/** The images pods run (the base chaoslab-node travels inside the toys image as its layers). */
export const PUSHED = ['toys', 'toxiproxy', 'prometheus'] as const;
export type PushedImage = (typeof PUSHED)[number];

export interface RegistryRef {
  /** As the user wrote it, without a trailing slash: the prefix of every pushed name. */
  prefix: string;
  /** The registry's host[:port]; `docker.io` when the prefix names none (Docker Hub, as docker reads it). */
  host: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::(\\d{1,5}))?$`);
/** distribution/reference's path component: lowercase, separators `.`, `_`, `__`, dashes. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * `registry.example.com/team`, `127.0.0.1:5000`, `localhost:5000/chaoslab`, `myuser` (Docker Hub). The user's
 * mistake (a scheme, a tag, uppercase in a path) is exit 2 naming the flag.
 */
export function parseRegistry(text: string, flag = '--registry'): RegistryRef {
  const bad = (why: string) =>
    new LabError(Errors.InvalidArgument, `${flag} ${JSON.stringify(text)}: ${why}`, { hint: 'a registry and an optional path, e.g. registry.example.com/team or 127.0.0.1:5000/chaoslab' });
  const prefix = text.trim().replace(/\/+$/, '');
  if (!prefix) throw bad('empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(prefix)) throw bad('no scheme: the Docker engine picks https, or plain http for 127.0.0.0/8 and its insecure registries');
  if (/[\s@]/.test(prefix)) throw bad('a registry and path only, without spaces or a digest');
  const parts = prefix.split('/');
  const first = parts[0]!;
  // As docker reads `<prefix>/chaoslab-toys`: the first part is a registry when it looks like a host (a dot, a
  // port, localhost, uppercase); else the name is on Docker Hub.
  const hasDomain = /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
  const path_ = hasDomain ? parts.slice(1) : parts;
  if (hasDomain) {
    const m = DOMAIN.exec(first);
    if (!m) throw bad(`"${first}" is not a registry host[:port]`);
    if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) throw bad(`port ${m[1]} is not from 1 to 65535`);
  }
  for (const c of path_) {
    if (c.includes(':')) throw bad('no tag: the lab tags each image itself (with its image ID)');
    if (!PATH_COMPONENT.test(c)) throw bad(`"${c}": a path component is lowercase letters and digits, joined by . _ __ or -`);
  }
  // Docker's limit on a whole name; the longest the lab makes is <prefix>/chaoslab-prometheus.
  if (`${prefix}/${repositoryOf(IMAGES.prometheus)}`.length > 255) throw bad('too long (an image name is at most 255 characters)');
  return { prefix, host: hasDomain ? first : 'docker.io' };
}

/** `chaoslab-toys:latest` → `chaoslab-toys`. */
function repositoryOf(image: string): string {
  return image.replace(/:[^:/]*$/, '');
}

/** `sha256:<64 hex>` → its first 12 hex digits (the short ID `docker images` prints). */
export function contentTag(imageId: string): string {
  const m = /^(?:sha256:)?([0-9a-f]{12})[0-9a-f]*$/.exec(imageId);
  if (!m) throw new Error(`not an image ID: ${imageId}`);
  return m[1]!;
}

/** Where `image` (one of IMAGES) goes in the registry under `tag`. */
export function registryName(registry: RegistryRef, image: string, tag: string): { repository: string; tag: string; ref: string } {
  const repository = `${registry.prefix}/${repositoryOf(image)}`;
  return { repository, tag, ref: `${repository}:${tag}` };
}

export type RegistryImages = Record<PushedImage, string>;

/** The registry references of the engine's current images: what push pushes and what pods pull. */
export async function registryImages(engine: DockerEngine, registry: RegistryRef): Promise<RegistryImages> {
  const out: Partial<RegistryImages> = {};
  const missing: string[] = [];
  for (const name of PUSHED) {
    const id = await engine.imageId(IMAGES[name]);
    if (id === undefined) missing.push(IMAGES[name]);
    else out[name] = registryName(registry, IMAGES[name], contentTag(id)).ref;
  }
  if (missing.length) throw new LabError(Errors.ImageMissing, `the Docker engine at ${engine.host} has no ${missing.join(', ')}`, { hint: 'build them: npx chaoslab images build' });
  return out as RegistryImages;
}

export interface PushOutcome {
  image: string;
  ref: string;
  /** The manifest's digest as the registry reported it. */
  digest: string | undefined;
  ms: number;
}

/**
 * Tags each image as `R/<name>:<id>`, pushes it through the engine, and drops the tag again (the engine keeps
 * no extra names: a rebuild can still remove the old image). Exit 3 naming the registry when it refuses.
 */
export async function pushImages(engine: DockerEngine, registry: RegistryRef, opts: { auth?: RegistryAuth; onPushed?: (o: PushOutcome) => void } = {}): Promise<PushOutcome[]> {
  const refs = await registryImages(engine, registry);
  const out: PushOutcome[] = [];
  for (const name of PUSHED) {
    const started = performance.now();
    const ref = refs[name];
    const { repository, tag } = splitRef(ref);
    await engine.tagImage(IMAGES[name], repository, tag);
    let digest: string | undefined;
    try {
      digest = await engine.pushImage(repository, tag, opts.auth ?? {});
    } catch (e) {
      if (e instanceof LabError && e.code === Errors.DockerUnavailable.code) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new LabError(Errors.ImagePushFailed, `could not push ${ref} to registry ${registry.host}: ${why}`, { cause: e, hint: pushHint(registry, why) });
    } finally {
      await engine.untagImage(ref).catch(() => undefined);
    }
    const o = { image: IMAGES[name], ref, digest, ms: Math.round(performance.now() - started) };
    opts.onPushed?.(o);
    out.push(o);
  }
  return out;
}

function splitRef(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}

export function pushHint(registry: RegistryRef, why: string): string {
  if (/unauthori[sz]ed|authentication required|denied|no basic auth|403|401/i.test(why)) return `log in to it first (docker login ${registry.host}); the lab uses the Docker CLI's credentials`;
  if (/server gave HTTP response to HTTPS client|x509|certificate|tls/i.test(why)) return `the engine speaks https to ${registry.host}: a plain-HTTP registry outside 127.0.0.0/8 must be in the engine's insecure-registries (/etc/docker/daemon.json)`;
  return `is ${registry.host} up and reachable from the Docker engine (the engine pushes, not the lab)?`;
}

/**
 * The Docker CLI's credentials for `host` (DOCKER_CONFIG, else ~/.docker/config.json): a credential helper
 * (`credHelpers`, `credsStore`) or a plain `auths` entry. None found: anonymous, as `docker push` would be.
 */
export function registryAuth(host: string, env: { DOCKER_CONFIG?: string | undefined; HOME?: string | undefined; PATH?: string | undefined } = process.env): RegistryAuth {
  const dir = env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker');
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return {};
  let config: { auths?: Record<string, { auth?: string; identitytoken?: string }>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
  } catch {
    return {};
  }
  // Docker Hub's entry keeps its historical key.
  const server = host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (helper) {
    const r = spawnSync(`docker-credential-${helper}`, ['get'], { input: server, encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...(env.PATH !== undefined ? { PATH: env.PATH } : {}) } });
    if (r.status === 0) {
      try {
        const c = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
        if (c.Username === '<token>') return { identitytoken: c.Secret ?? '', serveraddress: server };
        if (c.Username !== undefined) return { username: c.Username, password: c.Secret ?? '', serveraddress: server };
      } catch {
        // A helper that answers nonsense is no credential.
      }
    }
  }
  const key = Object.keys(config.auths ?? {}).find((k) => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === (host === 'docker.io' ? 'index.docker.io' : host));
  const entry = key ? config.auths![key]! : undefined;
  if (entry?.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: server };
  if (entry?.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1), serveraddress: server };
  }
  return {};
}
