/**
 * One small "sandbox" container per node for the whole run (Kubernetes' pause container is the model): it holds
 * the node's network namespace, its name on the run's network and its ports published on 127.0.0.1. Each node
 * incarnation runs in its own container that shares that namespace. So a killed or stopped node behaves as a
 * dead local process does: its address stays, connections to it are refused at once, and its peers, Toxiproxy
 * and Prometheus never look up a name that has vanished (a vanished name would make Toxiproxy's dial hang, and
 * the engine's DNS would forward the lookup beyond the machine). Restarts are quicker too: no network to set up.
 */
import type { DockerEngine, EngineContainer } from './engine.js';
import { IMAGES, IN_IMAGE } from './images.js';
import { createLabels, objectName } from './labels.js';

export interface SandboxContext {
  engine: DockerEngine;
  network: string;
  runId: string;
  scenario: string;
  owner: string;
  image?: string;
}

export interface NodeSandboxes {
  /** The id of the container holding node `name`'s network; made on first use (or by `prepare`). */
  get(name: string, ports: number[]): Promise<string>;
  /** Makes them ahead, in the background, while the parts start. Failures surface in `get`. */
  prepare(nodes: { name: string; ports: number[] }[]): void;
  /** Waits for the ones being made, then removes them all. */
  removeAll(): Promise<void>;
}

interface Entry {
  ports: string;
  ready: Promise<EngineContainer>;
}

/** Sleeps and answers signals; nothing else. It has to be something the toys image can run. */
const SLEEPER = [IN_IMAGE.node, '-e', 'setInterval(() => {}, 2 ** 30)'];

export function createNodeSandboxes(ctx: SandboxContext): NodeSandboxes {
  const entries = new Map<string, Entry>();

  const make = (name: string, ports: number[]): Promise<EngineContainer> =>
    (async () => {
      const c = await ctx.engine.createContainer({
        name: objectName('chaoslab', ctx.runId, name, 'net'),
        image: ctx.image ?? IMAGES.toys,
        cmd: SLEEPER,
        user: '65534:65534',
        labels: createLabels(ctx.runId, { scenario: ctx.scenario, node: name, part: 'sandbox', owner: ctx.owner }),
        network: ctx.network,
        aliases: [name],
        publish: ports.map((p) => ({ containerPort: p, hostPort: p })),
        limits: { nanoCpus: 0.25e9, memoryBytes: 64 * 1024 * 1024, pids: 16 },
        readOnlyRoot: true,
      });
      try {
        await c.start();
      } catch (e) {
        await c.remove().catch(() => {});
        throw e;
      }
      return c;
    })();

  const get = (name: string, ports: number[]): Promise<EngineContainer> => {
    const key = [...new Set(ports)].sort((a, b) => a - b).join(',');
    const existing = entries.get(name);
    if (existing && existing.ports === key) return existing.ready;
    // Ports changed (a caller that allocates them per variant): replace the sandbox.
    const previous = existing?.ready.then((c) => c.remove(), () => undefined);
    const ready = (async () => {
      await previous;
      return make(name, ports);
    })();
    entries.set(name, { ports: key, ready });
    // A failed sandbox is made again on the next try.
    ready.catch(() => {
      if (entries.get(name)?.ready === ready) entries.delete(name);
    });
    return ready;
  };

  return {
    async get(name, ports) {
      return (await get(name, ports)).id;
    },
    prepare(nodes) {
      for (const n of nodes) void get(n.name, n.ports).catch(() => {});
    },
    async removeAll() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map((e) => e.ready.then((c) => c.remove())));
    },
  };
}
