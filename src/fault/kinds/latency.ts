/** `latency`: every chunk of data on the links waits `latency` (± `jitter`) in Toxiproxy. */
import { z } from 'zod';
import { Duration } from '../../scenario/durations.js';
import { toxicFields, toxicKind } from '../toxics.js';

export interface LatencySpec {
  type: 'latency';
  links: string[];
  latencyMs: number;
  jitterMs: number;
  stream: 'upstream' | 'downstream' | 'both';
  toxicity: number;
}

export const latency = toxicKind({
  type: 'latency',
  schema: z.strictObject({
    type: z.literal('latency').describe('Delay the data on links (Toxiproxy toxic "latency").'),
    ...toxicFields('downstream'),
    latency: Duration.describe('Added delay per chunk of data: a duration like 800ms.'),
    jitter: Duration.default(0).describe('Random variation of the delay, ± this much: a duration like 50ms (default 0).'),
  }),
  fields: (f): Pick<LatencySpec, 'latencyMs' | 'jitterMs'> => ({ latencyMs: f.latency, jitterMs: f.jitter }),
  attributes: (s: LatencySpec) => ({ latency: s.latencyMs, jitter: s.jitterMs }),
  what: (s) => `latency ${s.latencyMs}ms${s.jitterMs > 0 ? `±${s.jitterMs}ms` : ''}`,
});
