/** `reset_peer`: connections are reset (TCP RST) after `timeout` (Toxiproxy toxic "reset_peer"). */
import { z } from 'zod';
import { Duration } from '../../scenario/durations.js';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface ResetPeerSpec {
  type: 'reset_peer';
  links: string[];
  timeoutMs: number;
  stream: Stream;
  toxicity: number;
}

export const resetPeer = toxicKind({
  type: 'reset_peer',
  schema: z.strictObject({
    type: z.literal('reset_peer').describe('Reset connections on links with a TCP RST (Toxiproxy toxic "reset_peer").'),
    ...toxicFields('downstream'),
    timeout: Duration.default(0).describe('How long after data arrives the connection is reset: a duration like 100ms; 0 (the default) at once.'),
  }),
  fields: (f): Pick<ResetPeerSpec, 'timeoutMs'> => ({ timeoutMs: f.timeout }),
  attributes: (s: ResetPeerSpec) => ({ timeout: s.timeoutMs }),
  what: (s) => `reset_peer after ${s.timeoutMs}ms`,
});
