/**
 * A small "sandbox" container that lives for the whole run and holds the nodes' network namespace (Kubernetes'
 * pause container is the model): the nodes' names on the run's network (as aliases) and their ports published
 * on 127.0.0.1. Each node incarnation runs in its own container (own processes, limits, root filesystem) sharing
 * that namespace, as local processes share the host's; every node port is distinct, so they do not collide.
 * So a killed or stopped node behaves as a dead local process does: its address stays, connections to it are
 * refused at once, and its peers, Toxiproxy and Prometheus never look up a name that has vanished (a vanished
 * name makes Toxiproxy's dial hang, and the engine's DNS would forward the lookup beyond the machine).
 * One sandbox for all the nodes the run announces (one container start instead of one per node: the engine
 * starts containers one after another); a node it did not announce gets a sandbox of its own.
 */
import type { LabError } from '../../errors/lab-error.js';
import { stopFailure } from '../stop-failure.js';
import type { DockerEngine, EngineContainer } from './engine.js';
import { IMAGES, IN_IMAGE } from './images.js';
import { createLabels, partName } from './labels.js';

export interface SandboxContext {
  engine: DockerEngine;
  network: string;
  runId: string;
  scenario: string;
  owner: string;
  image?: string;
  /** A sandbox that could not be removed cleanly (the run's label sweep still removes it). */
  onError?: (error: LabError) => void;
}

export interface NodeSandboxes {
  /** The id of the container holding node `name`'s network; made on first use (or by `prepare`). */
  get(name: string, ports: number[]): Promise<string>;
  /** Makes the shared sandbox ahead, in the background, while the parts start. Failures surface in `get`. */
  prepare(nodes: { name: string; ports: number[] }[]): void;
  /** Settles when the sandbox `prepare` started is up (or failed). */
  prepared(): Promise<void>;
  /** The node's IP address on the run's network, once its sandbox runs (undefined before). */
  addressOf(name: string): string | undefined;
  /** Waits for the ones being made, then removes them all. */
  removeAll(): Promise<void>;
}

interface Entry {
  shared: boolean;
  ports: Set<number>;
  ready: Promise<EngineContainer>;
  ip?: string;
  /** Settles once `ip` is known (or cannot be). */
  located: Promise<void>;
}

/** Sleeps; docker-init (PID 1) passes it the stop signal. The toys image has coreutils' sleep. */
const SLEEPER = [IN_IMAGE.sleep, 'infinity'];

export function createNodeSandboxes(ctx: SandboxContext): NodeSandboxes {
  const entries = new Map<string, Entry>();
  let preparing: Promise<unknown> = Promise.resolve();

  const make = (name: string, aliases: string[], ports: number[]): Promise<EngineContainer> =>
    (async () => {
      const c = await ctx.engine.createContainer({
        name: partName(ctx.runId, name),
        image: ctx.image ?? IMAGES.toys,
        cmd: SLEEPER,
        user: '65534:65534',
        labels: createLabels(ctx.runId, { scenario: ctx.scenario, node: aliases.join(','), part: 'sandbox', owner: ctx.owner }),
        network: ctx.network,
        aliases,
        publish: ports.map((p) => ({ containerPort: p, hostPort: p })),
        limits: { nanoCpus: 0.1e9, memoryBytes: 16 * 1024 * 1024, pids: 4 },
        readOnlyRoot: true,
      });
      try {
        await c.start();
      } catch (e) {
        await c.remove().catch((e2: unknown) => ctx.onError?.(stopFailure(`sandbox ${name}`, e2)));
        throw e;
      }
      return c;
    })();

  const track = (names: string[], ports: number[], ready: Promise<EngineContainer>, shared: boolean): void => {
    const entry: Entry = { shared, ports: new Set(ports), ready, located: Promise.resolve() };
    entry.located = ready.then(
      async (c) => {
        entry.ip = await c.addressOn(ctx.network).catch(() => undefined);
      },
      () => undefined,
    );
    if (shared) preparing = entry.located;
    for (const n of names) entries.set(n, entry);
    // A failed sandbox is made again on the next try.
    ready.catch(() => {
      for (const n of names) if (entries.get(n) === entry) entries.delete(n);
    });
  };

  const get = (name: string, ports: number[]): Promise<EngineContainer> => {
    const existing = entries.get(name);
    if (existing && ports.every((p) => existing.ports.has(p))) return existing.ready;
    // Not announced, or with other ports: a sandbox of its own (a shared one stays for the others).
    const previous = existing && !existing.shared ? existing.ready.then((c) => c.remove(), () => undefined) : undefined;
    const ready = (async () => {
      await previous;
      return make(`net-${name}`, [name], ports);
    })();
    track([name], ports, ready, false);
    return ready;
  };

  return {
    async get(name, ports) {
      return (await get(name, ports)).id;
    },
    prepare(nodes) {
      const fresh = nodes.filter((n) => !entries.has(n.name));
      if (fresh.length === 0) return;
      const names = fresh.map((n) => n.name);
      const ports = [...new Set(fresh.flatMap((n) => n.ports))];
      const ready = make('nodes', names, ports);
      ready.catch(() => {});
      track(names, ports, ready, true);
    },
    async prepared() {
      await preparing;
    },
    addressOf(name) {
      return entries.get(name)?.ip;
    },
    async removeAll() {
      const all = new Set([...entries.values()].map((e) => e.ready));
      entries.clear();
      // A sandbox that never started has nothing to remove (its failure was the start's to report).
      const outcomes = await Promise.allSettled([...all].map((ready) => ready.then((c) => c.remove(), () => undefined)));
      for (const o of outcomes) if (o.status === 'rejected') ctx.onError?.(stopFailure('a node sandbox', o.reason));
    },
  };
}
