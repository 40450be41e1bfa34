import type { DType, TypedArray } from '../dtype.js';
import { sizeOf, stridesOf } from '../shape.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';
import { newArray, newF32 } from './storage.js';

/** Below this many values a swap of two axes stays in the loop below (copying in and out costs more). */
const SWAP_MIN = 4096;

/** The two axes `p < q` a permutation swaps, leaving every other axis in place, or null. */
function swappedAxes(perm: readonly number[]): [number, number] | null {
  const moved = [];
  for (let i = 0; i < perm.length; i++) if (perm[i] !== i) moved.push(i);
  if (moved.length !== 2) return null;
  const [p, q] = moved;
  return perm[p] === q && perm[q] === p ? [p, q] : null;
}

/**
 * {@link transpose}, on the WebAssembly kernels when `simd` is given and the tensor is large enough:
 * a swap of the last two axes (matrices transposed) on `transpose`, a swap of two axes that keeps
 * the last (attention's split into heads and merge back) on `swap_axes`. The same values.
 */
export function transposeWith(
  simd: WasmRuntime | null,
  x: TypedArray,
  shape: readonly number[],
  perm: readonly number[],
  dtype: DType,
): TypedArray {
  const n = sizeOf(shape);
  const r = shape.length;
  const axes = simd !== null && n >= SWAP_MIN ? swappedAxes(perm) : null;
  // A swap with the last axis that is not of the last two stays in the loop.
  if (axes === null || (axes[1] === r - 1 && axes[0] !== r - 2)) return transpose(x, shape, perm, dtype);
  const [p, q] = axes;
  const out = newArray(dtype, n, false);
  // The kernels move 4-byte values: float32 and int32 alike, through an int32 view of the memory.
  const mem = new Int32Array(simd!.heap(2 * n).buffer);
  mem.set(new Int32Array(x.buffer, x.byteOffset, n), 0);
  if (q === r - 1) {
    // Matrices transposed: 4x4 blocks in tiles, matrix by matrix.
    const rows = shape[p];
    const size = rows * shape[q];
    for (let b = 0; b < n; b += size) simd!.exports.transpose(b * 4, rows, shape[q], (n + b) * 4, rows);
  } else {
    simd!.exports.swap_axes(
      0,
      n * 4,
      sizeOf(shape.slice(0, p)),
      shape[p],
      sizeOf(shape.slice(p + 1, q)),
      shape[q],
      sizeOf(shape.slice(q + 1)),
    );
  }
  new Int32Array(out.buffer, out.byteOffset, n).set(mem.subarray(n, 2 * n));
  return out;
}

/** Copies `x` with its axes permuted: `out.shape[i] = shape[perm[i]]`. */
export function transpose(x: TypedArray, shape: readonly number[], perm: readonly number[], dtype: DType): TypedArray {
  const rank = shape.length;
  const n = sizeOf(shape);
  // Every element is written below.
  const out = newArray(dtype, n, false);
  if (n === 0) return out;
  const inStr = stridesOf(shape);
  if (rank === 2 && perm[0] === 1) {
    // Blocked 2-D transpose: keeps both sides in cache.
    const rows = shape[0];
    const cols = shape[1];
    const B = 32;
    for (let i0 = 0; i0 < rows; i0 += B) {
      const i1 = Math.min(i0 + B, rows);
      for (let j0 = 0; j0 < cols; j0 += B) {
        const j1 = Math.min(j0 + B, cols);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = x[i * cols + j];
      }
    }
    return out;
  }
  const outShape = perm.map((p) => shape[p]);
  const str = perm.map((p) => inStr[p]);
  const last = rank - 1;
  const inner = outShape[last];
  const sIn = str[last];
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let o = 0; o < n; o += inner) {
    // Long contiguous runs (a permutation that keeps the last axis) are block copies; short ones
    // (attention's heads of 16 or 64 values) cost less as a loop than a subarray and a set.
    if (sIn === 1 && inner >= 256) out.set(x.subarray(off, off + inner), o);
    else for (let j = 0, xi = off; j < inner; j++, xi += sIn) out[o + j] = x[xi];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      off += str[d];
      if (idx[d] < outShape[d]) break;
      off -= str[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Calls `fn(srcOffset, dstOffset)` for every innermost run of a box copy. */
function forEachRow(
  outShape: readonly number[],
  srcStrides: readonly number[],
  srcStart: number,
  fn: (src: number, dst: number, len: number) => void,
): void {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  if (n === 0) return;
  if (rank === 0) {
    fn(srcStart, 0, 1);
    return;
  }
  const last = rank - 1;
  const inner = outShape[last];
  const idx = new Array<number>(rank).fill(0);
  let off = srcStart;
  for (let o = 0; o < n; o += inner) {
    fn(off, o, inner);
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      off += srcStrides[d];
      if (idx[d] < outShape[d]) break;
      off -= srcStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
}

/**
 * True when the slice is one contiguous run of `x`: leading axes of size 1,
 * then one axis cut anywhere, then whole trailing axes (a batch of rows).
 */
function isContiguousRun(shape: readonly number[], begin: readonly number[], size: readonly number[]): boolean {
  let i = 0;
  while (i < shape.length && size[i] === 1) i++;
  for (let j = i + 1; j < shape.length; j++) if (begin[j] !== 0 || size[j] !== shape[j]) return false;
  return true;
}

/**
 * A contiguous slice (rows of a dataset, a validation split) is a view that
 * shares `x`'s memory instead of a copy: storages are never written in place
 * (the one in-place kernel, the fused optimizer update, copies a parameter's
 * storage before its first write), so sharing is safe and halves the memory of
 * splitting a 188 MB MNIST tensor.
 */
export function slice(
  x: TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dtype: DType,
): TypedArray {
  const str = stridesOf(shape);
  let start = 0;
  for (let i = 0; i < shape.length; i++) start += begin[i] * str[i];
  if (isContiguousRun(shape, begin, size) && (x instanceof Float32Array ? dtype === 'float32' : dtype === 'int32')) {
    return x.subarray(start, start + sizeOf(size));
  }
  const out = newArray(dtype, sizeOf(size), false);
  forEachRow(size, str, start, (s, d, len) => out.set(x.subarray(s, s + len), d));
  return out;
}

export function pad(
  x: TypedArray,
  shape: readonly number[],
  pads: readonly (readonly [number, number])[],
  value: number,
  dtype: DType,
): TypedArray {
  const outShape = shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = newArray(dtype, sizeOf(outShape));
  if (value !== 0) out.fill(value);
  const outStr = stridesOf(outShape);
  let start = 0;
  for (let i = 0; i < shape.length; i++) start += pads[i][0] * outStr[i];
  // Walk the input rows and place each at its padded offset.
  forEachRow(shape, outStr, start, (dst, src, len) => out.set(x.subarray(src, src + len), dst));
  return out;
}

export function concat(xs: readonly TypedArray[], shapes: readonly (readonly number[])[], axis: number, dtype: DType): TypedArray {
  const outer = sizeOf(shapes[0].slice(0, axis));
  const chunks = shapes.map((s) => sizeOf(s.slice(axis)));
  const total = chunks.reduce((a, b) => a + b, 0);
  const out = newArray(dtype, outer * total, false);
  for (let o = 0; o < outer; o++) {
    let off = o * total;
    for (let t = 0; t < xs.length; t++) {
      const c = chunks[t];
      out.set(xs[t].subarray(o * c, o * c + c), off);
      off += c;
    }
  }
  return out;
}

/** Rows (values) from which {@link gather} touches every row it will copy before copying any. */
const TOUCH_MIN_ROW = 256;
/** Where {@link touchRows} leaves what it read, so the reads are not optimised away. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- written, never read: see above
let touched = 0;

/**
 * Reads one value in every 4 KiB of each row `gather` is about to copy, and its last value, before
 * the copies start: rows picked at random from a large array (a shuffled batch of a training set)
 * each miss the cache and the TLB, and reading them all first lets the processor wait for those
 * misses together instead of one row at a time. Measured on an Intel Xeon with AVX-512 (Node 20),
 * 128 random rows of 784 values from 60,032 between the products of a training step (three
 * alternating runs of 468): 103 to 136 microseconds a gather without, 86 to 95 with.
 */
function touchRows(x: TypedArray, indices: TypedArray, nIdx: number, outer: number, dim: number, inner: number): void {
  let sum = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const src = (o * dim + indices[j]) * inner;
      for (let q = 0; q < inner; q += 1024) sum += x[src + q];
      sum += x[src + inner - 1];
    }
  }
  touched = sum;
}

export function gather(x: TypedArray, shape: readonly number[], indices: TypedArray, nIdx: number, axis: number, dtype: DType): TypedArray {
  const outer = sizeOf(shape.slice(0, axis));
  const dim = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  // Every element is written below (the indices are in range), so a recycled array is not zeroed first.
  const out = newArray(dtype, outer * nIdx * inner, false);
  if (inner >= TOUCH_MIN_ROW && nIdx > 1) touchRows(x, indices, nIdx, outer, dim, inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const src = (o * dim + indices[j]) * inner;
      const dst = (o * nIdx + j) * inner;
      if (inner === 1) out[dst] = x[src];
      else out.set(x.subarray(src, src + inner), dst);
    }
  }
  return out;
}

export function scatterAdd(src: TypedArray, indices: TypedArray, nIdx: number, outShape: readonly number[], axis: number): TypedArray {
  const outer = sizeOf(outShape.slice(0, axis));
  const dim = outShape[axis];
  const inner = sizeOf(outShape.slice(axis + 1));
  const out = newF32(outer * dim * inner);
  if (outer === 1 && inner === 1) {
    // Flat positions (as max pooling's backward pass gives them): one add each.
    for (let j = 0; j < nIdx; j++) out[indices[j]] += src[j];
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const d = (o * dim + indices[j]) * inner;
      const s = (o * nIdx + j) * inner;
      for (let k = 0; k < inner; k++) out[d + k] += src[s + k];
    }
  }
  return out;
}
