import { describe, expect, it } from 'vitest';
import { ManagedNode } from './managed-node.js';
import type { ExitStatus, NodeDriver, NodeSpec } from './runtime.js';
import type { WaitStrategy } from './wait/index.js';

class FakeDriver implements NodeDriver {
  calls: string[] = [];
  exitStatus: ExitStatus | undefined;
  pid = 42;
  async start() {
    this.calls.push('start');
    this.exitStatus = undefined;
  }
  async stop() {
    this.calls.push('stop');
    this.exitStatus = { code: 0, signal: null };
  }
  async kill(signal: NodeJS.Signals) {
    this.calls.push(`kill ${signal}`);
    if (signal === 'SIGKILL') this.exitStatus = { code: null, signal };
  }
  async pause() {
    this.calls.push('pause');
  }
  async resume() {
    this.calls.push('resume');
  }
  publishAddress(port: number) {
    return `127.0.0.1:${port}`;
  }
}

const spec: NodeSpec = { name: 'n', group: 'g', command: ['x'], cwd: '/', env: {}, logFile: '/nonexistent/n.log', healthUrl: 'http://127.0.0.1:1/', healthTimeoutMs: 5 };
const healthy: WaitStrategy = { timeoutMs: 1, withTimeout: () => healthy, waitUntilReady: async () => {} };

describe('ManagedNode', () => {
  it('restart is stop, start, wait', async () => {
    const d = new FakeDriver();
    const waits: string[] = [];
    const node = new ManagedNode(spec, d, { ...healthy, waitUntilReady: async () => void waits.push('wait') });
    await node.restart();
    expect(d.calls).toEqual(['stop', 'start']);
    expect(waits).toEqual(['wait']);
  });

  it('signals only a running node', async () => {
    const d = new FakeDriver();
    const node = new ManagedNode(spec, d, healthy);
    await node.kill();
    await node.kill();
    await node.pause();
    expect(d.calls).toEqual(['kill SIGKILL']);
    expect(node.exited).toBe(true);
    expect(node.publishAddress(80)).toBe('127.0.0.1:80');
  });
});
