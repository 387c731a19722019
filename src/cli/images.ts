/**
 * `chaoslab images build`: the images the Docker runtime runs (toys, Toxiproxy, Prometheus). Offline by default
 * where the binaries are on this machine; `--source official` builds from the official images (needs a registry).
 * Throws LabErrors (the CLI's `main` reports them): 2 for bad arguments, 3 when no engine answers or a build fails.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { DockerEngine } from '../runtime/docker/engine.js';
import { ensureImages, parseImageSource, type ImageOutcome, type ImageSource } from '../runtime/docker/images.js';

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

export const IMAGES_USAGE = `Usage:
  chaoslab images build [options]   build the Docker runtime's images (toys, Toxiproxy, Prometheus)
      --source <auto|local|official>  local: from this machine's files only (no registry); official: from the
                                      official images; auto (default): as each image was last built, and for
                                      a first build local where the binary is on this machine, else official
      --force              rebuild even if nothing changed (the engine's layer cache still applies)
      --verbose            print the engine's build output`;

export async function imagesCommand(args: string[], env: ImagesEnv): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    env.stdout.write(`${IMAGES_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'build') throw new LabError(Errors.InvalidArgument, `unknown images command "${sub}"`, { hint: 'chaoslab images build' });
  let values: { source?: string; force?: boolean; verbose?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { source: { type: 'string' }, force: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new LabError(Errors.InvalidArgument, e instanceof Error ? e.message : String(e), { hint: 'see `chaoslab images --help`' });
  }
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
    envPath: env.path,
    source,
    force: Boolean(values.force),
    ...(env.toxiproxyBinary ? { toxiproxyBinary: env.toxiproxyBinary } : {}),
    ...(env.prometheusBinary ? { prometheusBinary: env.prometheusBinary } : {}),
    ...(values.verbose ? { onLog: (image: string, line: string) => env.stdout.write(`  ${image} | ${line}\n`) } : {}),
  });
  for (const o of outcomes) {
    env.stdout.write(`${o.status === 'built' ? 'built ' : 'cached'}  ${o.image.padEnd(28)} ${o.source.padEnd(8)} ${(o.ms / 1000).toFixed(1)}s\n`);
  }
  env.stdout.write(`images ready in ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
  return 0;
}
