/**
 * Test support for the Docker runtime (used by test/e2e/docker-*.test.ts; nothing here is for end-user paths).
 * In CI (`CI` set) a Docker test that cannot reach an engine fails; on a developer's machine without Docker it
 * is skipped, with one line saying why.
 */
import { DockerEngine } from './engine.js';
import { LABEL } from './labels.js';

export interface DockerAvailability {
  available: boolean;
  /** Why not, in one line. */
  reason: string;
  engine: DockerEngine;
}

/** Asks the engine DOCKER_HOST names (or the local socket) whether it answers, and whether the images exist. */
export async function dockerAvailability(env: NodeJS.ProcessEnv = process.env): Promise<DockerAvailability> {
  const engine = new DockerEngine(env.DOCKER_HOST ? { dockerHost: env.DOCKER_HOST } : {});
  try {
    await engine.ping(3000);
    return { available: true, reason: '', engine };
  } catch (e) {
    return { available: false, reason: (e instanceof Error ? e.message : String(e)).split('\n')[0]!, engine };
  }
}

/**
 * For a test file's top level: true when the Docker tests should run. Without an engine: in CI throws (the
 * suite fails), elsewhere prints one line and returns false (the caller skips).
 */
export async function shouldRunDockerTests(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ run: boolean; engine: DockerEngine }> {
  const a = await dockerAvailability(env);
  if (a.available) return { run: true, engine: a.engine };
  if (env.CI) throw new Error(`${file}: CI needs a Docker engine and none answers: ${a.reason} (run scripts/docker-setup.sh first)`);
  process.stderr.write(`skipped ${file}: no Docker engine (${a.reason})\n`);
  return { run: false, engine: a.engine };
}

/** Names of containers and networks still labelled with the scenario (any run). */
export async function leftoversOf(engine: DockerEngine, labels: Record<string, string>): Promise<string[]> {
  const filter = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const [containers, networks] = await Promise.all([engine.listContainers(filter), engine.listNetworks(filter)]);
  return [...containers.map((c) => `container ${c.name}`), ...networks.map((n) => `network ${n.name}`)];
}

export { LABEL };
