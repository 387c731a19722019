/**
 * netflix/api: an API backend in one region. `GET /api/{key}` takes `workMs` of one of `concurrency` workers;
 * requests wait in a queue of at most `maxQueue` (beyond it: 503). A region's capacity is its instances ×
 * `concurrency` / `workMs`: finite, so a region that takes another region's traffic must have room for it.
 * Params: `workMs`, `concurrency`, `maxQueue`.
 */
import { Gauge } from 'prom-client';
import { runToyIfMain, sleep, type ToySetup } from '../lib/toy-node.js';

export const api: ToySetup = (toy) => {
  const workMs = toy.params.num('workMs', 10);
  const concurrency = Math.max(1, toy.params.num('concurrency', 4));
  const maxQueue = toy.params.num('maxQueue', 100);
  const busy = new Gauge({ name: 'netflix_api_busy', help: 'Workers busy now.', registers: [toy.registry] });
  const queued = new Gauge({ name: 'netflix_api_queued', help: 'Requests waiting for a worker.', registers: [toy.registry] });

  let working = 0;
  const waiting: (() => void)[] = [];

  toy.route('GET', '/api/:key', async (req) => {
    if (working < concurrency) working++;
    else {
      if (waiting.length >= maxQueue) return { status: 503, body: { error: 'queue full' } };
      // Woken with the worker of the request that finished (handed over, so a newcomer cannot take it first).
      await new Promise<void>((r) => waiting.push(r));
      queued.set(waiting.length);
    }
    busy.set(working);
    try {
      await sleep(workMs);
      return { body: { key: req.params.key, node: toy.config.name } };
    } finally {
      const wake = waiting.shift();
      if (wake) wake();
      else working--;
      busy.set(working);
      queued.set(waiting.length);
    }
  });
};

runToyIfMain(import.meta.url, api);
