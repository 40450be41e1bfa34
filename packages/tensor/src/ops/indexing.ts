import { getBackend } from '../backend/registry.js';
import { valueChecksOn } from '../debug-checks.js';
import { ArgumentError, AxisError, DTypeError, IndexError, NotAvailableError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes, normAxis, resolveReshape, shapesEqual, sizeOf } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { full, zeros } from './creation.js';
import { add, cast, lt, minimum, mul, where } from './elementwise.js';
import { matmul } from './matmul.js';
import { addAlong, broadcastTo, concat, hostIndices, reshape, slice, takeAlong, transpose } from './movement.js';
import { sum } from './reduce.js';
import { cumsum } from './stats.js';
import { checkInt32Scalar, checkTensor } from './util.js';

// Every op here is composed from recorded ops (gather, reshape, transpose, where, matmul, …),
// so autograd differentiates through them with no rule of their own. Index arrays that depend
// only on shapes are built on the host and uploaded; index tensors are combined on the device
// (no read), and gathered with one backend call per axis.

function intArg(op: string, name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(op, `${name} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${JSON.stringify(v) ?? typeof v}`);
  }
  return v;
}

function axisList(op: string, dims: number | number[], rank: number): number[] {
  if (typeof dims !== 'number' && !Array.isArray(dims)) {
    throw new AxisError(op, `dims must be a number or an array of numbers, got ${JSON.stringify(dims) ?? typeof dims}`);
  }
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((a) => normAxis(op, a, rank));
  if (new Set(out).size !== out.length) throw new AxisError(op, `dims [${list.join(',')}] repeat an axis`);
  return out;
}

/** The number of elements (PyTorch's `numel`; the same as `x.size`). */
export function numel(x: Tensor): number {
  checkTensor('numel', x);
  return x.size;
}

/**
 * `x` with a new shape (PyTorch's `view`): the same as {@link reshape}, storage shared, one
 * `-1` allowed. Sizes may be given as an array or one by one: `x.view(2, -1)`.
 */
export function view(x: Tensor, shape: number[] | number, ...more: number[]): Tensor {
  checkTensor('view', x);
  const s = typeof shape === 'number' ? [shape, ...more] : shape;
  if (!Array.isArray(s))
    throw new ArgumentError('view', `shape must be an array of integers, got ${JSON.stringify(shape) ?? typeof shape}`);
  return reshape(x, resolveReshape('view', x.shape, s));
}

/**
 * Splits axis `dim` into `sizes` (PyTorch's `unflatten`); one entry may be `-1`.
 *
 * @example
 * unflatten(zeros([2, 12]), 1, [3, -1]).shape; // [2, 3, 4]
 */
export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  checkTensor('unflatten', x);
  const a = normAxis('unflatten', dim, x.rank);
  if (!Array.isArray(sizes) || sizes.length === 0)
    throw new ArgumentError('unflatten', `sizes must be a non-empty array of integers, got ${JSON.stringify(sizes)}`);
  const inner = resolveReshape('unflatten', [x.shape[a]], sizes);
  return reshape(x, [...x.shape.slice(0, a), ...inner, ...x.shape.slice(a + 1)]);
}

/** Reverses the order of entries along each of `dims` (PyTorch's `flip`). */
export function flip(x: Tensor, dims: number | number[]): Tensor {
  checkTensor('flip', x);
  let out = x;
  for (const a of axisList('flip', dims, x.rank)) {
    const d = x.shape[a] ?? 1;
    if (d <= 1 || x.rank === 0) continue;
    out = takeAlong(out, hostIndices(Array.from({ length: d }, (_, i) => d - 1 - i)), a);
  }
  return out;
}

/**
 * Rotates entries along `dims` by `shifts` (PyTorch's `roll`): entry `i` moves to `i + shift`,
 * wrapping around. Without `dims`, rolls the flattened tensor and restores the shape.
 */
export function roll(x: Tensor, shifts: number | number[], dims?: number | number[]): Tensor {
  checkTensor('roll', x);
  const sh = typeof shifts === 'number' ? [shifts] : shifts;
  if (!Array.isArray(sh) || sh.length === 0)
    throw new ArgumentError('roll', `shifts must be an integer or a non-empty array of integers, got ${JSON.stringify(shifts)}`);
  sh.forEach((s) => intArg('roll', 'shifts', s));
  if (dims === undefined || dims === null) {
    if (sh.length !== 1) throw new ArgumentError('roll', `without dims, shifts must be one integer, got [${sh.join(',')}]`);
    return reshape(roll(reshape(x, [x.size]), sh[0], 0), x.shape.slice());
  }
  const axes = typeof dims === 'number' ? [normAxis('roll', dims, x.rank)] : dims.map((a) => normAxis('roll', a, x.rank));
  if (axes.length !== sh.length) throw new ArgumentError('roll', `shifts [${sh.join(',')}] and dims [${axes.join(',')}] differ in length`);
  let out = x;
  axes.forEach((a, k) => {
    const d = x.rank === 0 ? 1 : x.shape[a];
    if (d === 0 || x.rank === 0) return;
    const s = ((sh[k] % d) + d) % d;
    if (s === 0) return;
    out = takeAlong(out, hostIndices(Array.from({ length: d }, (_, i) => (i - s + d) % d)), a);
  });
  return out;
}

/**
 * Tiles `x` (PyTorch's `repeat`): `sizes[i]` copies along axis `i`; with more sizes than axes,
 * `x` gains leading axes of size 1 first. Sizes may be given as an array or one by one.
 *
 * @example
 * repeat(tensor([1, 2]), [2, 2]); // [[1, 2, 1, 2], [1, 2, 1, 2]]
 */
export function repeat(x: Tensor, sizes: number[] | number, ...more: number[]): Tensor {
  checkTensor('repeat', x);
  const rs = typeof sizes === 'number' ? [sizes, ...more] : sizes;
  if (!Array.isArray(rs) || rs.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new ArgumentError('repeat', `sizes must be non-negative integers, got ${JSON.stringify(sizes)}`);
  }
  if (rs.length < x.rank) {
    throw new ArgumentError('repeat', `needs at least ${x.rank} sizes for ${fmtShape(x.shape)}, got [${rs.join(',')}]`);
  }
  const shape = [...new Array<number>(rs.length - x.rank).fill(1), ...x.shape];
  const outShape = shape.map((d, i) => d * rs[i]);
  if (sizeOf(outShape) > 2 ** 32) {
    throw new ShapeError(
      'repeat',
      `repeating ${fmtShape(x.shape)} by [${rs.join(',')}] gives ${fmtShape(outShape)}, too large for a tensor`,
    );
  }
  const interleaved = shape.flatMap((d) => [1, d]);
  const target = shape.flatMap((d, i) => [rs[i], d]);
  const out = broadcastTo(reshape(x, interleaved), target);
  return reshape(out, outShape);
}

/** Options of {@link repeatInterleave}. */
export interface RepeatInterleaveOptions {
  /**
   * The length of the result along `dim`: the sum of the counts (PyTorch's `output_size`). With a
   * counts tensor it spares reading the counts back, which a backend that reads only
   * asynchronously (WebGPU) cannot do at all: there it is required.
   */
  outputSize?: number;
}

/**
 * Repeats each entry along `dim` (PyTorch's `repeat_interleave`): `repeats` times, or
 * `repeats[i]` times for entry `i` (an int32 tensor or an array, one count per entry, or one count
 * for all). Without `dim` (`undefined` or `null`), works on the flattened tensor.
 *
 * The length of the result depends on the counts. With counts in a tensor it is read from them
 * unless `outputSize` (PyTorch's `output_size`) gives it; then nothing is read and the source of
 * every output entry is found on the device. On a backend that reads only asynchronously
 * (`syncRead: false`, WebGPU) `outputSize` is required with a counts tensor (a
 * `NotAvailableError` says so). Where value checks are on (the CPU backend, or
 * `setDebugChecks(true)`) the counts are checked against `outputSize`; elsewhere a wrong
 * `outputSize` gives unspecified values, as in PyTorch.
 *
 * @example
 * repeatInterleave(tensor([1, 2]), 2); // [1, 1, 2, 2]
 * repeatInterleave(tensor([[1, 2], [3, 4]]), [1, 2], 0); // [[1, 2], [3, 4], [3, 4]]
 * repeatInterleave(tensor([5, 6]), tensor([2, 1], { dtype: 'int32' }), 0, { outputSize: 3 }); // [5, 5, 6]
 */
export function repeatInterleave(
  x: Tensor,
  repeats: number | number[] | Tensor,
  dim?: number | null,
  options: RepeatInterleaveOptions = {},
): Tensor {
  const op = 'repeatInterleave';
  checkTensor(op, x);
  if (options === null || typeof options !== 'object')
    throw new ArgumentError(op, `options must be an object like { outputSize }, got ${JSON.stringify(options) ?? typeof options}`);
  const outputSize = options.outputSize === undefined ? undefined : intArg(op, 'outputSize', options.outputSize, 0);
  const src0 = dim === undefined || dim === null ? reshape(x, [x.size]) : x;
  const a = dim === undefined || dim === null ? 0 : normAxis(op, dim, x.rank);
  const src = src0.rank === 0 ? reshape(src0, [1]) : src0;
  const d = src.shape[a];
  const sumMismatch = (total: number) =>
    new ArgumentError(op, `outputSize ${outputSize} differs from the sum of the counts, ${total} (dim ${a} of ${fmtShape(src0.shape)})`);
  const checkCounts = (list: ArrayLike<number>) => {
    for (let i = 0; i < list.length; i++) {
      if (!Number.isInteger(list[i]) || list[i] < 0) {
        throw new ArgumentError(op, `repeats must be non-negative integers, got ${JSON.stringify(Array.from(list))}`);
      }
    }
  };
  if (!(repeats instanceof Tensor)) {
    let counts: number[];
    if (typeof repeats === 'number') {
      counts = new Array<number>(d).fill(intArg(op, 'repeats', repeats, 0));
    } else {
      if (!Array.isArray(repeats))
        throw new ArgumentError(op, `repeats must be non-negative integers, got ${JSON.stringify(repeats) ?? typeof repeats}`);
      checkCounts(repeats);
      if (repeats.length === 1) counts = new Array<number>(d).fill(repeats[0]);
      else if (repeats.length === d) counts = repeats;
      else throw new ShapeError(op, `repeats has ${repeats.length} entries but dim ${a} of ${fmtShape(src0.shape)} has ${d}`);
    }
    const idx: number[] = [];
    counts.forEach((c, i) => {
      for (let k = 0; k < c; k++) idx.push(i);
    });
    if (outputSize !== undefined && outputSize !== idx.length) throw sumMismatch(idx.length);
    return takeAlong(src, hostIndices(idx), a);
  }
  if (repeats.dtype !== 'int32') throw new DTypeError(op, `repeats must be int32, got ${repeats.dtype}`);
  if (repeats.rank > 1) throw new ShapeError(op, `repeats must be 0-d or 1-d, got ${fmtShape(repeats.shape)}`);
  if (repeats.size !== 1 && repeats.size !== d)
    throw new ShapeError(op, `repeats has ${repeats.size} entries but dim ${a} of ${fmtShape(src0.shape)} has ${d}`);
  const b = getBackend();
  let total = outputSize;
  if (total === undefined) {
    if (b.syncRead === false) {
      throw new NotAvailableError(
        op,
        `the '${b.name}' backend cannot read the counts tensor synchronously to size the result: ` +
          `pass { outputSize } (the sum of the counts, PyTorch's output_size), or the counts as an array`,
      );
    }
  }
  if (total === undefined || valueChecksOn(b)) {
    const list = repeats.dataSync();
    checkCounts(list);
    let s = 0;
    for (let i = 0; i < list.length; i++) s += list[i];
    if (list.length === 1) s *= d;
    if (total !== undefined && total !== s) throw sumMismatch(s);
    total = s;
  }
  if (total === 0) return takeAlong(src, hostIndices([]), a);
  if (d === 0) throw sumMismatch(0);
  // The source of output entry o is the number of entries whose running count ends at or before o:
  // one mark at each running count, summed up again.
  const counts = repeats.size === 1 ? broadcastTo(reshape(repeats, [1]), [d]) : reshape(repeats, [d]);
  const ends = minimum(cumsum(counts, 0), total);
  const marks = slice(addAlong(full([d], 1), ends, 0, [total + 1]), [0], [total]);
  const idx = minimum(cast(cumsum(marks, 0), 'int32'), d - 1);
  return takeAlong(src, idx, a);
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  checkTensor(op, x);
  if (x.rank < 2) throw new ShapeError(op, `needs a tensor of rank at least 2, got ${fmtShape(x.shape)}`);
  intArg(op, 'diagonal', diagonal);
  const [m, n] = x.shape.slice(-2);
  const mask = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) mask[i * n + j] = (op === 'tril' ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  }
  return where(hostIndices(mask, [m, n]), x, 0);
}

/**
 * The lower triangle of the last two axes (PyTorch's `tril`): entries with `j - i <= diagonal`
 * kept, the rest 0. `diagonal` > 0 keeps diagonals above the main one, < 0 drops more.
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal);
}

/** The upper triangle of the last two axes (PyTorch's `triu`): entries with `j - i >= diagonal` kept, the rest 0. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal);
}

/**
 * The diagonal of the planes spanned by `dim1` and `dim2` (PyTorch's `diagonal`): those axes are
 * removed and the diagonal becomes the last axis. `offset` > 0 takes a diagonal above the main one.
 */
export function diagonal(x: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  checkTensor('diagonal', x);
  if (x.rank < 2) throw new ShapeError('diagonal', `needs a tensor of rank at least 2, got ${fmtShape(x.shape)}`);
  intArg('diagonal', 'offset', offset);
  const a1 = normAxis('diagonal', dim1, x.rank);
  const a2 = normAxis('diagonal', dim2, x.rank);
  if (a1 === a2) throw new AxisError('diagonal', `dim1 and dim2 must differ, both are axis ${a1} of ${fmtShape(x.shape)}`);
  const rest = x.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
  const R = x.shape[a1];
  const C = x.shape[a2];
  const moved = transpose(x, [...rest, a1, a2]);
  const flat = reshape(moved, [...rest.map((i) => x.shape[i]), R * C]);
  const len = Math.max(0, offset >= 0 ? Math.min(R, C - offset) : Math.min(R + offset, C));
  const idx = Array.from({ length: len }, (_, i) => (offset >= 0 ? i * C + i + offset : (i - offset) * C + i));
  return takeAlong(flat, hostIndices(idx), rest.length);
}

/**
 * PyTorch's `diag`: of a 1-D tensor, the square matrix with it on diagonal `diagonal` (zeros
 * elsewhere); of a 2-D tensor, that diagonal as a 1-D tensor.
 */
export function diag(x: Tensor, diagonal_ = 0): Tensor {
  checkTensor('diag', x);
  intArg('diag', 'diagonal', diagonal_);
  if (x.rank === 2) return diagonal(x, diagonal_);
  if (x.rank !== 1) throw new ShapeError('diag', `needs a 1-D or 2-D tensor, got ${fmtShape(x.shape)}`);
  const len = x.shape[0];
  const n = len + Math.abs(diagonal_);
  // Gather every cell from x with one zero appended: off-diagonal cells read that zero.
  const values = concat([x, zeros([1], { dtype: x.dtype })], 0);
  const idx = new Int32Array(n * n).fill(len);
  for (let i = 0; i < len; i++) {
    const r = diagonal_ >= 0 ? i : i - diagonal_;
    const c = diagonal_ >= 0 ? i + diagonal_ : i;
    idx[r * n + c] = i;
  }
  return takeAlong(values, hostIndices(idx, [n, n]), 0);
}

/**
 * Sliding windows along `dim` (PyTorch's `Tensor.unfold`): windows of `size` entries every `step`;
 * axis `dim` becomes the window count `floor((d - size) / step) + 1` and a new last axis of `size`
 * holds each window.
 *
 * @example
 * unfold(arange(5), 0, 2, 2); // [[0, 1], [2, 3]]
 */
export function unfold(x: Tensor, dim: number, size: number, step: number): Tensor {
  checkTensor('unfold', x);
  if (x.rank === 0) throw new ShapeError('unfold', 'needs at least one dimension, got a scalar');
  const a = normAxis('unfold', dim, x.rank);
  intArg('unfold', 'size', size, 0);
  intArg('unfold', 'step', step, 1);
  const d = x.shape[a];
  if (size > d) throw new ShapeError('unfold', `size ${size} is larger than dim ${a} of ${fmtShape(x.shape)} (${d})`);
  const count = Math.floor((d - size) / step) + 1;
  const idx = new Int32Array(count * size);
  for (let i = 0; i < count; i++) for (let j = 0; j < size; j++) idx[i * size + j] = i * step + j;
  const windows = takeAlong(x, hostIndices(idx, [count, size]), a); // [..., count, size, ...]
  const perm = windows.shape.map((_, i) => i).filter((i) => i !== a + 1);
  return transpose(windows, [...perm, a + 1]);
}

/**
 * `value` where `mask` is non-zero, `x` elsewhere (PyTorch's `masked_fill`, out of place).
 * `mask` broadcasts to `x`'s shape; `value` is a number or a 0-d tensor (which then receives the
 * gradient of the filled entries). The result keeps `x`'s dtype.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  checkTensor('maskedFill', x);
  checkTensor('maskedFill', mask, 'mask');
  if (typeof value !== 'number' && !(value instanceof Tensor)) {
    throw new ArgumentError('maskedFill', `value must be a number or a 0-d Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (value instanceof Tensor && value.rank !== 0) {
    throw new ShapeError('maskedFill', `value must be a number or a 0-d Tensor, got a tensor of shape ${fmtShape(value.shape)}`);
  }
  if (x.dtype === 'int32' && typeof value === 'number') checkInt32Scalar('maskedFill', 'value', value);
  const joint = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!shapesEqual(joint, x.shape)) {
    throw new ShapeError('maskedFill', `mask ${fmtShape(mask.shape)} does not broadcast to the input ${fmtShape(x.shape)}`);
  }
  const out = where(mask, value, x);
  return out.dtype === x.dtype ? out : cast(out, x.dtype);
}

/**
 * The entries of `x` where `mask` is non-zero, as a 1-D tensor in row-major order (PyTorch's
 * `masked_select`, and what `x[mask]` gives there): `x` and `mask` broadcast together first. This
 * is how to select by a comparison: `maskedSelect(x, gt(x, 0))` is PyTorch's `x[x > 0]`.
 * {@link index} reads an int32 tensor as indices, never as a mask, since a comparison's 0/1
 * result and indices have the same dtype here. The gradient flows back into the selected entries.
 *
 * The result's length depends on the mask's values, so the mask is read back (as PyTorch reads a
 * CUDA mask); a backend that cannot read synchronously (WebGPU) throws a `NotAvailableError`.
 *
 * @example
 * const x = tensor([[5, -1], [7, -3]]);
 * maskedSelect(x, gt(x, 0));                                // [5, 7]
 * maskedSelect(x, tensor([0, 1], { dtype: 'int32' }));      // column 1 of every row: [-1, -3]
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  const op = 'maskedSelect';
  checkTensor(op, x);
  checkTensor(op, mask, 'mask');
  const shape = broadcastShapes(op, x.shape, mask.shape);
  const b = getBackend();
  if (b.syncRead === false) {
    throw new NotAvailableError(
      op,
      `the '${b.name}' backend cannot read the mask synchronously to size the result: read it with ` +
        '`await mask.data()` and pick the positions with index() or gather()',
    );
  }
  const m = broadcastTo(mask, shape).dataSync();
  const picked: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) picked.push(i);
  return takeAlong(reshape(broadcastTo(x, shape), [sizeOf(shape)]), hostIndices(picked), 0);
}

// ---------------------------------------------------------------------------------------------
// Indexing with slices, integers, new axes and index tensors.

/**
 * One entry of {@link index}, for one axis (PyTorch's `x[...]` syntax):
 * - a number: picks that entry and drops the axis (negative counts from the end);
 * - `[start?, stop?, step?]` or a string `'start:stop:step'` (`':'`, `'1:'`, `'::2'`, `'-3:'`):
 *   a slice, as Python's (bounds clamp, negative bounds count from the end; the step is positive,
 *   as in PyTorch: use {@link flip} to reverse);
 * - `'...'`: as many whole axes as needed;
 * - `null`: a new axis of size 1 (PyTorch's `None`);
 * - an int32 tensor: advanced indexing (see {@link index}).
 */
export type IndexSpec = number | string | null | Tensor | [(number | null)?, (number | null)?, (number | null)?];

type Resolved =
  | { kind: 'int'; i: number }
  | { kind: 'slice'; start: number; count: number; step: number }
  | { kind: 'new' }
  | { kind: 'tensor'; t: Tensor };

function parseSliceString(s: string): [number | null, number | null, number | null] | null {
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3) return null;
  const out: (number | null)[] = [];
  for (const p of parts) {
    const q = p.trim();
    if (q === '') out.push(null);
    else if (/^[+-]?\d+$/.test(q)) out.push(Number(q));
    else return null;
  }
  while (out.length < 3) out.push(null);
  return [out[0], out[1], out[2]];
}

function describeSpec(s: unknown): string {
  if (s instanceof Tensor) return `a ${s.dtype} tensor ${fmtShape(s.shape)}`;
  return JSON.stringify(s) ?? typeof s;
}

/**
 * PyTorch's `x[...]`: `index(x, a, b, …)` applies one {@link IndexSpec} per axis, in order; axes
 * not named stay whole. Slices with a step copy (no view); the gradient flows back into the
 * picked entries.
 *
 * An int32 tensor is always read as indices, never as a mask: for PyTorch's `x[x > 0]` use
 * {@link maskedSelect} (`maskedSelect(x, gt(x, 0))`).
 *
 * Several int32 index tensors (advanced indexing, `x[i, j]`) broadcast together to one shape B and
 * pick `x[i[b], j[b], …]`; as in PyTorch, B replaces the indexed axes where they stand when they are
 * adjacent (after integers are applied) and goes first otherwise. Index entries may be negative
 * (counted from the end). The positions are computed on the device (no read); index values out of
 * range throw an `IndexError` where value checks are on (the CPU backend, or
 * `setDebugChecks(true)`) and are not checked elsewhere (they give unspecified values), as PyTorch
 * on CUDA reports them only asynchronously.
 *
 * @example
 * const x = arange(12).reshape([3, 4]);
 * index(x, 1);                  // row 1: [4, 5, 6, 7]
 * index(x, ':', [0, null, 2]);  // columns 0 and 2: x[:, ::2]
 * index(x, '1:', -1);           // x[1:, -1]: [7, 11]
 * index(x, null, '...');        // x[None, ...]: [1, 3, 4]
 * index(x, tensor([0, 2], { dtype: 'int32' }), tensor([1, 3], { dtype: 'int32' })); // x[[0,2],[1,3]]: [1, 11]
 */
export function index(x: Tensor, ...specs: IndexSpec[]): Tensor {
  checkTensor('index', x);
  // Expand the ellipsis (at most one) and resolve strings.
  const items: (IndexSpec | '...')[] = specs.map((s) => {
    if (typeof s === 'string') {
      const t = s.trim();
      if (t === '...') return '...';
      const parsed = parseSliceString(t);
      if (!parsed) throw new ArgumentError('index', `cannot read the slice ${JSON.stringify(s)}; use 'start:stop:step', ':' or '...'`);
      return parsed;
    }
    return s;
  });
  const ellipses = items.filter((s) => s === '...').length;
  if (ellipses > 1) throw new IndexError('index', `at most one '...' is allowed, got ${ellipses}`);
  const consuming = items.filter((s) => s !== null && s !== '...').length;
  if (consuming > x.rank) {
    throw new IndexError('index', `${consuming} indices for a tensor ${fmtShape(x.shape)} of rank ${x.rank}`);
  }
  const fill = Array.from({ length: x.rank - consuming }, () => [null, null, null] as IndexSpec);
  const at = items.indexOf('...');
  const full: IndexSpec[] =
    at >= 0
      ? [...(items.slice(0, at) as IndexSpec[]), ...fill, ...(items.slice(at + 1) as IndexSpec[])]
      : [...(items as IndexSpec[]), ...fill];

  // Resolve every spec against its axis.
  const res: Resolved[] = [];
  let d = 0;
  for (const s of full) {
    if (s === null) {
      res.push({ kind: 'new' });
      continue;
    }
    const size = x.shape[d];
    if (typeof s === 'number') {
      if (!Number.isInteger(s) || s < -size || s >= size) {
        throw new IndexError('index', `index ${s} is out of range for axis ${d} of ${fmtShape(x.shape)}`);
      }
      res.push({ kind: 'int', i: s < 0 ? s + size : s });
    } else if (s instanceof Tensor) {
      if (s.dtype !== 'int32')
        throw new DTypeError('index', `index tensors must be int32, got ${s.dtype} ${fmtShape(s.shape)} for axis ${d}`);
      res.push({ kind: 'tensor', t: s });
    } else if (Array.isArray(s) && s.length <= 3 && s.every((v) => v === null || v === undefined || Number.isInteger(v))) {
      const step = s[2] ?? 1;
      if (step <= 0) throw new ArgumentError('index', `slice step must be positive (use flip to reverse), got ${step} for axis ${d}`);
      const norm = (v: number | null | undefined, dflt: number) => {
        if (v === null || v === undefined) return dflt;
        const w = v < 0 ? v + size : v;
        return Math.min(Math.max(w, 0), size);
      };
      const start = norm(s[0], 0);
      const stop = norm(s[1], size);
      const count = stop > start ? Math.ceil((stop - start) / step) : 0;
      res.push({ kind: 'slice', start, count, step });
    } else {
      throw new ArgumentError('index', `cannot index axis ${d} with ${describeSpec(s)}`);
    }
    d++;
  }

  // Basic indexing: one box slice, one gather per stepped axis, one reshape for integers and new axes.
  let out = x;
  const begin: number[] = [];
  const ext: number[] = [];
  let ax = 0;
  for (const r of res) {
    if (r.kind === 'new') continue;
    if (r.kind === 'int') {
      begin.push(r.i);
      ext.push(1);
    } else if (r.kind === 'slice') {
      begin.push(r.start);
      ext.push(r.count === 0 ? 0 : (r.count - 1) * r.step + 1);
    } else {
      begin.push(0);
      ext.push(x.shape[ax]);
    }
    ax++;
  }
  if (x.rank > 0) out = slice(out, begin, ext);
  ax = 0;
  for (const r of res) {
    if (r.kind === 'new') continue;
    if (r.kind === 'slice' && r.step > 1 && r.count > 0) {
      out = takeAlong(out, hostIndices(Array.from({ length: r.count }, (_, i) => i * r.step)), ax);
    }
    ax++;
  }
  const shape: number[] = [];
  const tensorAxes: number[] = [];
  const tensors: Tensor[] = [];
  ax = 0;
  for (const r of res) {
    if (r.kind === 'new') {
      shape.push(1);
      continue;
    }
    if (r.kind === 'tensor') {
      tensorAxes.push(shape.length);
      tensors.push(r.t);
    }
    if (r.kind !== 'int') shape.push(out.shape[ax]);
    ax++;
  }
  out = reshape(out, shape);
  if (tensors.length === 0) return out;

  // Advanced indexing: broadcast the index tensors, move their axes first, gather flat positions.
  let bshape: number[] = [];
  for (const t of tensors) bshape = broadcastShapes('index', bshape, t.shape);
  // Flat positions into the index axes, on the device: sum of (i < 0 ? i + size : i) * stride.
  const n = sizeOf(bshape);
  const checks = n > 0 && valueChecksOn(getBackend());
  let flat: Tensor | null = null;
  let stride = 1;
  for (let k = tensors.length - 1; k >= 0; k--) {
    const t = tensors[k];
    const a = tensorAxes[k];
    const size = shape[a];
    if (checks) {
      const v = t.dataSync();
      for (let p = 0; p < v.length; p++) {
        const j = v[p];
        if (j < -size || j >= size)
          throw new IndexError('index', `index ${j} is out of range for axis ${a} of size ${size} (input ${fmtShape(x.shape)})`);
      }
    }
    const j = where(lt(t, 0), add(t, size), t);
    const term = stride === 1 ? j : mul(j, stride);
    flat = flat ? add(flat, term) : term;
    stride *= size;
  }
  const positions = broadcastTo(flat!, bshape);
  const others = shape.map((_, i) => i).filter((i) => !tensorAxes.includes(i));
  const moved = transpose(out, [...tensorAxes, ...others]);
  const picked = takeAlong(reshape(moved, [stride, ...others.map((i) => shape[i])]), positions, 0);
  const adjacent = tensorAxes.every((a, i) => i === 0 || a === tensorAxes[i - 1] + 1);
  if (!adjacent || tensorAxes[0] === 0) return picked;
  // Adjacent index axes: put B where they stood.
  const first = tensorAxes[0];
  const B = bshape.length;
  const perm = [
    ...Array.from({ length: first }, (_, i) => B + i),
    ...Array.from({ length: B }, (_, i) => i),
    ...Array.from({ length: others.length - first }, (_, i) => B + first + i),
  ];
  return transpose(picked, perm);
}

// ---------------------------------------------------------------------------------------------
// einsum

function parseOperand(op: string, term: string, t: Tensor, k: number): string[] {
  const ell = term.indexOf('...');
  if (ell >= 0) {
    if (term.indexOf('...', ell + 1) >= 0) throw new ArgumentError(op, `operand ${k} term '${term}' has more than one '...'`);
    const before = term.slice(0, ell).split('');
    const after = term.slice(ell + 3).split('');
    const n = t.rank - before.length - after.length;
    if (n < 0)
      throw new ShapeError(op, `operand ${k} term '${term}' needs at least ${before.length + after.length} axes, got ${fmtShape(t.shape)}`);
    // Ellipsis axes get private labels, right-aligned so they broadcast as in PyTorch.
    return [...before, ...Array.from({ length: n }, (_, i) => `.${n - i}`), ...after];
  }
  const labels = term.split('');
  if (labels.length !== t.rank) {
    throw new ShapeError(op, `operand ${k} term '${term}' names ${labels.length} axes but the tensor ${fmtShape(t.shape)} has ${t.rank}`);
  }
  return labels;
}

/** Takes the diagonal over repeated labels of one operand, then sums labels no one else needs. */
function reduceOperand(t: Tensor, labels: string[], keep: Set<string>): [Tensor, string[]] {
  let cur = t;
  let ls = labels.slice();
  for (;;) {
    const dup = ls.findIndex((l, i) => ls.indexOf(l) !== i);
    if (dup < 0) break;
    const first = ls.indexOf(ls[dup]);
    cur = diagonal(cur, 0, first, dup);
    const l = ls[dup];
    ls = ls.filter((_, i) => i !== first && i !== dup);
    ls.push(l);
  }
  const drop = ls.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (drop.length > 0) {
    cur = sum(cur, drop);
    ls = ls.filter((_, i) => !drop.includes(i));
  }
  return [cur, ls];
}

/**
 * Einstein summation (PyTorch's `einsum`): `equation` names each operand's axes by letters, with
 * `->` and the output's letters (without it, the letters used once, alphabetically). Letters
 * repeated within one operand take a diagonal (`'ii->i'`, `'ii'` for the trace); letters absent
 * from the output are summed; `'...'` stands for leading axes that broadcast (summed too when the
 * output term leaves it out, as in PyTorch: `'b...,b...->b'`). Pairs of operands
 * contract with one batched matrix product, left to right.
 *
 * @example
 * einsum('ij,jk->ik', a, b);            // matmul
 * einsum('bhqd,bhkd->bhqk', q, k);      // attention scores
 * einsum('i,j->ij', u, v);              // outer product
 * einsum('ii', m);                      // trace
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const op = 'einsum';
  if (typeof equation !== 'string') throw new ArgumentError(op, `equation must be a string, got ${typeof equation}`);
  operands.forEach((t, k) => checkTensor(op, t, `operand ${k}`));
  const eq = equation.replace(/\s+/g, '');
  if (!/^[A-Za-z.,]*(->[A-Za-z.]*)?$/.test(eq))
    throw new ArgumentError(op, `cannot read the equation '${equation}': use letters, ',', '...' and '->'`);
  const [lhs, rhs] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.length !== operands.length) {
    throw new ArgumentError(op, `equation '${equation}' has ${terms.length} operand terms but ${operands.length} tensors were given`);
  }
  if (operands.length === 0) throw new ArgumentError(op, 'needs at least one operand');
  const labels = terms.map((term, k) => parseOperand(op, term, operands[k], k));
  // The size of every label. As in PyTorch, axes that share a label broadcast: a size-1 axis
  // takes the others' size (within one operand, a repeated label's axes must match exactly).
  const sizes = new Map<string, number>();
  labels.forEach((ls, k) => {
    const own = new Map<string, number>();
    ls.forEach((l, i) => {
      const d = operands[k].shape[i];
      const name = l.startsWith('.') ? '...' : l;
      const mine = own.get(l);
      if (mine !== undefined && mine !== d) {
        throw new ShapeError(op, `label '${name}' is repeated in operand ${k} ${fmtShape(operands[k].shape)} with sizes ${mine} and ${d}`);
      }
      own.set(l, d);
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, d);
      else if (prev !== d && d !== 1) {
        throw new ShapeError(op, `label '${name}' has size ${prev} and ${d} (operand ${k} ${fmtShape(operands[k].shape)})`);
      }
    });
  });
  const ellN = Math.max(0, ...labels.map((ls) => ls.filter((l) => l.startsWith('.')).length));
  const ellLabels = Array.from({ length: ellN }, (_, i) => `.${ellN - i}`);
  let outLabels: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    labels
      .flat()
      .filter((l) => !l.startsWith('.'))
      .forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1));
    outLabels = [...ellLabels, ...[...counts.keys()].filter((l) => counts.get(l) === 1).sort()];
  } else {
    const ell = rhs.indexOf('...');
    const chars = (s: string) => s.split('');
    outLabels = ell >= 0 ? [...chars(rhs.slice(0, ell)), ...ellLabels, ...chars(rhs.slice(ell + 3))] : chars(rhs);
    if (rhs.replace('...', '').includes('.')) throw new ArgumentError(op, `cannot read the output term '${rhs}'`);
    for (const l of outLabels) {
      if (!sizes.has(l)) throw new ArgumentError(op, `output label '${l}' does not appear in any operand of '${equation}'`);
    }
    if (new Set(outLabels).size !== outLabels.length) throw new ArgumentError(op, `output term '${rhs}' repeats a label`);
  }

  // Pad every operand's ellipsis axes to the full count (size-1 on the left) and broadcast later.
  const ts: Tensor[] = [];
  const ls: string[][] = [];
  operands.forEach((t, k) => {
    const own = labels[k].filter((l) => l.startsWith('.')).length;
    if (own < ellN) {
      const at = labels[k].findIndex((l) => l.startsWith('.'));
      const pos = at < 0 ? 0 : at;
      const add = ellLabels.slice(0, ellN - own);
      const shape = [...t.shape.slice(0, pos), ...add.map(() => 1), ...t.shape.slice(pos)];
      ts.push(reshape(t, shape));
      ls.push([...labels[k].slice(0, pos), ...add, ...labels[k].slice(pos)]);
    } else {
      ts.push(t);
      ls.push(labels[k]);
    }
  });

  // Size-1 axes of a label that is larger elsewhere broadcast to its size before any product.
  for (let k = 0; k < ts.length; k++) {
    const full = ls[k].map((l) => sizes.get(l)!);
    if (!shapesEqual(ts[k].shape, full)) ts[k] = broadcastTo(ts[k], full);
  }
  const needed = (from: number): Set<string> => new Set([...outLabels, ...ls.slice(from).flat()]);
  let [acc, accL] = reduceOperand(ts[0], ls[0], needed(1));
  for (let k = 1; k < ts.length; k++) {
    const keep = needed(k + 1);
    const [b, bL] = reduceOperand(ts[k], ls[k], new Set([...keep, ...accL]));
    // Labels of acc that b does not have and no one needs are summed now.
    [acc, accL] = reduceOperand(acc, accL, new Set([...keep, ...bL]));
    const batch = accL.filter((l) => bL.includes(l) && keep.has(l));
    const contract = accL.filter((l) => bL.includes(l) && !keep.has(l));
    const aFree = accL.filter((l) => !bL.includes(l));
    const bFree = bL.filter((l) => !accL.includes(l));
    const size = (l: string) => sizes.get(l)!;
    const batchShape = batch.map(size);
    // Size-1 ellipsis axes broadcast: bring both sides to the full size.
    const A0 = transpose(
      acc,
      [...batch, ...aFree, ...contract].map((l) => accL.indexOf(l)),
    );
    const B0 = transpose(
      b,
      [...batch, ...contract, ...bFree].map((l) => bL.indexOf(l)),
    );
    const A1 = broadcastTo(
      A0,
      [...batchShape, ...A0.shape.slice(batch.length)].map((d, i) => (i < batch.length ? batchShape[i] : d)),
    );
    const B1 = broadcastTo(
      B0,
      [...batchShape, ...B0.shape.slice(batch.length)].map((d, i) => (i < batch.length ? batchShape[i] : d)),
    );
    const M = sizeOf(aFree.map(size));
    const K = sizeOf(contract.map(size));
    const N = sizeOf(bFree.map(size));
    const prod = matmul(reshape(A1, [...batchShape, M, K]), reshape(B1, [...batchShape, K, N]));
    acc = reshape(prod, [...batchShape, ...aFree.map(size), ...bFree.map(size)]);
    accL = [...batch, ...aFree, ...bFree];
  }
  [acc, accL] = reduceOperand(acc, accL, new Set(outLabels));
  const perm = outLabels.map((l) => accL.indexOf(l));
  let out = transpose(acc, perm);
  const want = outLabels.map((l) => sizes.get(l)!);
  if (!shapesEqual(out.shape, want)) out = broadcastTo(out, want);
  return out;
}

/** The indexing ops that are also `Tensor` methods (`x.flip(0)`, `x.index(':', 0)`). */
export const indexingMethods = {
  numel,
  view,
  unflatten,
  flip,
  roll,
  repeat,
  repeatInterleave,
  tril,
  triu,
  diagonal,
  diag,
  unfold,
  maskedFill,
  maskedSelect,
  index,
};
