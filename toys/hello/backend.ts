/**
 * hello/backend: `GET /item/:key` → `{"key", "value"}` after `workMs` of simulated work.
 * Params: `workMs` (default 2, live: `POST /admin/params`), `workJitterMs` (default 0; extra uniform delay from the seeded rng).
 */
import { runToyIfMain, sleep, type ToySetup } from '../lib/toy-node.js';

export const backend: ToySetup = (toy) => {
  const workMs = toy.params.liveNum('workMs', 2);
  const jitterMs = toy.params.num('workJitterMs', 0);

  toy.route('GET', '/item/:key', async (req) => {
    const key = req.params.key!;
    // A timer, not a busy loop: the backend is slow, not CPU-bound, and stays responsive to health checks.
    await sleep(workMs() + (jitterMs > 0 ? toy.rng.next() * jitterMs : 0));
    return { body: { key, value: `value-of-${key}` } };
  });
};

runToyIfMain(import.meta.url, backend);
