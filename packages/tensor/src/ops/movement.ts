import { getBackend } from '../backend/registry.js';
import { promote } from '../dtype.js';
import { record } from '../engine.js';
import { ArgumentError, AxisError, DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes, normAxis, resolveReshape, shapesEqual, sizeOf } from '../shape.js';
import { Tensor, markShared, view } from '../tensor.js';
import { cast } from './elementwise.js';
import { make } from './util.js';

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

/** Removes size-1 axes: all of them, or those listed (which must have size 1). */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  check('squeeze', x);
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new AxisError('squeeze', `axis must be a number or an array of numbers, got ${JSON.stringify(axis) ?? typeof axis}`);
  }
  const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => normAxis('squeeze', a, x.rank));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new ShapeError('squeeze', `axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Repeats `x` along size-1 (or missing leading) axes to reach `shape`. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  check('broadcastTo', x);
  if (!Array.isArray(shape)) throw new ArgumentError('broadcastTo', `shape must be an array of integers, got ${String(shape)}`);
  const out = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(out, shape)) {
    throw new ShapeError('broadcastTo', `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (shapesEqual(x.shape, shape)) return x;
  const b = getBackend();
  const zeros = b.fill(sizeOf(shape), 0, x.dtype);
  const s = b.binary('add', x._on(b), x.shape, x.dtype, zeros, shape, x.dtype, shape, x.dtype);
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
    throw new ArgumentError('slice', `begin and size must be numbers or arrays of numbers, got ${JSON.stringify(begin) ?? typeof begin} and ${JSON.stringify(size) ?? typeof size}`);
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

/** Pads every axis with `pads[i] = [before, after]` copies of `value`. */
export function pad(x: Tensor, pads: [number, number][], value = 0): Tensor {
  check('pad', x);
  if (!Array.isArray(pads) || pads.length !== x.rank || pads.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ArgumentError('pad', `expected ${x.rank} pairs of non-negative integers for ${fmtShape(x.shape)}, got ${JSON.stringify(pads)}`);
  }
  const b = getBackend();
  const outShape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  if (sizeOf(outShape) > 2 ** 32) throw new ShapeError('pad', `padding ${fmtShape(x.shape)} by ${JSON.stringify(pads)} gives ${fmtShape(outShape)}, too large for a tensor`);
  const out = make(b.pad(x._on(b), x.shape, pads, value, x.dtype), outShape, x.dtype);
  return record('pad', [x], out, { pads: pads.map((p) => [p[0], p[1]]) });
}

/** Joins tensors along an existing `axis`; every other dimension must match. */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ArgumentError('concat', 'expected a non-empty array of tensors');
  tensors.forEach((t) => check('concat', t));
  const first = tensors[0];
  const a = normAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(
        'concat',
        `shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${axis}`,
      );
    }
  }
  if (tensors.length === 1) return first;
  const dtype = tensors.reduce((d, t) => promote(d, t.dtype), first.dtype);
  const cs = tensors.map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
  const b = getBackend();
  const outShape = first.shape.slice();
  outShape[a] = tensors.reduce((s, t) => s + t.shape[a], 0);
  const out = make(b.concat(cs.map((t) => t._on(b)), cs.map((t) => t.shape), a, dtype), outShape, dtype);
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
  return concat(tensors.map((t) => unsqueeze(t, a)), a);
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

function checkRange(op: string, idx: Tensor, dim: number, axis: number): void {
  const v = idx.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= dim) {
      throw new IndexError(op, `index ${v[i]} is out of range for axis ${axis} of size ${dim}`);
    }
  }
}

/**
 * Selects entries along `axis` by int32 `indices` of any shape: the result has
 * shape `x.shape[:axis] + indices.shape + x.shape[axis+1:]` (tfjs' `gather`,
 * PyTorch's `index_select` for 1-D indices).
 */
export function gather(x: Tensor, indices: Tensor | number[], axis = 0): Tensor {
  check('gather', x);
  const idx = toIndices('gather', indices);
  const a = normAxis('gather', axis, x.rank);
  checkRange('gather', idx, x.shape[a], a);
  const b = getBackend();
  const s = b.gather(x._on(b), x.shape, idx._on(b), idx.size, a, x.dtype);
  const outShape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  return record('gather', [x, idx], make(s, outShape, x.dtype), { axis: a, inShape: x.shape.slice() });
}

/**
 * The adjoint of {@link gather}: a zero tensor of `shape` into which the slices
 * of `src` are added at `indices` along `axis` (repeated indices add up).
 */
export function scatterAdd(src: Tensor, indices: Tensor | number[], axis: number, shape: number[]): Tensor {
  check('scatterAdd', src);
  const idx = toIndices('scatterAdd', indices);
  const a = normAxis('scatterAdd', axis, shape.length);
  checkRange('scatterAdd', idx, shape[a], a);
  const expect = [...shape.slice(0, a), ...idx.shape, ...shape.slice(a + 1)];
  if (!shapesEqual(expect, src.shape)) {
    throw new ShapeError('scatterAdd', `src ${fmtShape(src.shape)} does not match ${fmtShape(expect)} for indices ${fmtShape(idx.shape)} into ${fmtShape(shape)}`);
  }
  const f = src.dtype === 'float32' ? src : cast(src, 'float32');
  const b = getBackend();
  const s = b.scatterAdd(f._on(b), idx._on(b), idx.size, shape, a);
  return record('scatterAdd', [src, idx], make(s, shape.slice(), 'float32'), { axis: a });
}

/** The movement ops that are also `Tensor` methods (`x.reshape([2, -1])`). */
export const movementMethods = {
  reshape, transpose, flatten, unsqueeze, squeeze, broadcastTo, slice, narrow, pad, gather, scatterAdd,
};
