/**
 * The part of a started node that is the same in every runtime: health waiting (a wait strategy), restart
 * (stop + start + wait), and failure descriptions with the log's tail. A runtime supplies a `NodeDriver`.
 */
import { writeClockControl } from './fake-clock.js';
import { describeExit, describeFailure } from './node-log.js';
import type { ExitStatus, NodeDriver, NodeSpec, StartedNode } from './runtime.js';
import { Wait, WaitFailure, type WaitStrategy } from './wait/index.js';

export class ManagedNode implements StartedNode {
  readonly #health: WaitStrategy;

  constructor(
    readonly spec: NodeSpec,
    readonly driver: NodeDriver,
    health?: WaitStrategy,
  ) {
    this.#health = health ?? Wait.forHttp(spec.healthUrl).withTimeout(spec.healthTimeoutMs);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.driver.pid;
  }

  get exited(): boolean {
    return this.driver.exitStatus !== undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.driver.exitStatus;
  }

  async waitHealthy(): Promise<void> {
    const { spec } = this;
    const name = `node ${spec.name}`;
    try {
      await this.#health.waitUntilReady({ name, gone: () => (this.exitStatus ? `exited (${describeExit(this.exitStatus)})` : undefined) });
    } catch (e) {
      if (!(e instanceof WaitFailure)) throw e;
      throw describeFailure(spec, e.outcome === 'gone' ? `${name} ${e.detail} before it was healthy` : `${name} was not healthy within ${e.timeoutMs} ms (${e.detail})`);
    }
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.exited) await this.driver.kill(signal);
  }

  async pause(): Promise<void> {
    if (!this.exited) await this.driver.pause();
  }

  async resume(): Promise<void> {
    if (!this.exited) await this.driver.resume();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.driver.start();
    await this.waitHealthy();
  }

  publishAddress(port: number): string {
    return this.driver.publishAddress(port);
  }

  async setClock(text: string): Promise<void> {
    const file = this.spec.fakeClock?.controlFile;
    // The runner starts every node a clock fault names with a control file (fakeClockNodes): a bug otherwise.
    if (file === undefined) throw new Error(`node ${this.spec.name} was started without a libfaketime control file`);
    writeClockControl(file, text);
    await this.driver.syncClock?.();
  }
}

/** Starts the first incarnation and wraps the driver. */
export async function startManagedNode(spec: NodeSpec, driver: NodeDriver): Promise<ManagedNode> {
  await driver.start();
  return new ManagedNode(spec, driver);
}
