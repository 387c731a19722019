import { afterEach, describe, expect, it } from 'vitest';
import { startToy, type RunningToy } from '../lib/toy-node.js';
import { backend } from './backend.js';

let running: RunningToy | undefined;
afterEach(async () => {
  await running?.close(100);
  running = undefined;
});

describe('hello/backend', () => {
  it('answers {key, value} after workMs', async () => {
    running = await startToy(
      { name: 'backend-0', group: 'backend', index: 0, host: '127.0.0.1', ports: { http: 0 }, peers: {}, params: { workMs: 60 }, seed: 1, runId: 't' },
      backend,
    );
    const started = performance.now();
    const res = await fetch(`${running.url}/item/a%2Fb`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key: 'a/b', value: 'value-of-a/b' });
  });
});
