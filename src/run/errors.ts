import { Errors } from '../errors/catalog.js';
import { isLabError } from '../errors/lab-error.js';
import type { ErrorFields } from './events.js';

/** An error as the journal and result.json hold it. */
export function errorFields(e: unknown): ErrorFields {
  if (isLabError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: Errors.Internal.code, message: e instanceof Error ? e.message : String(e) };
}
