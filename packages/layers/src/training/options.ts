import { ArgumentError } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';

/**
 * The options object of `op` (`fit`, `evaluate`, `predict`, `EarlyStopping`): `null` and `undefined`
 * mean none (so `fit(x, y, undefined)` and a config read from JSON as `null` work); anything but a
 * plain object is refused, and so is a key the op does not take, naming the closest one, because a
 * misspelt `{ epoch: 3 }` would otherwise run with the default without a word. `example` is what
 * the message shows as a valid object (default: the first known key).
 */
export function optionsOf<T extends object>(op: string, opts: unknown, known: readonly string[], example = `{ ${known[0]}: ... }`): T {
  if (opts === undefined || opts === null) return {} as T;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ArgumentError(op, `options must be an object such as ${example}, got ${shownValue(opts)}`);
  }
  checkOptions(op, opts, known);
  return opts as T;
}

/**
 * Option `name` of `op`, which must be true or false: `fallback` when it is undefined or null;
 * anything else is refused, since truthiness would make `shuffle: 'no'` shuffle.
 */
export function flagOption(op: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ArgumentError(op, `${name} must be true or false, got ${shownValue(v)}`);
  return v;
}
