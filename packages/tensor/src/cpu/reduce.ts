import type { ReduceOp } from '../backend/backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { transpose } from './movement.js';
import { newArray } from './storage.js';
import { WASM_BLOCK } from './wasm/wasm-elementwise.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';

/**
 * Reduces `axes` of `x`. Contiguous axis blocks reduce in place as
 * (outer, reduced, inner); other axis sets are first transposed to the end.
 */
/**
 * Refuses an int32 sum or product that left the int32 range. Sums accumulate
 * in float64, exact up to 2^53, so the check sees the true total rather than a
 * wrapped one; a product past 2^53 is refused as well (it is no longer exact).
 */
function checkInt32Total(op: ReduceOp, total: number): void {
  if (total > 2147483647 || total < -2147483648) {
    throw new DTypeError(op, `the int32 ${op} is ${total}, beyond the int32 range (-2147483648 .. 2147483647); cast to float32 first`);
  }
}

export function reduce(
  op: ReduceOp,
  x: TypedArray,
  shape: readonly number[],
  axes: readonly number[],
  dtype: DType,
  simd: WasmRuntime | null = null,
): TypedArray {
  const rank = shape.length;
  let contiguous = true;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) contiguous = false;
  let src = x;
  let outer: number;
  let red: number;
  let inner: number;
  if (contiguous) {
    outer = sizeOf(shape.slice(0, axes[0]));
    red = sizeOf(axes.map((a) => shape[a]));
    inner = sizeOf(shape.slice(axes[axes.length - 1] + 1));
  } else {
    const kept = [...Array(rank).keys()].filter((a) => !axes.includes(a));
    const perm = [...kept, ...axes];
    src = transpose(x, shape, perm, dtype);
    outer = sizeOf(kept.map((a) => shape[a]));
    red = sizeOf(axes.map((a) => shape[a]));
    inner = 1;
  }
  const isArg = op === 'argmax' || op === 'argmin';
  const out = newArray(isArg ? 'int32' : dtype, outer * inner);
  if (red === 0) {
    if (op === 'sum') return out;
    if (op === 'prod') return out.fill(1);
  }
  if (op === 'sum' && src instanceof Float32Array && out instanceof Float32Array) {
    if (simd === null || !colSumSimd(simd, src, outer, red, inner, out)) sumF32(src, outer, red, inner, out);
    return out;
  }
  for (let o = 0; o < outer; o++) {
    const base = o * red * inner;
    const ob = o * inner;
    if (inner === 1) {
      switch (op) {
        case 'sum': {
          let acc = 0;
          for (let r = 0; r < red; r++) acc += src[base + r];
          if (dtype === 'int32') checkInt32Total(op, acc);
          out[ob] = acc;
          break;
        }
        case 'prod': {
          let acc = 1;
          for (let r = 0; r < red; r++) {
            acc *= src[base + r];
            if (dtype === 'int32' && Math.abs(acc) > 2147483647) checkInt32Total(op, acc);
          }
          out[ob] = acc;
          break;
        }
        case 'max':
        case 'argmax': {
          let best = src[base];
          let bi = 0;
          for (let r = 1; r < red; r++) {
            const v = src[base + r];
            if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              bi = r;
            }
          }
          out[ob] = op === 'max' ? best : bi;
          break;
        }
        case 'min':
        case 'argmin': {
          let best = src[base];
          let bi = 0;
          for (let r = 1; r < red; r++) {
            const v = src[base + r];
            if (v < best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              bi = r;
            }
          }
          out[ob] = op === 'min' ? best : bi;
          break;
        }
      }
    } else {
      if (op === 'sum') {
        // Accumulate in float64 scratch for long reductions down columns.
        const acc = new Float64Array(inner);
        for (let r = 0; r < red; r++) {
          const rb = base + r * inner;
          for (let j = 0; j < inner; j++) acc[j] += src[rb + j];
        }
        if (dtype === 'int32') for (let j = 0; j < inner; j++) checkInt32Total(op, acc[j]);
        for (let j = 0; j < inner; j++) out[ob + j] = acc[j];
      } else if (op === 'prod') {
        // Products accumulate in float64 too, so an int32 overflow is seen before it wraps.
        const acc = new Float64Array(inner).fill(1);
        for (let r = 0; r < red; r++) {
          for (let j = 0; j < inner; j++) acc[j] *= src[base + r * inner + j];
          if (dtype === 'int32') for (let j = 0; j < inner; j++) if (Math.abs(acc[j]) > 2147483647) checkInt32Total(op, acc[j]);
        }
        for (let j = 0; j < inner; j++) out[ob + j] = acc[j];
      } else {
        const wantMax = op === 'max' || op === 'argmax';
        const best = new Float64Array(inner);
        const bi = new Int32Array(inner);
        for (let j = 0; j < inner; j++) best[j] = src[base + j];
        for (let r = 1; r < red; r++) {
          const rb = base + r * inner;
          for (let j = 0; j < inner; j++) {
            const v = src[rb + j];
            if ((wantMax ? v > best[j] : v < best[j]) || (Number.isNaN(v) && !Number.isNaN(best[j]))) {
              best[j] = v;
              bi[j] = r;
            }
          }
        }
        for (let j = 0; j < inner; j++) out[ob + j] = isArg ? bi[j] : best[j];
      }
    }
  }
  return out;
}

/**
 * Float32 sums of `[outer, red, inner]` over `red` into `out` `[outer, inner]`: the same float64
 * running sums, in the same order, as the generic loop, in loops that see only Float32Array (so
 * V8 compiles plain float loads); columns (`inner` > 1) take four rows a pass, each column's
 * sum still adding one row after the other.
 */
function sumF32(src: Float32Array, outer: number, red: number, inner: number, out: Float32Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * red;
      let acc = 0;
      for (let r = 0; r < red; r++) acc += src[base + r];
      out[o] = acc;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * red * inner;
    acc.fill(0);
    let r = 0;
    for (; r + 3 < red; r += 4) {
      const r0 = base + r * inner;
      const r1 = r0 + inner;
      const r2 = r1 + inner;
      const r3 = r2 + inner;
      for (let j = 0; j < inner; j++) acc[j] = acc[j] + src[r0 + j] + src[r1 + j] + src[r2 + j] + src[r3 + j];
    }
    for (; r < red; r++) {
      const rb = base + r * inner;
      for (let j = 0; j < inner; j++) acc[j] += src[rb + j];
    }
    const ob = o * inner;
    for (let j = 0; j < inner; j++) out[ob + j] = acc[j];
  }
}

/** Below this many values a column sum stays in the JavaScript loop (copying in costs more). */
const COL_SUM_MIN = 4096;

/**
 * {@link sumF32}'s column sums (inner > 1, even) on the WebAssembly kernel `col_sum`, which adds in
 * the same order in float64: the same bits. The rows go through the heap a block at a time (a whole
 * number of groups of four, so the grouping is the loop's). False when the shape is not one it takes.
 */
function colSumSimd(rt: WasmRuntime, src: Float32Array, outer: number, red: number, inner: number, out: Float32Array): boolean {
  if (inner < 2 || inner % 2 !== 0 || outer * red * inner < COL_SUM_MIN) return false;
  const xAt = (2 * inner + 3) & ~3;
  const chunk = Math.max(4, Math.floor(WASM_BLOCK / inner) & ~3);
  const mem = rt.heap(xAt + Math.min(chunk, red) * inner);
  const acc = new Float64Array(mem.buffer, 0, inner);
  for (let o = 0; o < outer; o++) {
    const base = o * red * inner;
    const whole = red & ~3;
    if (whole === 0) acc.fill(0);
    for (let r = 0; r < whole; r += chunk) {
      const rows = Math.min(chunk, whole - r);
      mem.set(src.subarray(base + r * inner, base + (r + rows) * inner), xAt);
      rt.exports.col_sum(xAt * 4, 0, rows, inner, r === 0 ? 1 : 0);
    }
    // The last one to three rows, one by one, as the loop adds them.
    for (let r = whole; r < red; r++) for (let j = 0; j < inner; j++) acc[j] += src[base + r * inner + j];
    for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j];
  }
  return true;
}
