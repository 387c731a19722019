/**
 * The lab's narrow facade over dockerode: the few container, image and network calls the Docker runtime needs,
 * with Docker's errors turned into `LabError`s. Nothing else in the lab imports dockerode, so the runtime reads
 * as the lab's own vocabulary and a change of client touches one file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { LabError, type ErrorData } from '../../errors/lab-error.js';
import { Errors } from '../../errors/catalog.js';

export interface EngineOptions {
  /**
   * `unix:///path`, `tcp://host:port`, `ssh://user@host`; as the docker CLI's DOCKER_HOST. Undefined: the local
   * socket. (dockerode itself also reads DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI does.)
   */
  dockerHost?: string;
}

const DEFAULT_HOST = 'unix:///var/run/docker.sock';
const PING_TIMEOUT_MS = 3000;

export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image's CMD (with an image ENTRYPOINT, these are its arguments). */
  cmd: string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  labels: Record<string, string>;
  /** Joins this network under `aliases`... */
  network?: string;
  aliases?: string[];
  /** ...or shares the network namespace of this container (its address, name and published ports). */
  shareNetworkOf?: string;
  /** Container port → host port, published on 127.0.0.1 only. */
  publish?: { containerPort: number; hostPort: number }[];
  limits: { nanoCpus: number; memoryBytes: number; pids: number };
  readOnlyRoot: boolean;
  /** Writable in-memory folders (a read-only root still needs /tmp). */
  tmpfs?: Record<string, string>;
  /** host path → container path, read-write. */
  binds?: { host: string; container: string }[];
}

export interface ListedObject {
  id: string;
  name: string;
  labels: Record<string, string>;
}

/** Credentials for a registry, as the engine's X-Registry-Auth takes them; `{}` is anonymous. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress?: string;
}

/** A build's outcome and its log lines. */
export interface BuildResult {
  imageId: string;
  log: string[];
}

export class DockerEngine {
  readonly docker: Docker;
  readonly host: string;

  constructor(opts: EngineOptions = {}) {
    this.host = opts.dockerHost || DEFAULT_HOST;
    this.docker = new Docker(connectionOptions(opts.dockerHost));
  }

  /** Throws `DockerUnavailable` (exit 3) naming DOCKER_HOST when no engine answers within 3 s. */
  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<{ version: string; apiVersion: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const v = await Promise.race([this.docker.version(), timeout]);
      return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (e) {
      throw this.unavailable(e);
    } finally {
      clearTimeout(timer);
    }
  }

  unavailable(cause: unknown): LabError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new LabError(Errors.DockerUnavailable, `no Docker engine answers at ${this.host} (${why})`, {
      cause,
      hint:
        `start the engine (as root: bash scripts/docker-setup.sh, or systemctl start docker), or point DOCKER_HOST at one ` +
        `(now ${this.host === DEFAULT_HOST ? 'unset: the local socket' : this.host}); without Docker, run with --runtime process`,
    });
  }

  // --- networks

  /** A bridge network of the run's own: no masquerading (containers cannot reach beyond it), ports on 127.0.0.1. */
  async createNetwork(name: string, labels: Record<string, string>): Promise<{ id: string; gateway: string; subnet: string }> {
    const net = await this.call(`create network ${name}`, () =>
      this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: labels,
        Options: {
          'com.docker.network.bridge.enable_ip_masquerade': 'false',
          'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
        },
      }),
    );
    const info = await this.call(`inspect network ${name}`, () => net.inspect() as Promise<Docker.NetworkInspectInfo>);
    const gateway = info.IPAM?.Config?.[0]?.Gateway;
    if (!gateway) {
      // The network is useless without a gateway; a failed removal is the reaper's to finish (it is labelled).
      await net.remove().catch(() => undefined);
      throw new LabError(Errors.DockerFailed, `network ${name} has no gateway address`, { hint: 'check the engine\'s default address pools (docker network inspect)' });
    }
    return { id: net.id, gateway: gateway.split('/')[0]!, subnet: info.IPAM?.Config?.[0]?.Subnet ?? '' };
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.call(`remove network ${idOrName}`, () => this.docker.getNetwork(idOrName).remove(), { ignore: [404] });
  }

  async listNetworks(labelFilter: string[]): Promise<ListedObject[]> {
    const nets = await this.call('list networks', () => this.docker.listNetworks({ filters: { label: labelFilter } }));
    return nets.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  // --- containers

  async createContainer(spec: ContainerSpec): Promise<EngineContainer> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.publish ?? []) {
      exposed[`${p.containerPort}/tcp`] = {};
      bindings[`${p.containerPort}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(p.hostPort) }];
    }
    const c = await this.call(`create container ${spec.name}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.cmd,
        Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
        ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        ...(spec.user ? { User: spec.user } : {}),
        Labels: spec.labels,
        ...(spec.shareNetworkOf ? {} : { ExposedPorts: exposed }),
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: {
          NetworkMode: spec.shareNetworkOf ? `container:${spec.shareNetworkOf}` : spec.network,
          ...(spec.shareNetworkOf ? {} : { PortBindings: bindings }),
          // A runaway toy cannot starve the machine, nor gain anything from the host.
          Privileged: false,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ReadonlyRootfs: spec.readOnlyRoot,
          ...(spec.tmpfs ? { Tmpfs: spec.tmpfs } : {}),
          NanoCpus: spec.limits.nanoCpus,
          Memory: spec.limits.memoryBytes,
          MemorySwap: spec.limits.memoryBytes,
          PidsLimit: spec.limits.pids,
          // docker-init as PID 1: signals reach the program (Node ignores SIGTERM as PID 1) and zombies are reaped.
          Init: true,
          ...(spec.binds ? { Binds: spec.binds.map((b) => `${b.host}:${b.container}:rw`) } : {}),
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '1' } },
        },
        ...(spec.network && !spec.shareNetworkOf ? { NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases ?? [] } } } } : {}),
      }),
    );
    return new EngineContainer(this, c, spec.name);
  }

  async listContainers(labelFilter: string[]): Promise<ListedObject[]> {
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: { label: labelFilter } }));
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} }));
  }

  async removeContainer(id: string): Promise<void> {
    await this.call(`remove container ${id.slice(0, 12)}`, () => this.docker.getContainer(id).remove({ force: true, v: true }), { ignore: [404, 409] });
  }

  /** Every container, then every network, carrying all of the given labels. Returns what it removed. */
  async removeByLabels(labelFilter: string[]): Promise<{ containers: ListedObject[]; networks: ListedObject[] }> {
    const containers = await this.listContainers(labelFilter);
    await Promise.all(containers.map((c) => this.removeContainer(c.id)));
    const networks = await this.listNetworks(labelFilter);
    await Promise.all(networks.map((n) => this.removeNetwork(n.id)));
    return { containers, networks };
  }

  // --- images

  /** The image's id, or undefined when there is no such image. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(ref).inspect()).Id;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw this.wrap(`inspect image ${ref}`, e);
    }
  }

  /** Removes an image no tag points to any more; quietly keeps one still in use. */
  async removeImage(id: string): Promise<void> {
    await this.call(`remove image ${id}`, () => this.docker.getImage(id).remove({ noprune: false }), { ignore: [404, 409] });
  }

  /** Untagged images the lab built (label `chaoslab`), left behind by rebuilds. */
  async pruneDanglingImages(): Promise<void> {
    await this.call('prune images', () => this.docker.pruneImages({ filters: { dangling: ['true'], label: ['chaoslab'] } }));
  }

  /** The image's labels, or undefined when there is no such image. */
  async imageLabels(ref: string): Promise<Record<string, string> | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return info.Config?.Labels ?? {};
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw this.wrap(`inspect image ${ref}`, e);
    }
  }

  /**
   * Builds `tag` from a folder (the Dockerfile at its top). `entries` are the paths packed into the context,
   * relative to it. The classic builder caches layers: an unchanged COPY is not redone.
   */
  async buildImage(opts: { contextDir: string; entries: string[]; dockerfile?: string; tag: string; labels: Record<string, string>; buildArgs?: Record<string, string>; onLog?: (line: string) => void }): Promise<BuildResult> {
    const stream = (await this.call(`build ${opts.tag}`, () =>
      this.docker.buildImage(
        { context: opts.contextDir, src: opts.entries },
        { t: opts.tag, labels: opts.labels, rm: true, forcerm: true, ...(opts.buildArgs ? { buildargs: opts.buildArgs } : {}), ...(opts.dockerfile ? { dockerfile: opts.dockerfile } : {}) },
      ),
    )) as Readable;
    const log: string[] = [];
    let imageId = '';
    let error: string | undefined;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (ev: { stream?: string; error?: string; aux?: { ID?: string }; status?: string }) => {
          if (ev.error) error = ev.error;
          if (ev.aux?.ID) imageId = ev.aux.ID;
          const line = (ev.stream ?? ev.status ?? ev.error ?? '').trimEnd();
          if (line) {
            log.push(line);
            opts.onLog?.(line);
          }
        },
      );
    }).catch((e: unknown) => {
      throw this.wrap(`build ${opts.tag}`, e);
    });
    if (error) {
      throw new LabError(Errors.ImageBuildFailed, `building ${opts.tag} failed: ${error}`, { hint: `last lines:\n${log.slice(-10).join('\n')}` });
    }
    return { imageId, log };
  }

  /** Another name for an image (`repository:tag`); the engine keeps both until one is untagged. */
  async tagImage(ref: string, repository: string, tag: string): Promise<void> {
    await this.call(`tag ${ref} as ${repository}:${tag}`, () => this.docker.getImage(ref).tag({ repo: repository, tag }));
  }

  /** Drops one name of an image (never the image while another name points to it). */
  async untagImage(ref: string): Promise<void> {
    await this.call(`untag ${ref}`, () => this.docker.getImage(ref).remove({ noprune: true }), { ignore: [404] });
  }

  /**
   * Pushes `repository:tag` and follows the engine's progress stream: the engine answers 200 at once and reports a
   * refused or unreachable registry as an `error` event in the stream, which is thrown here. Returns the manifest
   * digest the registry reported.
   */
  async pushImage(repository: string, tag: string, auth: RegistryAuth): Promise<string | undefined> {
    // The header is always sent: an engine may refuse a push without one, and `{}` is anonymous.
    const stream = (await this.call(`push ${repository}:${tag}`, () => this.docker.getImage(repository).push({ tag, authconfig: auth }))) as Readable;
    let digest: string | undefined;
    let error: string | undefined;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (ev: { error?: string; errorDetail?: { message?: string }; aux?: { Digest?: string } }) => {
          if (ev.error) error = ev.errorDetail?.message ?? ev.error;
          if (ev.aux?.Digest) digest = ev.aux.Digest;
        },
      );
    }).catch((e: unknown) => {
      throw this.wrap(`push ${repository}:${tag}`, e);
    });
    if (error) throw new Error(error);
    return digest;
  }

  // --- errors

  /** Runs one API call; engine-level failures become LabErrors. `ignore`: statuses that mean "already so". */
  async call<T>(what: string, fn: () => Promise<T>, opts: { ignore?: number[] } = {}): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (opts.ignore?.includes(statusOf(e) ?? -1)) return undefined as T;
      throw this.wrap(what, e);
    }
  }

  wrap(what: string, e: unknown): LabError {
    if (e instanceof LabError) return e;
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
      return this.unavailable(e);
    }
    const message = `Docker could not ${what}: ${engineMessage(e)}`;
    const kind = engineErrorKind(statusOf(e), engineMessage(e));
    return new LabError(kind, message, { cause: e, hint: kind.hint ?? `engine ${this.host}; see its log (journalctl -u docker, or the dockerd log)` });
  }
}

/** One container: the calls node faults and teardown need. */
export class EngineContainer {
  constructor(
    readonly engine: DockerEngine,
    readonly handle: Docker.Container,
    readonly name: string,
  ) {}

  get id(): string {
    return this.handle.id;
  }

  /**
   * Streams stdout and stderr into `logFile` (appended) from before the start on, so nothing is lost.
   * Resolves with a promise that settles when the stream ends (the container stopped).
   */
  async attachLog(logFile: string): Promise<{ ended: Promise<void> }> {
    const stream = (await this.engine.call(`attach to ${this.name}`, () =>
      this.handle.attach({ stream: true, stdout: true, stderr: true, logs: false }),
    )) as NodeJS.ReadWriteStream;
    const file: WriteStream = createWriteStream(logFile, { flags: 'a' });
    file.on('error', () => {});
    this.engine.docker.modem.demuxStream(stream, file, file);
    const ended = new Promise<void>((resolve) => {
      const done = () => file.end(() => resolve());
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    return { ended };
  }

  async start(): Promise<void> {
    try {
      await this.engine.call(`start ${this.name}`, () => this.handle.start());
    } catch (e) {
      // Under load dockerd 20.10 can fail a start that did happen ("OCI runtime start failed: cannot start an already
      // running container"): the container's state, not the error's text, says whether it runs.
      if (!(await this.state().catch(() => undefined))?.running) throw e;
    }
  }

  /** Resolves with the exit code when the container stops (now, if it is not running). */
  async wait(): Promise<number> {
    const r = (await this.engine.call(`wait for ${this.name}`, () => this.handle.wait())) as { StatusCode: number };
    return r.StatusCode;
  }

  async kill(signal: string): Promise<void> {
    // 409: not running; it is already what the caller wants.
    await this.engine.call(`kill ${this.name}`, () => this.handle.kill({ signal }), { ignore: [404, 409] });
  }

  /** SIGTERM, then SIGKILL after `graceSec`. 304: already stopped. */
  async stop(graceSec: number): Promise<void> {
    await this.engine.call(`stop ${this.name}`, () => this.handle.stop({ t: graceSec }), { ignore: [304, 404] });
  }

  async pause(): Promise<void> {
    await this.engine.call(`pause ${this.name}`, () => this.handle.pause());
  }

  async unpause(): Promise<void> {
    await this.engine.call(`unpause ${this.name}`, () => this.handle.unpause(), { ignore: [409] });
  }

  async remove(): Promise<void> {
    await this.engine.removeContainer(this.id);
  }

  /** The container's address on `network` (empty while it does not run). */
  async addressOn(network: string): Promise<string | undefined> {
    const info = await this.engine.call(`inspect ${this.name}`, () => this.handle.inspect());
    return info.NetworkSettings.Networks[network]?.IPAddress || undefined;
  }

  async state(): Promise<{ running: boolean; paused: boolean; pid: number; exitCode: number; oomKilled: boolean }> {
    const info = await this.engine.call(`inspect ${this.name}`, () => this.handle.inspect());
    return { running: info.State.Running, paused: info.State.Paused, pid: info.State.Pid, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
  }
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * The catalog entry for an engine failure. The engine's API gives a status and a text, nothing finer: this is the
 * one place its text is read, so the rest of the lab tells the cases apart by code.
 */
export function engineErrorKind(status: number | undefined, message: string): ErrorData {
  if (/port is already allocated|address already in use/i.test(message)) return Errors.PortTaken;
  if (status === 404 && /no such image/i.test(message)) return Errors.ImageMissing;
  if (status === 409 && /already in use/i.test(message)) return Errors.DockerNameTaken;
  return Errors.DockerFailed;
}

function engineMessage(e: unknown): string {
  const json = (e as { json?: { message?: string } } | undefined)?.json;
  if (json?.message) return json.message;
  return e instanceof Error ? e.message : String(e);
}

/** dockerode options for a DOCKER_HOST value; undefined leaves dockerode's own defaults (the local socket). */
export function connectionOptions(dockerHost: string | undefined): Docker.DockerOptions {
  if (!dockerHost) return {};
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) || '/var/run/docker.sock', host: undefined } as Docker.DockerOptions;
  const url = new URL(dockerHost.includes('//') ? dockerHost : `tcp://${dockerHost}`);
  if (url.protocol === 'ssh:') return { protocol: 'ssh', host: url.hostname, port: url.port || 22, username: url.username || undefined } as Docker.DockerOptions;
  const tls = url.port === '2376' || url.protocol === 'https:';
  return { protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port || (tls ? 2376 : 2375) } as Docker.DockerOptions;
}
