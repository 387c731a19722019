/**
 * The lab's own settings file, `chaoslab.config.yaml`: defaults a team writes once (the runtime a game day uses,
 * where runs go, which Docker engine) so every command line stays short. Precedence: a flag beats the file,
 * the file beats the built-in default. Looked up in the working folder, or named by `--config` / CHAOSLAB_CONFIG.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../runtime/cluster-runtime.js';
import { parseRegistry } from '../runtime/docker/registry.js';
import { loadYamlFile } from '../scenario/load-yaml.js';

export const CONFIG_FILE = 'chaoslab.config.yaml';

const ConfigSchema = z
  .object({
    /** Where toy nodes run: local processes or Docker containers. */
    runtime: z.enum(RUNTIME_KINDS as unknown as [RuntimeKind, ...RuntimeKind[]]).optional(),
    /** The folder run folders go into, relative to the config file. */
    out: z.string().min(1).optional(),
    /** The Docker engine, as DOCKER_HOST spells it (unix:///var/run/docker.sock, tcp://host:2376). */
    dockerHost: z.string().min(1).optional(),
  })
  .strict();

export interface LabConfig {
  /** The file the settings came from; undefined when there is none. */
  file: string | undefined;
  runtime?: RuntimeKind;
  /** Absolute. */
  out?: string;
  dockerHost?: string;
}

/**
 * `explicit` (from --config or CHAOSLAB_CONFIG) must exist; the default file in `cwd` is optional.
 * Bad content is a user's mistake: exit 2 with file, line and field.
 */
export function loadLabConfig(cwd: string, explicit: string | undefined): LabConfig {
  const file = explicit !== undefined ? path.resolve(cwd, explicit) : path.join(cwd, CONFIG_FILE);
  if (!existsSync(file)) {
    if (explicit === undefined) return { file: undefined };
    throw new LabError(Errors.FileNotFound, `no config file at ${file}`, {
      location: { file },
      hint: `check --config / CHAOSLAB_CONFIG, or remove it to use ${CONFIG_FILE} in the working folder`,
    });
  }
  const { data } = loadYamlFile(file, ConfigSchema, 'chaoslab config');
  const dir = path.dirname(file);
  return {
    file,
    ...(data.runtime ? { runtime: data.runtime } : {}),
    ...(data.out ? { out: path.resolve(dir, data.out) } : {}),
    ...(data.dockerHost ? { dockerHost: data.dockerHost } : {}),
  };
}

/** `--runtime`, else the settings file's, else `process`; a wrong flag value is the user's mistake (exit 2). */
export function chooseRuntime(flag: string | undefined, config: LabConfig | undefined): RuntimeKind {
  const runtime = (flag ?? config?.runtime ?? 'process') as RuntimeKind;
  if (!RUNTIME_KINDS.includes(runtime)) throw new LabError(Errors.InvalidArgument, `--runtime ${String(flag)}: expected ${RUNTIME_KINDS.join(' or ')}`, { hint: 'e.g. --runtime docker' });
  return runtime;
}

/**
 * `--kube-context` and `--image-registry` as the runner takes them. A registry with another runtime would be
 * silently ignored, and a malformed one would fail only after the cluster check: both are exit 2 here.
 */
export function kubeOptions(values: { 'kube-context'?: string; 'image-registry'?: string }, runtime: RuntimeKind): { kubeContext?: string; imageRegistry?: string } {
  const registry = values['image-registry'];
  if (registry !== undefined) {
    if (runtime !== 'kubernetes') throw new LabError(Errors.InvalidArgument, `--image-registry is for the Kubernetes runtime (this run's runtime is ${runtime})`, { hint: 'add --runtime kubernetes, or leave out --image-registry' });
    parseRegistry(registry, '--image-registry');
  }
  return {
    ...(values['kube-context'] !== undefined ? { kubeContext: values['kube-context'] } : {}),
    ...(registry !== undefined ? { imageRegistry: registry.trim().replace(/\/+$/, '') } : {}),
  };
}

/** `--out` (relative to the working folder), else the settings file's, else ./runs. */
export function chooseRunsDir(flag: string | undefined, cwd: string, config: LabConfig | undefined): string {
  return flag !== undefined ? path.resolve(cwd, flag) : (config?.out ?? path.resolve(cwd, 'runs'));
}
