/** `slow_close`: the proxy waits `delay` before closing a connection (Toxiproxy toxic "slow_close"). */
import { z } from 'zod';
import { Duration } from '../../scenario/durations.js';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface SlowCloseSpec {
  type: 'slow_close';
  links: string[];
  delayMs: number;
  stream: Stream;
  toxicity: number;
}

export const slowClose = toxicKind({
  type: 'slow_close',
  schema: z.strictObject({
    type: z.literal('slow_close').describe('Delay the closing of connections on links (Toxiproxy toxic "slow_close").'),
    ...toxicFields('downstream'),
    delay: Duration.describe('How long the close is held back: a duration like 500ms.'),
  }),
  fields: (f): Pick<SlowCloseSpec, 'delayMs'> => ({ delayMs: f.delay }),
  attributes: (s: SlowCloseSpec) => ({ delay: s.delayMs }),
  what: (s) => `slow_close ${s.delayMs}ms`,
});
