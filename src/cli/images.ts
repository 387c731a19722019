/**
 * `chaoslab images build`: the images the Docker and Kubernetes runtimes run (toys, Toxiproxy, Prometheus).
 * Offline by default where the binaries are on this machine; `--source official` builds from the official images
 * (needs a registry). `chaoslab images push --registry R`: those images into R, for a cluster that pulls them.
 * Throws LabErrors (the CLI's `main` reports them): 2 for bad arguments, 3 when no engine answers, a build fails
 * or the registry refuses.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { DockerEngine } from '../runtime/docker/engine.js';
import { ensureImages, parseImageSource, type ImageOutcome, type ImageSource } from '../runtime/docker/images.js';
import { parseRegistry, pushImages, registryAuth } from '../runtime/docker/registry.js';
import { IMAGES, type ImagesValues } from './commands.js';
import { didYouMean } from './did-you-mean.js';
import { EXIT } from './exit-codes.js';
import { partsOptions } from './lab-parts.js';
import { formatCommandUsage, parseCommand, type CommandSpec } from './options.js';

export interface ImagesEnv {
  cwd: string;
  /** PATH: where toxiproxy-server and prometheus are looked up. */
  path: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  toxiproxyBinary: string | undefined;
  prometheusBinary: string | undefined;
  /** DOCKER_HOST, or undefined for the local socket. */
  dockerHost?: string | undefined;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function imagesCommand(args: string[], env: ImagesEnv): Promise<number> {
  const { values, positionals } = parseCommand(IMAGES, args);
  const [sub] = positionals;
  if (sub === undefined) {
    // A usage error: the usage goes to stderr.
    env.stderr.write(`${formatCommandUsage(IMAGES as CommandSpec<unknown>)}\n`);
    return EXIT.badInput;
  }
  if (sub === 'push') return push(values, env);
  if (sub !== 'build') throw new LabError(Errors.InvalidArgument, `unknown images command "${sub}"${didYouMean(sub, ['build', 'push'])}`, { hint: 'chaoslab images build, or chaoslab images push --registry R' });
  if (values.registry !== undefined) throw new LabError(Errors.InvalidArgument, '--registry is for images push', { hint: 'chaoslab images push --registry R (after images build)' });
  let source: ImageSource;
  try {
    source = parseImageSource(values.source);
  } catch {
    throw new LabError(Errors.InvalidArgument, `--source ${values.source}: expected auto, local or official`, { hint: 'local builds from this machine\'s files, without a registry' });
  }

  const engine = new DockerEngine(env.dockerHost ? { dockerHost: env.dockerHost } : {});
  const version = await engine.ping();
  env.stdout.write(`docker engine ${version.version} at ${engine.host}\n`);
  const started = performance.now();
  const outcomes: ImageOutcome[] = await ensureImages(engine, {
    projectRoot,
    ...partsOptions(env),
    source,
    force: values.force,
    ...(values.verbose ? { onLog: (image: string, line: string) => env.stdout.write(`  ${image} | ${line}\n`) } : {}),
  });
  for (const o of outcomes) {
    env.stdout.write(`${o.status === 'built' ? 'built ' : 'cached'}  ${o.image.padEnd(28)} ${o.source.padEnd(8)} ${(o.ms / 1000).toFixed(1)}s\n`);
  }
  env.stdout.write(`images ready in ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
  return EXIT.ok;
}

/** Pushes the images as they are (no build: what is pushed is what `images build` made and a run will name). */
async function push(values: ImagesValues, env: ImagesEnv): Promise<number> {
  if (values.registry === undefined) throw new LabError(Errors.InvalidArgument, 'images push needs --registry', { hint: 'e.g. chaoslab images push --registry registry.example.com/team' });
  for (const flag of ['source', 'force', 'verbose'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw new LabError(Errors.InvalidArgument, `--${flag} is for images build`, { hint: 'build first (chaoslab images build), then push' });
  }
  const registry = parseRegistry(values.registry);
  const engine = new DockerEngine(env.dockerHost ? { dockerHost: env.dockerHost } : {});
  const version = await engine.ping();
  env.stdout.write(`docker engine ${version.version} at ${engine.host}\n`);
  const started = performance.now();
  await pushImages(engine, registry, {
    auth: registryAuth(registry.host),
    onPushed: (o) => env.stdout.write(`pushed  ${o.ref}${o.digest ? `  ${o.digest}` : ''}  ${(o.ms / 1000).toFixed(1)}s\n`),
  });
  env.stdout.write(`images pushed to ${registry.prefix} in ${((performance.now() - started) / 1000).toFixed(1)}s; run with --runtime kubernetes --image-registry ${registry.prefix}\n`);
  return EXIT.ok;
}
