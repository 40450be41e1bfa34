import { getBackend } from '../backend/registry.js';
import { valueChecksOn } from '../debug-checks.js';
import { promote } from '../dtype.js';
import { record } from '../engine.js';
import { ArgumentError, AxisError, DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes, normAxis, resolveReshape, shapesEqual, sizeOf } from '../shape.js';
import { Tensor, markShared, view } from '../tensor.js';
import { add, cast, gt, mul, where } from './elementwise.js';
import { full } from './creation.js';
import { checkInt32Scalar, make } from './util.js';

/** The recorded movement ops and what their gradient rules need. */
export interface MovementAttrs {
  reshape: { inShape: number[] };
  transpose: { perm: number[] };
  broadcastTo: { inShape: number[] };
  slice: { begin: number[]; inShape: number[] };
  pad: { pads: [number, number][] };
  concat: { axis: number; sizes: number[] };
  gather: { axis: number; inShape: number[] };
  scatterAdd: { axis: number };
}

function check(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  x._live(op);
}

/** Same values, new shape (one `-1` allowed). Shares storage: no copy. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  check('reshape', x);
  if (!Array.isArray(shape)) throw new ArgumentError('reshape', `shape must be an array of integers, got ${String(shape)}`);
  const to = resolveReshape('reshape', x.shape, shape);
  if (shapesEqual(to, x.shape)) return x;
  x._on(getBackend());
  const out = view(x, to);
  return record('reshape', [x], out, { inShape: x.shape.slice() });
}

/** Permutes axes by `perm`; with no `perm`, reverses them (a matrix transpose for 2-D). */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  check('transpose', x);
  const rank = x.rank;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (!Array.isArray(p)) throw new ArgumentError('transpose', `perm must be an array of axes, got ${JSON.stringify(p) ?? typeof p}`);
  if (p.length !== rank) {
    throw new ShapeError('transpose', `permutation [${p.join(',')}] has ${p.length} axes but the tensor ${fmtShape(x.shape)} has ${rank}`);
  }
  const norm = p.map((a) => normAxis('transpose', a, rank));
  if (new Set(norm).size !== rank) throw new ShapeError('transpose', `[${p.join(',')}] is not a permutation of ${rank} axes`);
  if (norm.every((a, i) => a === i)) return x;
  const outShape = norm.map((a) => x.shape[a]);
  const b = getBackend();
  // Moving only size-1 axes is a reshape.
  const moved = norm.filter((a) => x.shape[a] !== 1);
  if (moved.every((a, i) => i === 0 || a > moved[i - 1])) return reshape(x, outShape);
  const out = make(b.transpose(x._on(b), x.shape, norm, x.dtype), outShape, x.dtype);
  return record('transpose', [x], out, { perm: norm });
}

/** Collapses axes `startAxis..endAxis` (inclusive) into one. */
export function flatten(x: Tensor, startAxis = 1, endAxis = -1): Tensor {
  check('flatten', x);
  if (x.rank === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startAxis, x.rank);
  const e = normAxis('flatten', endAxis, x.rank);
  if (s > e) throw new ArgumentError('flatten', `startAxis ${startAxis} comes after endAxis ${endAxis} for ${fmtShape(x.shape)}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  check('unsqueeze', x);
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/**
 * Removes size-1 axes: all of them, or those of the listed axes that have size 1 (a listed axis of
 * another size stays, as in PyTorch: `squeeze(x, 0)` of a `[2, 3]` tensor is that tensor). A 0-d
 * tensor is returned as it is (axis 0 or -1 allowed), as PyTorch.
 */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  check('squeeze', x);
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new AxisError('squeeze', `axis must be a number or an array of numbers, got ${JSON.stringify(axis) ?? typeof axis}`);
  }
  const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => normAxis('squeeze', a, x.rank));
  // A 0-d tensor accepts axis 0 or -1 and stays as it is, as in PyTorch.
  if (x.rank === 0) return reshape(x, []);
  return reshape(
    x,
    x.shape.filter((d, i) => d !== 1 || !axes.includes(i)),
  );
}

/**
 * Repeats `x` along size-1 (or missing leading) axes to reach `shape`. As PyTorch's `expand`, a
 * `-1` keeps the size of an axis `x` has (`broadcastTo(x, [-1, 4])` for `x` of shape `[3, 1]` is
 * `[3, 4]`); a new leading axis needs its size.
 */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  check('broadcastTo', x);
  if (!Array.isArray(shape)) throw new ArgumentError('broadcastTo', `shape must be an array of integers, got ${String(shape)}`);
  const lead = shape.length - x.rank;
  shape = shape.map((d, i) => {
    if (d === -1 && i >= lead) return x.shape[i - lead];
    if (d === -1) {
      throw new ShapeError(
        'broadcastTo',
        `-1 at axis ${i} of ${fmtShape(shape)} is a new leading axis of ${fmtShape(x.shape)}: give its size`,
      );
    }
    if (!Number.isInteger(d) || d < 0) throw new ArgumentError('broadcastTo', `sizes must be integers >= 0 or -1, got ${fmtShape(shape)}`);
    return d;
  });
  const out = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(out, shape)) {
    throw new ShapeError('broadcastTo', `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (shapesEqual(x.shape, shape)) return x;
  const b = getBackend();
  const zeros = b.fill(sizeOf(shape), 0, x.dtype);
  const s = b.binary('add', x._on(b), x.shape, x.dtype, zeros, shape, x.dtype, shape, x.dtype);
  b.dispose?.(zeros);
  return record('broadcastTo', [x], make(s, shape.slice(), x.dtype), { inShape: x.shape.slice() });
}

/**
 * The box of `x` starting at `begin` with extent `size` (tfjs' `slice`).
 * A `-1` in `size` means "to the end"; shorter lists leave later axes whole.
 */
export function slice(x: Tensor, begin: number[] | number, size?: number[] | number): Tensor {
  check('slice', x);
  const bArr = typeof begin === 'number' ? [begin] : begin;
  const sArr = size === undefined ? [] : typeof size === 'number' ? [size] : size;
  if (!Array.isArray(bArr) || !Array.isArray(sArr)) {
    throw new ArgumentError(
      'slice',
      `begin and size must be numbers or arrays of numbers, got ${JSON.stringify(begin) ?? typeof begin} and ${JSON.stringify(size) ?? typeof size}`,
    );
  }
  if (bArr.length > x.rank || sArr.length > x.rank) {
    throw new ShapeError('slice', `begin [${bArr.join(',')}] / size [${sArr.join(',')}] have more axes than ${fmtShape(x.shape)}`);
  }
  const start: number[] = [];
  const ext: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    let s0 = bArr[i] ?? 0;
    if (s0 < 0) s0 += x.shape[i];
    let len = sArr[i] ?? -1;
    if (len === -1) len = x.shape[i] - s0;
    if (!Number.isInteger(s0) || !Number.isInteger(len) || s0 < 0 || len < 0 || s0 + len > x.shape[i]) {
      throw new IndexError(
        'slice',
        `begin [${bArr.join(',')}] size [${sArr.join(',')}] is out of bounds for ${fmtShape(x.shape)} (axis ${i})`,
      );
    }
    start.push(s0);
    ext.push(len);
  }
  if (shapesEqual(ext, x.shape)) return x;
  const b = getBackend();
  // A backend may return a view into x's memory (the CPU backend does for row ranges).
  const out = markShared(make(b.slice(x._on(b), x.shape, start, ext, x.dtype), ext, x.dtype));
  return record('slice', [x], out, { begin: start, inShape: x.shape.slice() });
}

/** `length` entries from `start` along `axis` (PyTorch's `narrow`). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  check('narrow', x);
  const a = normAxis('narrow', axis, x.rank);
  // Checked here (not left to slice) so the error names the op the user called; a negative start counts from the end.
  const s0 = start < 0 ? start + x.shape[a] : start;
  if (!Number.isInteger(s0) || !Number.isInteger(length) || s0 < 0 || length < 0 || s0 + length > x.shape[a]) {
    throw new IndexError('narrow', `start ${start} length ${length} is out of bounds for axis ${a} of ${fmtShape(x.shape)}`);
  }
  const begin = x.shape.map(() => 0);
  const size = x.shape.slice();
  begin[a] = s0;
  size[a] = length;
  return slice(x, begin, size);
}

/** How {@link pad} fills the border (PyTorch's `F.pad` modes). */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Options of {@link pad}. */
export interface PadOptions {
  /**
   * `'constant'` (default): copies of `value`. `'reflect'`: the mirror image without repeating the
   * edge (`[1,2,3]` padded by 2 → `[3,2,1,2,3,2,1]`; each pad must be below the axis size).
   * `'replicate'`: copies of the edge value. `'circular'`: wraps around (each pad at most the axis size).
   */
  mode?: PadMode;
  /** The fill value of `'constant'` mode (default 0). */
  value?: number;
}

const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/** The source position of output cell `i` (counted from `-before`) of an axis of size `d`. */
function padSource(mode: PadMode, i: number, d: number): number {
  if (mode === 'reflect') return i < 0 ? -i : i >= d ? 2 * (d - 1) - i : i;
  if (mode === 'replicate') return Math.min(Math.max(i, 0), d - 1);
  return ((i % d) + d) % d;
}

/**
 * Pads `x`. `pads` is either one `[before, after]` pair for every axis, outermost first, or
 * PyTorch's flat list `[lastBefore, lastAfter, secondLastBefore, …]` (`F.pad` order, covering the
 * last `pads.length / 2` axes). The third argument is the fill value, or {@link PadOptions} with a
 * `mode` (`'constant'`, `'reflect'`, `'replicate'`, `'circular'`, as PyTorch; the non-constant
 * modes pad any axis, where PyTorch limits them to the last three). A negative pad crops that side
 * instead, as in PyTorch (`pad(x, [-1, 0])` drops the first column), before the other sides are
 * padded.
 *
 * @example
 * pad(tensor([[1, 2, 3]]), [[0, 0], [2, 1]], { mode: 'reflect' }); // [[3, 2, 1, 2, 3, 2]]
 * pad(images, [1, 1, 1, 1]); // zero border of 1 around H and W of [n, c, h, w]
 */
export function pad(x: Tensor, pads: [number, number][] | number[], value: number | PadOptions = 0): Tensor {
  check('pad', x);
  let pairs: [number, number][];
  if (Array.isArray(pads) && pads.length > 0 && pads.every((p) => typeof p === 'number')) {
    const flat = pads as number[];
    if (flat.length % 2 !== 0 || flat.length / 2 > x.rank) {
      throw new ArgumentError(
        'pad',
        `a flat pad list needs an even length of at most ${2 * x.rank} for ${fmtShape(x.shape)}, got ${JSON.stringify(pads)}`,
      );
    }
    pairs = x.shape.map(() => [0, 0] as [number, number]);
    for (let k = 0; k < flat.length / 2; k++) pairs[x.rank - 1 - k] = [flat[2 * k], flat[2 * k + 1]];
  } else {
    pairs = pads as [number, number][];
  }
  if (
    !Array.isArray(pairs) ||
    pairs.length !== x.rank ||
    pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v)))
  ) {
    throw new ArgumentError('pad', `expected ${x.rank} pairs of integers for ${fmtShape(x.shape)}, got ${JSON.stringify(pads)}`);
  }
  const opts: PadOptions = typeof value === 'number' ? { value } : value;
  if (opts === null || typeof opts !== 'object')
    throw new ArgumentError('pad', `expected a fill value or options { mode, value }, got ${JSON.stringify(value)}`);
  const mode = opts.mode ?? 'constant';
  if (pairs.some((p) => p[0] < 0 || p[1] < 0)) {
    // Negative pads crop: take the kept part, then pad it with the non-negative ones.
    const kept = x.shape.map((d, i) => d + Math.min(pairs[i][0], 0) + Math.min(pairs[i][1], 0));
    if (kept.some((d) => d < 0))
      throw new ShapeError('pad', `pads ${JSON.stringify(pads)} crop more than ${fmtShape(x.shape)} holds (${fmtShape(kept)} left)`);
    const cropped = slice(
      x,
      pairs.map((p) => Math.max(-p[0], 0)),
      kept,
    );
    return pad(
      cropped,
      pairs.map((p) => [Math.max(p[0], 0), Math.max(p[1], 0)] as [number, number]),
      opts,
    );
  }
  if (!PAD_MODES.includes(mode)) throw new ArgumentError('pad', `mode must be one of ${PAD_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const fill = opts.value ?? 0;
  if (typeof fill !== 'number') throw new ArgumentError('pad', `value must be a number, got ${JSON.stringify(fill)}`);
  if (x.dtype === 'int32' && !(Number.isInteger(fill) && fill >= -(2 ** 31) && fill < 2 ** 31))
    throw new ArgumentError('pad', `value ${fill} cannot fill an int32 tensor (an integer in the int32 range can)`);
  if (mode !== 'constant' && fill !== 0)
    throw new ArgumentError('pad', `a fill value applies to mode 'constant' only, got value ${fill} with mode '${mode}'`);
  const outShape = x.shape.map((d, i) => d + pairs[i][0] + pairs[i][1]);
  if (sizeOf(outShape) > 2 ** 32)
    throw new ShapeError(
      'pad',
      `padding ${fmtShape(x.shape)} by ${JSON.stringify(pads)} gives ${fmtShape(outShape)}, too large for a tensor`,
    );
  if (mode === 'constant') {
    const b = getBackend();
    const out = make(b.pad(x._on(b), x.shape, pairs, fill, x.dtype), outShape, x.dtype);
    return record('pad', [x], out, { pads: pairs.map((p) => [p[0], p[1]]) });
  }
  // Other modes: one gather of source positions along every padded axis.
  let out = x;
  pairs.forEach(([before, after], a) => {
    if (before === 0 && after === 0) return;
    const d = x.shape[a];
    const limit = mode === 'reflect' ? d - 1 : mode === 'circular' ? d : Infinity;
    if (d === 0 || before > limit || after > limit) {
      throw new ArgumentError(
        'pad',
        `${mode} padding [${before}, ${after}] of axis ${a} of ${fmtShape(x.shape)} needs ${mode === 'replicate' ? 'a non-empty axis' : `pads of at most ${limit}`}`,
      );
    }
    const src = Array.from({ length: before + d + after }, (_, i) => padSource(mode, i - before, d));
    out = takeAlong(out, hostIndices(src), a);
  });
  return out;
}

/** Joins tensors along an existing `axis`; every other dimension must match. */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ArgumentError('concat', 'expected a non-empty array of tensors');
  tensors.forEach((t) => check('concat', t));
  const scalar = tensors.findIndex((t) => t.rank === 0);
  if (scalar >= 0) {
    throw new ShapeError('concat', `the zero-dimensional tensor at position ${scalar} has no axis to join along (stack joins scalars)`);
  }
  const first = tensors[0];
  const a = normAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError('concat', `shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  if (tensors.length === 1) return first;
  const dtype = tensors.reduce((d, t) => promote(d, t.dtype), first.dtype);
  const cs = tensors.map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
  const b = getBackend();
  const outShape = first.shape.slice();
  outShape[a] = tensors.reduce((s, t) => s + t.shape[a], 0);
  const out = make(
    b.concat(
      cs.map((t) => t._on(b)),
      cs.map((t) => t.shape),
      a,
      dtype,
    ),
    outShape,
    dtype,
  );
  return record('concat', tensors, out, { axis: a, sizes: tensors.map((t) => t.shape[a]) });
}

/** Joins same-shaped tensors along a new `axis`. */
export function stack(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ArgumentError('stack', 'expected a non-empty array of tensors');
  tensors.forEach((t) => check('stack', t));
  for (const t of tensors) {
    if (!shapesEqual(t.shape, tensors[0].shape)) {
      throw new ShapeError('stack', `all tensors must have the same shape, got ${tensors.map((u) => fmtShape(u.shape)).join(', ')}`);
    }
  }
  const a = normAxis('stack', axis, tensors[0].rank + 1);
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

function toIndices(op: string, indices: Tensor | number[]): Tensor {
  if (indices instanceof Tensor) {
    if (indices.dtype !== 'int32') throw new DTypeError(op, `indices must be int32, got ${indices.dtype} ${fmtShape(indices.shape)}`);
    return indices;
  }
  if (!Array.isArray(indices) || indices.some((i) => !Number.isInteger(i))) {
    throw new ArgumentError(op, `indices must be an int32 Tensor or an array of integers, got ${JSON.stringify(indices)}`);
  }
  const b = getBackend();
  return make(b.upload(Int32Array.from(indices), 'int32'), [indices.length], 'int32');
}

/** Refuses an index outside `[0, dim)`; `what` names the axis in the message. */
function checkRange(op: string, idx: Tensor, dim: number, axis: number, what = `axis ${axis} of size ${dim}`): void {
  // Reads the indices back: only where that is free or asked for (setDebugChecks).
  if (!valueChecksOn(getBackend())) return;
  // Read in place (no copy): the values are only looked at.
  const v = idx._readSync(op, 'setDebugChecks(false)');
  for (let i = 0; i < idx.size; i++) {
    if (v[i] < 0 || v[i] >= dim) {
      throw new IndexError(op, `index ${v[i]} is out of range for ${what}`);
    }
  }
}

/** An int32 tensor of library-built indices (known to be in range). @internal */
export function hostIndices(values: ArrayLike<number>, shape: number[] = [values.length]): Tensor {
  const b = getBackend();
  return make(b.upload(Int32Array.from(values), 'int32'), shape, 'int32');
}

/** `indexSelect` without the range check, for indices the library built itself. @internal */
export function takeAlong(x: Tensor, idx: Tensor, a: number): Tensor {
  const b = getBackend();
  const s = b.gather(x._on(b), x.shape, idx._on(b), idx.size, a, x.dtype);
  const outShape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  return record('gather', [x, idx], make(s, outShape, x.dtype), { axis: a, inShape: x.shape.slice() });
}

/**
 * Selects entries along `axis` by int32 `indices` of any shape (PyTorch's `index_select`,
 * with its argument order; tfjs' `gather`): the result has shape
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Negative indices are refused.
 */
export function indexSelect(x: Tensor, axis: number, indices: Tensor | number[]): Tensor {
  check('indexSelect', x);
  const idx = toIndices('indexSelect', indices);
  const a = normAxis('indexSelect', axis, x.rank);
  if (x.rank === 0) return selectScalar('indexSelect', x, idx);
  checkRange('indexSelect', idx, x.shape[a], a);
  return takeAlong(x, idx, a);
}

/**
 * Index-select on a zero-dimensional `x`, as PyTorch: every index must be 0 (the tensor is its one
 * entry) and the result is `x` itself, still zero-dimensional.
 */
function selectScalar(op: string, x: Tensor, idx: Tensor): Tensor {
  if (idx.size === 0) throw new IndexError(op, `no index given for the zero-dimensional tensor (indices ${fmtShape(idx.shape)})`);
  checkRange(op, idx, 1, 0, 'a zero-dimensional tensor (only 0 is)');
  return reshape(x, []);
}

/**
 * The flat positions `index` addresses along `dim` of a tensor of `shape` (PyTorch's gather/scatter
 * rule), as an int32 tensor of `index`'s shape computed on the device: `index * stride[dim]` plus the
 * position of each entry outside `dim`, a constant of the shapes. The range of the index values is
 * checked (a read) only where value checks are on ({@link valueChecksOn}).
 */
function alongDimPositions(op: string, shape: readonly number[], dim: number, index: Tensor, srcShape?: readonly number[]): Tensor {
  if (index.rank !== Math.max(shape.length, 0) && !(shape.length === 0 && index.rank <= 1)) {
    throw new ShapeError(op, `index ${fmtShape(index.shape)} must have the rank of the input ${fmtShape(shape)}`);
  }
  const r = shape.length;
  for (let i = 0; i < index.rank; i++) {
    if (i !== dim && index.shape[i] > shape[i]) {
      throw new ShapeError(op, `index ${fmtShape(index.shape)} is larger than the input ${fmtShape(shape)} outside dim ${dim}`);
    }
    if (srcShape && index.shape[i] > srcShape[i]) {
      throw new ShapeError(op, `index ${fmtShape(index.shape)} is larger than src ${fmtShape(srcShape)} at dim ${i}`);
    }
  }
  const dimSize = r === 0 ? 1 : shape[dim];
  if (valueChecksOn(getBackend())) {
    const v = index.dataSync();
    for (let k = 0; k < v.length; k++) {
      if (v[k] < 0 || v[k] >= dimSize) {
        throw new IndexError(op, `index ${v[k]} is out of range for dim ${dim} of size ${dimSize} (input ${fmtShape(shape)})`);
      }
    }
  }
  if (r === 0) return index;
  const stride = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  const ish = index.shape;
  const base = new Int32Array(index.size);
  const pos = new Array<number>(ish.length).fill(0);
  for (let k = 0; k < base.length; k++) {
    let off = 0;
    for (let i = 0; i < r; i++) if (i !== dim) off += pos[i] * stride[i];
    base[k] = off;
    for (let i = ish.length - 1; i >= 0; i--) {
      if (++pos[i] < ish[i]) break;
      pos[i] = 0;
    }
  }
  const along = stride[dim] === 1 ? index : mul(index, stride[dim]);
  return add(along, hostIndices(base, ish.slice()));
}

/** Positions of `index`'s entries inside a tensor of `shape` (row-major), for taking `src` where `index` is smaller. */
function boxPositions(inner: readonly number[], outer: readonly number[]): Int32Array {
  const n = sizeOf(inner);
  const out = new Int32Array(n);
  const pos = new Array<number>(inner.length).fill(0);
  const stride = outer.map((_, i) => outer.slice(i + 1).reduce((p, d) => p * d, 1));
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < inner.length; i++) off += pos[i] * stride[i];
    out[k] = off;
    for (let i = inner.length - 1; i >= 0; i--) {
      if (++pos[i] < inner[i]) break;
      pos[i] = 0;
    }
  }
  return out;
}

function alongDimArgs(op: string, x: Tensor, dim: number, index: Tensor): number {
  check(op, x);
  if (!(index instanceof Tensor))
    throw new ArgumentError(op, `index must be an int32 Tensor, got ${index === null ? 'null' : typeof index}`);
  if (index.dtype !== 'int32') throw new DTypeError(op, `index must be int32, got ${index.dtype} ${fmtShape(index.shape)}`);
  return normAxis(op, dim, x.rank);
}

/** The entries of `src` at the positions of `index` (all of `src` when the shapes agree), flat. */
function srcEntries(src: Tensor, index: Tensor): Tensor {
  const flat = reshape(src, [src.size]);
  if (shapesEqual(src.shape, index.shape)) return flat;
  return takeAlong(flat, hostIndices(boxPositions(index.shape, src.shape)), 0);
}

/**
 * PyTorch's `torch.gather(x, dim, index)`: `out[i][j][k] = x[index[i][j][k]][j][k]` for
 * `dim = 0` (and likewise for other dims). `index` is int32 of `x`'s rank, no larger than `x`
 * outside `dim`; the result has `index`'s shape. Indices lie in `[0, x.shape[dim])` (negative ones
 * are refused, as in PyTorch).
 * The gradient adds into the gathered positions.
 * The positions are computed on the device (no read). Index values out of range throw an
 * `IndexError` where value checks are on (the CPU backend, or any backend after
 * `setDebugChecks(true)`); elsewhere they are not checked, as PyTorch on CUDA reports them only
 * asynchronously, and give unspecified values.
 */
function gatherAlong(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = alongDimArgs('gather', x, dim, index);
  const pos = alongDimPositions('gather', x.shape, d, index);
  return takeAlong(reshape(x, [x.size]), pos, 0);
}

/**
 * Two ops under one name, told apart by the second argument:
 * - `gather(x, dim: number, index: Tensor)` is PyTorch's `torch.gather`, the elementwise
 *   gather along `dim`: `out[i][j] = x[index[i][j]][j]` for `dim = 0`; `index` (int32) has
 *   `x`'s rank and the result has `index`'s shape.
 * - `gather(x, indices: Tensor | number[], axis = 0)` is `indexSelect(x, axis, indices)`
 *   (PyTorch's `index_select`, tfjs' `gather`): whole slices along `axis`, the result
 *   `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.
 *
 * Either way indices lie in `[0, size)` of the axis; out of range they throw an `IndexError`
 * where value checks are on (the CPU backend, or `setDebugChecks(true)`) and are not checked
 * elsewhere (no read from a GPU), as PyTorch on CUDA. The positions are computed on the device.
 *
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[0, 0], [1, 0]], { dtype: 'int32' })); // [[1, 1], [4, 3]]
 * gather(tensor([[1, 2], [3, 4]]), [1, 1]); // rows 1 and 1: [[3, 4], [3, 4]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor;
export function gather(x: Tensor, indices: Tensor | number[], axis?: number): Tensor;
export function gather(x: Tensor, indicesOrDim: Tensor | number[] | number, axisOrIndex?: number | Tensor): Tensor;
export function gather(x: Tensor, indicesOrDim: Tensor | number[] | number, axisOrIndex?: number | Tensor): Tensor {
  check('gather', x);
  if (typeof indicesOrDim === 'number') return gatherAlong(x, indicesOrDim, axisOrIndex as Tensor);
  if (axisOrIndex !== undefined && typeof axisOrIndex !== 'number') {
    throw new ArgumentError(
      'gather',
      `with indices second, the third argument is the axis (a number), got ${axisOrIndex instanceof Tensor ? 'a Tensor' : typeof axisOrIndex}`,
    );
  }
  const idx = toIndices('gather', indicesOrDim);
  const a = normAxis('gather', axisOrIndex ?? 0, x.rank);
  if (x.rank === 0) return selectScalar('gather', x, idx);
  checkRange('gather', idx, x.shape[a], a);
  return takeAlong(x, idx, a);
}

/** The adjoint of index-select: a zero tensor of `shape` with the slices of `src` added at `indices` along `axis`. */
function scatterAddSlices(src: Tensor, indices: Tensor | number[], axis: number, shape: number[]): Tensor {
  const idx = toIndices('scatterAdd', indices);
  if (!Array.isArray(shape))
    throw new ArgumentError('scatterAdd', `shape must be an array of integers, got ${JSON.stringify(shape) ?? typeof shape}`);
  const a = normAxis('scatterAdd', axis, shape.length);
  checkRange('scatterAdd', idx, shape[a], a);
  const expect = [...shape.slice(0, a), ...idx.shape, ...shape.slice(a + 1)];
  if (!shapesEqual(expect, src.shape)) {
    throw new ShapeError(
      'scatterAdd',
      `src ${fmtShape(src.shape)} does not match ${fmtShape(expect)} for indices ${fmtShape(idx.shape)} into ${fmtShape(shape)}`,
    );
  }
  return addAlong(src, idx, a, shape);
}

/** `scatterAdd` of slices without the checks, for indices the library built itself (in range). @internal */
export function addAlong(src: Tensor, idx: Tensor, a: number, shape: number[]): Tensor {
  const f = src.dtype === 'float32' ? src : cast(src, 'float32');
  const b = getBackend();
  const s = b.scatterAdd(f._on(b), idx._on(b), idx.size, shape, a);
  return record('scatterAdd', [src, idx], make(s, shape.slice(), 'float32'), { axis: a });
}

/** PyTorch's `x.scatter_add(dim, index, src)` (out of place). */
function scatterAddAlong(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = alongDimArgs('scatterAdd', x, dim, index);
  check('scatterAdd', src);
  if (src.rank !== x.rank)
    throw new ShapeError('scatterAdd', `src ${fmtShape(src.shape)} must have the rank of the input ${fmtShape(x.shape)}`);
  const pos = alongDimPositions('scatterAdd', x.shape, d, index, src.shape);
  if (pos.size === 0) return x;
  const added = addAlong(srcEntries(src, index), reshape(pos, [pos.size]), 0, [x.size]);
  const sum = add(x, reshape(added, x.shape.slice()));
  return sum.dtype === x.dtype ? sum : cast(sum, x.dtype);
}

/**
 * Two ops under one name, told apart by the second argument:
 * - `scatterAdd(x, dim: number, index: Tensor, src: Tensor)` is PyTorch's `scatter_add`
 *   (out of place): a copy of `x` with `src[i][j]` added at `[index[i][j]][j]` for `dim = 0`
 *   (likewise for other dims); repeated indices add up. `index` (int32) has `x`'s rank and is no
 *   larger than `src`, nor than `x` outside `dim`.
 * - `scatterAdd(src, indices: Tensor | number[], axis, shape)` is the adjoint of
 *   `indexSelect`: a zero tensor of `shape` into which the slices of `src` are added at
 *   `indices` along `axis` (float32).
 *
 * Index values out of range throw an `IndexError` where value checks are on (the CPU backend, or
 * `setDebugChecks(true)`); elsewhere they are not checked (no read from a GPU), as PyTorch on
 * CUDA. The positions are computed on the device.
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor;
export function scatterAdd(src: Tensor, indices: Tensor | number[], axis: number, shape: number[]): Tensor;
export function scatterAdd(x: Tensor, a: Tensor | number[] | number, b: number | Tensor, c: number[] | Tensor): Tensor;
export function scatterAdd(x: Tensor, a: Tensor | number[] | number, b: number | Tensor, c: number[] | Tensor): Tensor {
  check('scatterAdd', x);
  if (typeof a === 'number') return scatterAddAlong(x, a, b as Tensor, c as Tensor);
  return scatterAddSlices(x, a, b as number, c as number[]);
}

/**
 * PyTorch's `x.scatter(dim, index, src)` (out of place): a copy of `x` with `src[i][j]` written
 * at `[index[i][j]][j]` for `dim = 0` (likewise for other dims). `src` may be a number. Where
 * `index` repeats a position, the last write (in row-major order of `index`) wins and only it
 * receives a gradient; PyTorch leaves that case unspecified. The gradient of `x` is zero at
 * written positions.
 *
 * Everything is computed on the device (no read; the last writer of each position is found in
 * `ceil(log2(index.shape[dim]))` scatter-add rounds). Index values out of range throw an
 * `IndexError` where value checks are on (the CPU backend, or any backend after
 * `setDebugChecks(true)`); elsewhere they are not checked, as PyTorch on CUDA reports them only
 * asynchronously, and give unspecified values.
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const d = alongDimArgs('scatter', x, dim, index);
  if (typeof src === 'number' && x.dtype === 'int32') checkInt32Scalar('scatter', 'src', src);
  if (typeof src !== 'number') {
    check('scatter', src);
    if (src.rank !== x.rank)
      throw new ShapeError('scatter', `src ${fmtShape(src.shape)} must have the rank of the input ${fmtShape(x.shape)}`);
  }
  const pos = alongDimPositions('scatter', x.shape, d, index, typeof src === 'number' ? undefined : src.shape);
  if (pos.size === 0) return x;
  const flat = reshape(pos, [pos.size]);
  const n = flat.size;
  // The written positions: those that some entry of index names.
  const m = reshape(gt(addAlong(full([n], 1), flat, 0, [x.size]), 0), x.shape.slice());
  let placed: Tensor;
  if (typeof src === 'number') {
    placed = full(x.shape.slice(), src, { dtype: x.dtype });
  } else {
    const vals = where(lastWriters(flat, index.shape, d, x.size), srcEntries(src, index), 0);
    placed = reshape(addAlong(vals, flat, 0, [x.size]), x.shape.slice());
  }
  const out = where(m, placed, x);
  return out.dtype === x.dtype ? out : cast(out, x.dtype);
}

/**
 * Which entries of `index` (flat positions `flat`, row-major over `ishape`) are the last to name
 * their position: an int32 0/1 tensor of `flat`'s shape, computed on the device. Entries that
 * name the same position lie on one line along `dim`, so the last of them has the largest
 * coordinate along `dim`; that maximum is found one bit at a time, from the highest: at each bit,
 * among the candidates left for a position, those with the bit clear drop out when any has it set
 * (a count per position by scatter-add). `ceil(log2(ishape[dim]))` rounds of O(entries).
 */
function lastWriters(flat: Tensor, ishape: readonly number[], dim: number, outSize: number): Tensor {
  const m = ishape.length === 0 ? 1 : ishape[dim];
  const n = flat.size;
  let cand = full([n], 1);
  if (m > 1) {
    const inner = sizeOf(ishape.slice(dim + 1));
    const bits = Math.ceil(Math.log2(m));
    for (let bit = bits - 1; bit >= 0; bit--) {
      const has = new Float32Array(n);
      for (let k = 0; k < n; k++) has[k] = ((Math.floor(k / inner) % m) >> bit) & 1;
      const set = make(getBackend().upload(has, 'float32', true), [n], 'float32');
      const count = addAlong(mul(cand, set), flat, 0, [outSize]);
      const taken = gt(takeAlong(count, flat, 0), 0);
      cand = mul(cand, where(taken, set, 1));
    }
  }
  return gt(cand, 0);
}

/** The movement ops that are also `Tensor` methods (`x.reshape([2, -1])`). */
/**
 * The method form of {@link concat} (as tfjs' `a.concat(b, axis)`): `x.concat(other, axis)` or
 * `x.concat([b, c], axis)` joins `x` and the others, in that order, along `axis`.
 */
function concatMethod(x: Tensor, others: Tensor | Tensor[], axis = 0): Tensor {
  return concat([x, ...(Array.isArray(others) ? others : [others])], axis);
}

/** The method form of {@link stack}: `x.stack(other, axis)` or `x.stack([b, c], axis)` stacks `x` and the others along a new `axis`. */
function stackMethod(x: Tensor, others: Tensor | Tensor[], axis = 0): Tensor {
  return stack([x, ...(Array.isArray(others) ? others : [others])], axis);
}

export const movementMethods = {
  concat: concatMethod,
  stack: stackMethod,
  reshape,
  transpose,
  flatten,
  unsqueeze,
  squeeze,
  broadcastTo,
  slice,
  narrow,
  pad,
  gather,
  scatterAdd,
  indexSelect,
  scatter,
};
