import { getBackend } from '../backend/registry.js';
import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { willRecord } from '../engine.js';
import { tidy } from '../memory.js';
import { Tensor, type TensorLike } from '../tensor.js';

/**
 * Throws a DTypeError naming `op` unless the number `v`, about to become an int32 value, has one
 * (fractions truncate toward zero): NaN, ±Infinity and values beyond ±2^31 are refused instead of
 * wrapping, as PyTorch refuses them in `full`, `where`, `clamp`, `masked_fill` and `scatter`.
 */
export function checkInt32Scalar(op: string, what: string, v: number, hint = 'use float32 for it'): void {
  if (!(v > -2147483649 && v < 2147483648)) {
    throw new DTypeError(op, `${what} ${v} does not fit in int32 (-2147483648 .. 2147483647); ${hint}`);
  }
}

/**
 * Turns a number into a 0-d tensor (int32 when it is an integer next to an int32 tensor; then it
 * must fit in int32, see {@link checkInt32Scalar}).
 */
export function toTensor(op: string, x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) {
    x._live(op);
    return x;
  }
  if (typeof x !== 'number') {
    throw new ArgumentError(op, `expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
  }
  const dtype: DType = like && like.dtype === 'int32' && Number.isInteger(x) ? 'int32' : 'float32';
  if (dtype === 'int32') checkInt32Scalar(op, 'the number', x, 'cast the int32 tensor it meets to float32 first');
  const b = getBackend();
  return new Tensor(b.fill(1, x, dtype), [], dtype, b);
}

/** Throws an ArgumentError naming `op` unless `x` is a Tensor (instead of a TypeError deeper down), a BpError naming `op` if it was disposed. */
export function checkTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(op, `${what} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
  }
  // A disposed tensor's error names the op it was given to.
  x._live(op);
}

/** A new tensor on the active backend. */
export function make(storage: unknown, shape: number[], dtype: DType): Tensor {
  return new Tensor(storage, shape, dtype, getBackend());
}

/**
 * Runs the body of an op built from other ops: in a {@link tidy} scope when nothing will be
 * recorded, so its intermediate results are released as it returns rather than left to the
 * garbage collector (which does not see a GPU's memory); as it is when autograd will record it,
 * since the graph then keeps those results for the gradient.
 */
export function composite<T>(inputs: readonly unknown[], body: () => T): T {
  return willRecord(inputs.filter((t): t is Tensor => t instanceof Tensor)) ? body() : tidy(body);
}
