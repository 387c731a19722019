import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';

/** Receives what could not be stopped or removed cleanly; the runner journals it. Teardown goes on regardless. */
export type StopErrorHandler = (error: LabError) => void;

/** `StopFailed` naming the part, with the cause. */
export function stopFailure(part: string, cause: unknown): LabError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new LabError(Errors.StopFailed, `could not stop ${part}: ${why}`, { cause });
}
