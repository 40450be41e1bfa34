import { ArgumentError } from '../errors.js';
import { normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { abs, add, cast, div, eq, ge, gt, isnan, le, maximum, mul, ne, pow, sqrt, square, sub, where } from './elementwise.js';
import { broadcastTo, narrow, pad, reshape } from './movement.js';
import { argmax, argmin, max, mean, min, reduceAxes, sum } from './reduce.js';
import { checkTensor, composite } from './util.js';

type Axis = number | number[] | null | undefined;

/** Options of {@link variance} and {@link std}. */
export interface VarianceOptions {
  /** Subtracted from the count in the divisor (PyTorch's `correction`): 1 (default, unbiased) or 0 (population). */
  correction?: number;
  /** Keep the reduced axes with size 1. */
  keepDims?: boolean;
}

/**
 * `root(v)` (0 at 0) whose gradient is 0 where `v` is 0 (PyTorch's convention for std and the
 * p-norms with p > 1), not the Infinity * 0 = NaN of a root's derivative there.
 */
function rootZeroSafe(v: Tensor, root: (t: Tensor) => Tensor): Tensor {
  const zero = eq(v, 0);
  return where(zero, 0, root(where(zero, 1, v)));
}

/** `sqrt(v)` with a zero gradient where `v` is 0 ({@link rootZeroSafe}). */
function sqrtZeroSafe(v: Tensor): Tensor {
  return rootZeroSafe(v, sqrt);
}

function toFloat(x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

/**
 * Variance over `axis` (a number or a list; every axis when omitted): `sum((x - mean)^2) / (N - correction)`,
 * PyTorch's `var` (`correction` 1 by default). As PyTorch, `N - correction <= 0` gives NaN or
 * Infinity rather than an error. Also the `x.var()` method (`var` is reserved as a function name).
 */
export function variance(x: Tensor, axis?: Axis, opts: VarianceOptions = {}): Tensor {
  return composite([x], () => {
    return varianceOf('variance', x, axis, opts);
  });
}

function varianceOf(op: string, x: Tensor, axis: Axis, opts: VarianceOptions): Tensor {
  checkTensor(op, x);
  const correction = opts.correction ?? 1;
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new ArgumentError(op, `correction must be a non-negative number, got ${String(correction)}`);
  }
  const axes = reduceAxes(op, axis, x.rank);
  let n = 1;
  for (const a of axes) n *= x.shape[a];
  const xf = toFloat(x);
  const d = sub(xf, mean(xf, axes, true));
  return div(sum(square(d), axes, opts.keepDims ?? false), Math.max(0, n - correction));
}

/**
 * Standard deviation, `sqrt(variance(x, axis, opts))` (PyTorch's `std`, `correction` 1 by
 * default). Where every value is equal the gradient is 0, as PyTorch, not NaN.
 */
export function std(x: Tensor, axis?: Axis, opts: VarianceOptions = {}): Tensor {
  return composite([x], () => {
    return sqrtZeroSafe(varianceOf('std', x, axis, opts));
  });
}

/** The orders {@link norm} accepts: any number (±Infinity included), or `'fro'` (the same as 2). */
export type NormOrder = number | 'fro';

/**
 * Vector norm over `axis` (every axis when omitted), PyTorch's `linalg.vector_norm` / `norm`:
 * `sum(|x|^p)^(1/p)` for any order `p`, with `p = 1` summing `|x|`, `p = 2` (default) and
 * `'fro'` giving `sqrt(sum(x^2))`, `p = Infinity` `max(|x|)`, `p = -Infinity` `min(|x|)` and
 * `p = 0` counting the nonzero values. Gradients as PyTorch: 0 at a zero norm (not NaN) for
 * `p > 1`; `sign(x)` for p = 1; for ±Infinity shared evenly among the tied largest (smallest) `|x|`;
 * 0 for p = 0.
 *
 * @example
 * norm(tensor([3, -4]));           // 5
 * norm(tensor([3, -4]), 1);        // 7
 * norm(tensor([1, 2, 2]), 3);      // (1 + 8 + 8)^(1/3)
 */
export function norm(x: Tensor, p: NormOrder = 2, axis?: Axis, keepDims = false): Tensor {
  return composite([x], () => {
    checkTensor('norm', x);
    if (p !== 'fro' && (typeof p !== 'number' || Number.isNaN(p))) {
      throw new ArgumentError(
        'norm',
        `p must be a number (Infinity and -Infinity included) or 'fro', got ${typeof p === 'number' ? String(p) : (JSON.stringify(p) ?? String(p))}`,
      );
    }
    const axes = reduceAxes('norm', axis, x.rank);
    const xf = toFloat(x);
    if (p === 1) return sum(abs(xf), axes, keepDims);
    if (p === 2 || p === 'fro') return sqrtZeroSafe(sum(square(xf), axes, keepDims));
    if (p === 0) {
      const count = sum(cast(ne(xf, 0), 'float32'), axes, keepDims);
      // A count has no slope; as in PyTorch the result still hangs on x (a where that picks 0
      // everywhere), so backward() through it gives x a zero gradient instead of refusing.
      return x.requiresGrad ? add(count, sum(where(1, 0, xf), axes, keepDims)) : count;
    }
    // Norms of negative order (-Infinity included) and the Infinity norm have no value over nothing (PyTorch refuses them too).
    if ((p < 0 || p === Infinity) && axes.some((a) => x.shape[a] === 0)) {
      throw new ArgumentError('norm', `the ${p} norm of an empty axis of shape [${x.shape.join(',')}] is undefined`);
    }
    if (p === Infinity || p === -Infinity) {
      const a = abs(xf);
      const top = (p === Infinity ? max(a, axes, true) : min(a, axes, true)).detach();
      const hit = eq(a, top);
      // where, not a product with the 0/1 mask: an infinite |x| off the extreme (the -Infinity
      // norm of [Infinity, 1]) would make Infinity * 0 = NaN.
      return sum(div(where(hit, a, 0), sum(cast(hit, 'float32'), axes, true)), axes, keepDims);
    }
    // sum(|x|^p)^(1/p); for p > 0 with a zero gradient where the sum is 0, as PyTorch's.
    const s = sum(absPow(xf, p), axes, keepDims);
    if (p < 0) return pow(s, 1 / p);
    return rootZeroSafe(s, (t) => pow(t, 1 / p));
  });
}

/**
 * `|x|^p` for {@link norm}. For p < 1 its slope at 0 is infinite (and 0 * Infinity is NaN through
 * abs); PyTorch's norm gradient is 0 where x is 0, so there the power is taken of 1 instead and
 * the value (0 for p > 0, Infinity for p < 0) put in by `where`, which sends no gradient back.
 */
function absPow(x: Tensor, p: number): Tensor {
  if (p >= 1) return pow(abs(x), p);
  const zero = eq(x, 0);
  return where(zero, p > 0 ? 0 : Infinity, pow(where(zero, 1, abs(x)), p));
}

/** `y` moved `d` places later along `axis`, the first `d` cells set to `fill`. */
function shiftLater(y: Tensor, axis: number, d: number, fill: number): Tensor {
  const pads = y.shape.map((): [number, number] => [0, 0]);
  pads[axis] = [d, 0];
  return narrow(pad(y, pads, fill), axis, 0, y.shape[axis]);
}

/** An inclusive scan along `axis` by doubling steps: log2(n) elementwise passes, differentiable through them. */
function scan(op: string, x: Tensor, axis: number, combine: (earlier: Tensor, y: Tensor) => Tensor, fill: number): Tensor {
  checkTensor(op, x);
  if (x.rank === 0) {
    normAxis(op, axis, 0);
    return combine(tensorLike(x, fill), x);
  }
  const a = normAxis(op, axis, x.rank);
  const n = x.shape[a];
  let y = x;
  for (let d = 1; d < n; d *= 2) y = combine(shiftLater(y, a, d, fill), y);
  return y;
}

function tensorLike(x: Tensor, v: number): Tensor {
  return reshape(where(eq(x, x), v, v), []);
}

/** Running sum along `axis` (PyTorch's `cumsum`); int32 stays int32. A 0-d tensor scans as one element. */
export function cumsum(x: Tensor, axis: number): Tensor {
  return composite([x], () => {
    return scan('cumsum', x, axis, add, 0);
  });
}

/**
 * Running product along `axis` (PyTorch's `cumprod`). Built from products only, so its gradient
 * is right where factors are 0 (no division by them).
 */
export function cumprod(x: Tensor, axis: number): Tensor {
  return composite([x], () => {
    return scan('cumprod', x, axis, mul, 1);
  });
}

/** Values and int32 indices along the reduced or scanned axis, as PyTorch's `(values, indices)` results. */
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

function cumExtreme(op: 'cummax' | 'cummin', x: Tensor, axis: number): ValuesIndices {
  checkTensor(op, x);
  const a = normAxis(op, axis, x.rank);
  if (x.rank === 0) return { values: x.mul(1), indices: reshape(cast(tensorLike(x, 0), 'int32'), []) };
  const n = x.shape[a];
  let values = x;
  let indices = broadcastTo(
    reshape(
      arange(n, undefined, 1, { dtype: 'int32' }),
      x.shape.map((d, i) => (i === a ? d : 1)),
    ),
    x.shape.slice(),
  );
  // The cells shifted in from before the start lose every comparison: ±Infinity, or the int32 extremes
  // (where a tie with an entry equal to them goes to the entry, the later one).
  const int = x.dtype === 'int32';
  const fill = op === 'cummax' ? (int ? -(2 ** 31) : -Infinity) : int ? 2 ** 31 - 1 : Infinity;
  const better = op === 'cummax' ? ge : le;
  for (let d = 1; d < n; d *= 2) {
    const ev = shiftLater(values, a, d, fill);
    const ei = shiftLater(indices, a, d, -1);
    // The later element wins ties and NaN wins over numbers (the last NaN over earlier ones), as PyTorch.
    const later = maximum(better(values, ev), isnan(values));
    values = where(later, values, ev);
    indices = where(later, indices, ei);
  }
  return { values, indices };
}

/**
 * Running maximum along `axis` and the index it came from (PyTorch's `cummax`): on ties the
 * later index, and a NaN stays until a later NaN. The gradient of `values` goes to the element
 * each came from.
 */
export function cummax(x: Tensor, axis: number): ValuesIndices {
  return cumExtreme('cummax', x, axis);
}

/** Running minimum along `axis` and its index (PyTorch's `cummin`); ties and NaN as {@link cummax}. */
export function cummin(x: Tensor, axis: number): ValuesIndices {
  return cumExtreme('cummin', x, axis);
}

function checkOneAxis(op: string, x: Tensor, axis: number): void {
  if (typeof axis !== 'number') throw new ArgumentError(op, `axis must be a number, got ${typeof axis}`);
  const a = normAxis(op, axis, x.rank);
  if (x.rank > 0 && x.shape[a] === 0) throw new ArgumentError(op, `axis ${axis} of shape [${x.shape.join(',')}] is empty`);
}

/**
 * The largest value along `axis` and its int32 index, PyTorch's `max(x, dim)`: the first index
 * on ties (NaN counts as largest), and the gradient of `values` goes to that index.
 */
export function maxWithIndices(x: Tensor, axis: number, keepDims = false): ValuesIndices {
  checkTensor('maxWithIndices', x);
  checkOneAxis('maxWithIndices', x, axis);
  return { values: max(x, axis, keepDims), indices: argmax(x, axis, keepDims) };
}

/** The smallest value along `axis` and its int32 index, PyTorch's `min(x, dim)`; ties as {@link maxWithIndices}. */
export function minWithIndices(x: Tensor, axis: number, keepDims = false): ValuesIndices {
  checkTensor('minWithIndices', x);
  checkOneAxis('minWithIndices', x, axis);
  return { values: min(x, axis, keepDims), indices: argmin(x, axis, keepDims) };
}

/** 1 where every value over `axis` is non-zero (NaN counts as non-zero), else 0, as int32; 1 over an empty axis. */
export function all(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  checkTensor('all', x);
  const axes = reduceAxes('all', axis, x.rank);
  return eq(sum(eq(x, 0), axes, keepDims), 0);
}

/** 1 where some value over `axis` is non-zero (NaN counts), else 0, as int32; 0 over an empty axis. */
export function any(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  checkTensor('any', x);
  const axes = reduceAxes('any', axis, x.rank);
  return gt(sum(ne(x, 0), axes, keepDims), 0);
}

/** The statistics, norms and scans that are also `Tensor` methods (`x.var(0)`, `x.cumsum(1)`). */
export const statsMethods = {
  var: variance,
  variance,
  std,
  norm,
  cumsum,
  cumprod,
  cummax,
  cummin,
  maxWithIndices,
  minWithIndices,
  all,
  any,
};
