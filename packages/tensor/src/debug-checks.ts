/**
 * Value checks that read a tensor back to the host: label ranges in the losses and
 * `oneHot`, probability ranges in the binary and categorical cross-entropies, and
 * index ranges in `gather`/`indexSelect`. On a GPU each such read stalls the
 * pipeline, so by default they run only on backends whose memory the host reads
 * at no cost (the CPU backend, `Backend.valueChecks`); elsewhere they are skipped
 * unless turned on with {@link setDebugChecks} or the `BP_DEBUG_CHECKS=1`
 * environment variable.
 */
import type { Backend } from './backend/backend.js';
import { ArgumentError } from './errors.js';

/** `true`: always check; `false`: never; `'auto'`: on backends that set `valueChecks`. */
export type DebugChecks = boolean | 'auto';

function fromEnv(): DebugChecks {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.BP_DEBUG_CHECKS?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  return 'auto';
}

let setting: DebugChecks = fromEnv();

/**
 * Turns the value checks that read tensors back on (`true`), off (`false`) or back
 * to the default (`'auto'`: on for the CPU backend, off for GPU backends, where
 * each check would be a host round trip inside the training step). With the checks
 * on, a label out of range, a probability outside `[0, 1]` or an index out of range
 * throws the same clear error on every backend; with them off, such values give NaN
 * losses (labels, probabilities) or unspecified values (indices) instead of an error.
 * The environment variable `BP_DEBUG_CHECKS=1` (or `0`) sets the starting value.
 *
 * @example
 * setDebugChecks(true); // while hunting a bad label on the GPU backend
 */
export function setDebugChecks(on: DebugChecks): void {
  if (on !== true && on !== false && on !== 'auto') {
    throw new ArgumentError('setDebugChecks', `expected true, false or 'auto', got ${JSON.stringify(on) ?? typeof on}`);
  }
  setting = on;
}

/** The current setting of {@link setDebugChecks}. */
export function getDebugChecks(): DebugChecks {
  return setting;
}

/** Whether checks that read values back run on `backend` now. */
export function valueChecksOn(backend: Backend): boolean {
  return setting === 'auto' ? backend.valueChecks === true : setting;
}
