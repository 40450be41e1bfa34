import { ArgumentError } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';

/** The options object of `op`: `undefined` and `null` mean the defaults; anything but a plain object is refused, as are unknown option names. */
export function optionsOf<T extends object>(op: string, opts: T | null | undefined, known: readonly string[]): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ArgumentError(op, `options must be an object, got ${Array.isArray(opts) ? 'an array' : `${typeof opts} ${String(opts)}`}`);
  }
  checkOptions(op, opts, known);
  return opts;
}
