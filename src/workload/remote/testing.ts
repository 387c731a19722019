/** The load spec the remote load's tests share: two operations (add, get), a short constant load, history on. */
import type { LoadSpec } from '../load-generator.js';

export const testLoadSpec = (over: Partial<LoadSpec> = {}): LoadSpec => ({
  targets: ['http://127.0.0.1:9'],
  rate: 100,
  arrival: 'constant',
  operations: [
    { name: 'add', method: 'POST', path: '/add/{seq}', weight: 1 },
    { name: 'get', method: 'GET', path: '/kv/{key}', weight: 1 },
  ],
  keys: { count: 10, distribution: 'uniform', exponent: 1 },
  timeoutMs: 1000,
  maxInFlight: 100,
  durationMs: 200,
  seed: 7,
  recordHistory: true,
  ...over,
});
