import { getBackend } from '../backend/registry.js';
import { record } from '../engine.js';
import { ArgumentError } from '../errors.js';
import { normAxes, normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast, div } from './elementwise.js';
import { reshape } from './movement.js';
import { checkTensor, make, composite } from './util.js';

/**
 * The recorded reductions: the axes reduced (sorted, canonical; empty for a 0-d input) and whether
 * they were kept. `max`/`min` also record how their gradient treats ties: `splitTies` (the full
 * reduction and lists of axes, as PyTorch's `max()` and `amax`) shares it evenly among the tied
 * extremes; otherwise (one axis given as a number, as PyTorch's `max(dim)`) it goes to the first.
 */
export type ReduceAttrs = { [K in 'sum' | 'prod']: { axes: number[]; keepDims: boolean } } & {
  [K in 'max' | 'min']: { axes: number[]; keepDims: boolean; splitTies: boolean };
};

function keptShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * The axes a reduction removes. A 0-d tensor accepts axis 0 or -1 (and lists of them), as in
 * PyTorch, and reducing it over them leaves its one value: no axis is removed.
 */
export function reduceAxes(op: string, axis: number | readonly number[] | null | undefined, rank: number): number[] {
  const axes = normAxes(op, axis, rank);
  return rank === 0 ? [] : axes;
}

function reduceOp(
  op: 'sum' | 'max' | 'min' | 'prod',
  x: Tensor,
  axis: number | readonly number[] | null | undefined,
  keepDims: boolean,
): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor, got ${typeof x}`);
  x._live(op);
  const axes = reduceAxes(op, axis, x.rank);
  const outShape = keptShape(x.shape, axes, keepDims);
  const b = getBackend();
  let out: Tensor;
  if (axes.length === 0) {
    out = make(b.cast(x._on(b), x.size, x.dtype, x.dtype), outShape, x.dtype);
  } else {
    if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
      throw new ArgumentError(op, `cannot reduce over an empty axis of shape [${x.shape.join(',')}]`);
    }
    out = make(b.reduce(op, x._on(b), x.shape, axes, x.dtype), outShape, x.dtype);
  }
  if (op === 'max' || op === 'min') return record(op, [x], out, { axes, keepDims, splitTies: typeof axis !== 'number' });
  return record(op, [x], out, { axes, keepDims });
}

/**
 * Sum over `axis` (a number or a list; every axis when omitted or null, none for an empty list, as
 * NumPy's `axis=()`: PyTorch's `dim=[]` reduces every axis). A 0-d tensor accepts axis 0 or -1, as PyTorch.
 */
export function sum(x: Tensor, axis?: number | number[] | null, keepDims = false): Tensor {
  return reduceOp('sum', x, axis, keepDims);
}

/** Mean over `axis` (a number or a list; every axis when omitted). Always float32. */
export function mean(x: Tensor, axis?: number | number[] | null, keepDims = false): Tensor {
  return composite([x], () => {
    checkTensor('mean', x);
    const axes = reduceAxes('mean', axis, x.rank);
    let count = 1;
    for (const a of axes) count *= x.shape[a];
    const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
    return div(sum(xf, axes, keepDims), count);
  });
}

/**
 * Largest value over `axis` (a number or a list; every axis when omitted). The gradient goes to
 * the maximum; on ties it goes to the first one when `axis` is a number (PyTorch's `max(dim)`) and
 * is split evenly among them otherwise (PyTorch's `max()` and `amax`). A NaN is the result of its
 * slice, and there the gradient goes to the NaN (split evenly among several), as PyTorch's
 * `max()`: `max(tensor([1, NaN, 3]))` sends it all to the NaN. A 0-d tensor accepts axis 0 or -1
 * and gives its value back, as PyTorch.
 */
export function max(x: Tensor, axis?: number | number[] | null, keepDims = false): Tensor {
  return reduceOp('max', x, axis, keepDims);
}

/** Smallest value over `axis`; gradient and ties as {@link max}. */
export function min(x: Tensor, axis?: number | number[] | null, keepDims = false): Tensor {
  return reduceOp('min', x, axis, keepDims);
}

/** Product over `axis`. Its gradient is the product of the other factors, also where some are 0 (as PyTorch). */
export function prod(x: Tensor, axis?: number | number[] | null, keepDims = false): Tensor {
  return reduceOp('prod', x, axis, keepDims);
}

function argOp(op: 'argmax' | 'argmin', x: Tensor, axis: number | null | undefined, keepDims: boolean): Tensor {
  checkTensor(op, x);
  if (axis === undefined || axis === null) {
    if (x.size === 0) throw new ArgumentError(op, 'cannot take the arg-max of an empty tensor');
    const flat = reshape(x, [x.size]);
    const b = getBackend();
    const out = make(b.reduce(op, flat._on(b), flat.shape, [0], x.dtype), keepDims ? x.shape.map(() => 1) : [], 'int32');
    return out;
  }
  const a = normAxis(op, axis, x.rank);
  if (x.rank === 0) return make(getBackend().fill(1, 0, 'int32'), [], 'int32');
  if (x.shape[a] === 0) throw new ArgumentError(op, `axis ${axis} of shape [${x.shape.join(',')}] is empty`);
  const b = getBackend();
  return make(b.reduce(op, x._on(b), x.shape, [a], x.dtype), keptShape(x.shape, [a], keepDims), 'int32');
}

/** Index of the largest value along `axis` (of the flattened tensor when omitted), as int32. */
export function argmax(x: Tensor, axis?: number | null, keepDims = false): Tensor {
  return argOp('argmax', x, axis, keepDims);
}

/** Index of the smallest value along `axis`, as int32. */
export function argmin(x: Tensor, axis?: number | null, keepDims = false): Tensor {
  return argOp('argmin', x, axis, keepDims);
}

/** The reductions that are also `Tensor` methods (`x.sum(1)`). */
export const reduceMethods = { sum, mean, max, min, prod, argmax, argmin };
