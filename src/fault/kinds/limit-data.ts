/** `limit_data`: the connection is closed after `bytes` bytes (Toxiproxy toxic "limit_data"). */
import { z } from 'zod';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface LimitDataSpec {
  type: 'limit_data';
  links: string[];
  bytes: number;
  stream: Stream;
  toxicity: number;
}

export const limitData = toxicKind({
  type: 'limit_data',
  schema: z.strictObject({
    type: z.literal('limit_data').describe('Close connections on links after some bytes (Toxiproxy toxic "limit_data").'),
    ...toxicFields('downstream'),
    bytes: z.number().int().positive().describe('How many bytes a connection carries before it is closed.'),
  }),
  fields: (f): Pick<LimitDataSpec, 'bytes'> => ({ bytes: f.bytes }),
  attributes: (s: LimitDataSpec) => ({ bytes: s.bytes }),
  what: (s) => `limit_data ${s.bytes}B`,
});
