import { getBackend } from '../backend/registry.js';
import type { DType } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { Tensor, type TensorLike } from '../tensor.js';

/** Turns a number into a 0-d tensor (int32 when it is an integer next to an int32 tensor). */
export function toTensor(op: string, x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') {
    throw new ArgumentError(op, `expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
  }
  const dtype: DType = like && like.dtype === 'int32' && Number.isInteger(x) ? 'int32' : 'float32';
  const b = getBackend();
  return new Tensor(b.fill(1, x, dtype), [], dtype, b);
}

/** Throws an ArgumentError naming `op` unless `x` is a Tensor (instead of a TypeError deeper down). */
export function checkTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(op, `${what} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
  }
}

/** A new tensor on the active backend. */
export function make(storage: unknown, shape: number[], dtype: DType): Tensor {
  return new Tensor(storage, shape, dtype, getBackend());
}
