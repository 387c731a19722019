/** `timeout`: a black hole. Data is dropped; the connection closes after `timeout`, never with 0. */
import { z } from 'zod';
import { Duration } from '../../scenario/durations.js';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface TimeoutSpec {
  type: 'timeout';
  links: string[];
  timeoutMs: number;
  stream: Stream;
  toxicity: number;
}

export const timeout = toxicKind({
  type: 'timeout',
  schema: z.strictObject({
    type: z.literal('timeout').describe('A black hole on links: data is dropped (Toxiproxy toxic "timeout").'),
    ...toxicFields('both'),
    timeout: Duration.default(0).describe('When the connection is closed: a duration like 2s; 0 (the default) keeps it open and silent forever.'),
  }),
  fields: (f): Pick<TimeoutSpec, 'timeoutMs'> => ({ timeoutMs: f.timeout }),
  attributes: (s: TimeoutSpec) => ({ timeout: s.timeoutMs }),
  what: (s) => (s.timeoutMs === 0 ? 'timeout (black hole, never closes)' : `timeout (black hole, closes after ${s.timeoutMs}ms)`),
});
