/**
 * Duration fields of the YAML formats. Their own module so that both the scenario schema and the
 * fault kinds (whose schemas the scenario schema is built from) can use them without an import cycle.
 */
import { z } from 'zod';
import { parseDuration } from '../common/duration.js';
import { LIMITS, MAX_DURATION_TEXT } from './limits.js';

const DURATION_HINT = 'a number with a unit, like 500ms, 2s or 1m';
export const DURATION_NOTE = `(a duration: ${DURATION_HINT}; at most ${MAX_DURATION_TEXT})`;
const TOO_LONG = `expected a duration of at most ${MAX_DURATION_TEXT} (longer ones overflow the lab's timers)`;

/** A non-negative duration like `500ms`, `2s`, `1.5m`, at most 24 h; becomes milliseconds. */
export const Duration = z
  .string({ error: `expected a duration (${DURATION_HINT})` })
  .regex(/^\s*\d+(\.\d+)?(ms|s|m|h)\s*$/, { error: `expected a duration (${DURATION_HINT})` })
  .transform((s) => parseDuration(s) ?? 0)
  .refine((ms) => ms <= LIMITS.durationMs, { error: TOO_LONG })
  .meta({ description: `Duration: ${DURATION_HINT}; at most ${MAX_DURATION_TEXT}` });

/** A duration that must be above zero (fault lengths, timeouts of a run). */
export const PositiveDuration = Duration.refine((ms) => ms > 0, { error: 'expected a duration above zero' });

/** A signed duration for clock offsets: `-500ms`, `+2s`, at most 24 h either way. */
export const SignedDuration = z
  .string({ error: 'expected a signed duration like -500ms or +2s' })
  .regex(/^\s*[+-]?\d+(\.\d+)?(ms|s|m)\s*$/, { error: 'expected a signed duration like -500ms or +2s' })
  .transform((s) => {
    const t = s.trim();
    const neg = t.startsWith('-');
    return (neg ? -1 : 1) * (parseDuration(t.replace(/^[+-]/, '')) ?? 0);
  })
  .refine((ms) => Math.abs(ms) <= LIMITS.durationMs, { error: TOO_LONG });
