/** `bandwidth`: the links carry at most `rate` KB/s (Toxiproxy toxic "bandwidth"). */
import { z } from 'zod';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface BandwidthSpec {
  type: 'bandwidth';
  links: string[];
  rateKBps: number;
  stream: Stream;
  toxicity: number;
}

export const bandwidth = toxicKind({
  type: 'bandwidth',
  schema: z.strictObject({
    type: z.literal('bandwidth').describe('Limit the throughput of links (Toxiproxy toxic "bandwidth").'),
    ...toxicFields('downstream'),
    rate: z.number().positive().describe('The most the link carries, in KB/s.'),
  }),
  fields: (f): Pick<BandwidthSpec, 'rateKBps'> => ({ rateKBps: f.rate }),
  attributes: (s: BandwidthSpec) => ({ rate: s.rateKBps }),
  what: (s) => `bandwidth ${s.rateKBps}KB/s`,
});
