/** `slicer`: data is cut into small pieces sent apart (Toxiproxy toxic "slicer"). */
import { z } from 'zod';
import { Duration } from '../../scenario/durations.js';
import { toxicFields, toxicKind, type Stream } from '../toxics.js';

export interface SlicerSpec {
  type: 'slicer';
  links: string[];
  averageSize: number;
  sizeVariation: number;
  /** Toxiproxy takes the slicer's delay in microseconds. */
  delayUs: number;
  stream: Stream;
  toxicity: number;
}

export const slicer = toxicKind({
  type: 'slicer',
  schema: z.strictObject({
    type: z.literal('slicer').describe('Slice the data on links into small pieces sent apart (Toxiproxy toxic "slicer").'),
    ...toxicFields('downstream'),
    averageSize: z.number().int().positive().describe('Average size of a piece, in bytes.'),
    sizeVariation: z.number().int().min(0).default(0).describe('Random variation of the piece size, ± this many bytes (default 0).'),
    delay: Duration.default(0).describe('Pause between pieces: a duration like 1ms (default 0).'),
  }),
  fields: (f): Pick<SlicerSpec, 'averageSize' | 'sizeVariation' | 'delayUs'> => ({
    averageSize: f.averageSize,
    sizeVariation: f.sizeVariation,
    delayUs: f.delay * 1000,
  }),
  attributes: (s: SlicerSpec) => ({ average_size: s.averageSize, size_variation: s.sizeVariation, delay: s.delayUs }),
  what: (s) => `slicer ${s.averageSize}±${s.sizeVariation}B every ${s.delayUs}µs`,
});
