import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { UNARY_OPS, expF32Full, gelu, geluGrad, logF32, sigmoidF32, tanhF32 } from '../backend/unary-ops.js';
import type { DType, TypedArray } from '../dtype.js';
import { sizeOf, stridesOf } from '../shape.js';
import { WASM_MIN_ELEMENTS, rowSimd, sameSimd, scalarSimd, unarySimd } from './wasm/wasm-elementwise.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';
import { newArray } from './storage.js';

type Fn2 = (a: number, b: number) => number;

/**
 * `a ** b` as C's `pow` (and so PyTorch) gives it: 1 when `a` is 1 whatever `b` (NaN included), and
 * when `a` is -1 and `b` infinite, where JavaScript's `Math.pow` gives NaN; elsewhere `Math.pow`.
 */
function powC(a: number, b: number): number {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}

/**
 * `a ** b` for int32 as PyTorch computes it: by squaring, each product wrapping to 32 bits, so
 * `2147483647 ** 2` is 1 (a double would lose the low bits and give 0). A negative `b` keeps
 * {@link powC}'s value, truncated (1 for 1, ±1 for -1, else 0).
 */
function powInt32(a: number, b: number): number {
  if (b < 0) return powC(a, b) | 0;
  let r = 1;
  let base = a | 0;
  for (let e = b | 0; e > 0; e >>>= 1) {
    if (e & 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
  }
  return r;
}

export const binaryFns: Record<BinaryOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powC,
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
};

/**
 * Float32 loops for the unary ops of training. They live apart from the generic
 * loops so every array access here sees only Float32Array: V8 then compiles them
 * to plain float loads and stores, where a loop that has also met Int32Array
 * goes through slower polymorphic element access.
 */
function unaryF32(op: UnaryOp, x: Float32Array, out: Float32Array, size: number): boolean {
  switch (op) {
    case 'neg':
      for (let i = 0; i < size; i++) out[i] = -x[i];
      return true;
    case 'relu':
      for (let i = 0; i < size; i++) {
        const v = x[i];
        out[i] = v <= 0 ? 0 : v;
      }
      return true;
    case 'step':
      for (let i = 0; i < size; i++) out[i] = x[i] > 0 ? 1 : 0;
      return true;
    case 'exp':
      for (let i = 0; i < size; i++) out[i] = expF32Full(x[i]);
      return true;
    case 'log':
      for (let i = 0; i < size; i++) out[i] = logF32(x[i]);
      return true;
    case 'sqrt':
      for (let i = 0; i < size; i++) out[i] = Math.sqrt(x[i]);
      return true;
    case 'square':
      for (let i = 0; i < size; i++) out[i] = x[i] * x[i];
      return true;
    case 'abs':
      for (let i = 0; i < size; i++) out[i] = Math.abs(x[i]);
      return true;
    case 'reciprocal':
      for (let i = 0; i < size; i++) out[i] = 1 / x[i];
      return true;
    case 'tanh':
      for (let i = 0; i < size; i++) out[i] = tanhF32(x[i]);
      return true;
    case 'sigmoid':
      for (let i = 0; i < size; i++) out[i] = sigmoidF32(x[i]);
      return true;
    case 'gelu':
      for (let i = 0; i < size; i++) out[i] = gelu(x[i]);
      return true;
    case 'geluGrad':
      for (let i = 0; i < size; i++) out[i] = geluGrad(x[i]);
      return true;
    default:
      return false;
  }
}

/**
 * Elementwise op of one input; `simd` runs the large float32 cases on the WebAssembly kernels, and
 * `shared` (a runtime with worker threads) lets exp, sigmoid, tanh and log split them in two.
 */
export function unary(
  op: UnaryOp,
  x: TypedArray,
  size: number,
  dtype: DType,
  simd: WasmRuntime | null = null,
  shared: WasmRuntime | null = null,
): TypedArray {
  // Every op below writes every element: the output need not be zeroed.
  const out = newArray(dtype, size, false);
  if (x instanceof Float32Array && out instanceof Float32Array) {
    if (simd !== null && size >= WASM_MIN_ELEMENTS && unarySimd(simd, op, x, out, size, shared)) return out;
    if (unaryF32(op, x, out, size)) return out;
  }
  switch (op) {
    case 'neg':
      for (let i = 0; i < size; i++) out[i] = -x[i];
      return out;
    case 'relu':
      for (let i = 0; i < size; i++) {
        const v = x[i];
        out[i] = v <= 0 ? 0 : v;
      }
      return out;
    case 'step':
      for (let i = 0; i < size; i++) out[i] = x[i] > 0 ? 1 : 0;
      return out;
    case 'square':
      // int32 squares wrap to 32 bits, as PyTorch's do (a double square past 2^53 loses the low bits).
      if (out instanceof Int32Array) for (let i = 0; i < size; i++) out[i] = Math.imul(x[i], x[i]);
      else for (let i = 0; i < size; i++) out[i] = x[i] * x[i];
      return out;
    default: {
      const f = UNARY_OPS[op].f;
      for (let i = 0; i < size; i++) out[i] = f(x[i]);
      return out;
    }
  }
}

/** Same-size fast loops for the ops that dominate training. */
function sameShape(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray, n: number): void {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      return;
    default: {
      const f = binaryFns[op];
      for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    }
  }
}

/** `a` full size, `b` repeating every `period` elements (a row vector broadcast down rows). */
function rowBroadcast(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray, n: number, period: number, bFirst: boolean): void {
  const f = binaryFns[op];
  if (!bFirst && op === 'add') {
    for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] + b[j];
    return;
  }
  if (!bFirst && op === 'mul') {
    for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] * b[j];
    return;
  }
  if (bFirst) for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = f(b[j], a[o + j]);
  else for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = f(a[o + j], b[j]);
}

/** `a` full size, `b` constant along runs of `run` elements (a column vector broadcast across columns). */
function colBroadcast(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray, n: number, run: number, bFirst: boolean): void {
  const f = binaryFns[op];
  let k = 0;
  if (!bFirst && op === 'sub') {
    for (let o = 0; o < n; o += run, k++) {
      const bv = b[k];
      for (let j = 0; j < run; j++) out[o + j] = a[o + j] - bv;
    }
    return;
  }
  if (!bFirst && op === 'div') {
    for (let o = 0; o < n; o += run, k++) {
      const bv = b[k];
      for (let j = 0; j < run; j++) out[o + j] = a[o + j] / bv;
    }
    return;
  }
  for (let o = 0; o < n; o += run, k++) {
    const bv = b[k];
    if (bFirst) for (let j = 0; j < run; j++) out[o + j] = f(bv, a[o + j]);
    else for (let j = 0; j < run; j++) out[o + j] = f(a[o + j], bv);
  }
}

/** Pads `shape` with leading 1s to `rank`. */
function align(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Is `small` (aligned) equal to the trailing part of `out`, with only leading 1s? */
function isSuffix(small: number[], out: readonly number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  for (let j = i; j < small.length; j++) if (small[j] !== out[j]) return false;
  return true;
}

/** Is `small` (aligned) equal to a leading part of `out`, followed by only 1s? */
function isPrefix(small: number[], out: readonly number[]): number {
  let i = small.length;
  while (i > 0 && small[i - 1] === 1) i--;
  for (let j = 0; j < i; j++) if (small[j] !== out[j]) return -1;
  return i;
}

/** Float32 `a op b` for same-size operands (see {@link unaryF32} for why these are separate). */
function sameF32(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number): boolean {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return true;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return true;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return true;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      return true;
    default:
      return false;
  }
}

/** Float32 `a op s` (or `s op a` when `sFirst`) for a scalar `s`. */
function scalarF32(op: BinaryOp, a: Float32Array, s: number, out: Float32Array, n: number, sFirst: boolean): boolean {
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + s;
      return true;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * s;
      return true;
    case 'sub':
      if (sFirst) for (let i = 0; i < n; i++) out[i] = s - a[i];
      else for (let i = 0; i < n; i++) out[i] = a[i] - s;
      return true;
    case 'div':
      if (sFirst) for (let i = 0; i < n; i++) out[i] = s / a[i];
      else for (let i = 0; i < n; i++) out[i] = a[i] / s;
      return true;
    default:
      return false;
  }
}

/** Float32 `a op b` with `b` a row repeating every `period` elements (`b op a` when `bFirst`). */
function rowF32(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number, period: number, bFirst: boolean): boolean {
  switch (op) {
    case 'add':
      for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] + b[j];
      return true;
    case 'mul':
      for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] * b[j];
      return true;
    case 'sub':
      if (bFirst) for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = b[j] - a[o + j];
      else for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] - b[j];
      return true;
    case 'div':
      if (bFirst) for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = b[j] / a[o + j];
      else for (let o = 0; o < n; o += period) for (let j = 0; j < period; j++) out[o + j] = a[o + j] / b[j];
      return true;
    default:
      return false;
  }
}

/** Float32 `a op b` with `b` constant along runs of `run` elements (`b op a` when `bFirst`). */
function colF32(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number, run: number, bFirst: boolean): boolean {
  if (op !== 'add' && op !== 'sub' && op !== 'mul' && op !== 'div') return false;
  for (let o = 0, k = 0; o < n; o += run, k++) {
    const bv = b[k];
    if (op === 'add') for (let j = 0; j < run; j++) out[o + j] = a[o + j] + bv;
    else if (op === 'mul') for (let j = 0; j < run; j++) out[o + j] = a[o + j] * bv;
    else if (op === 'sub') {
      if (bFirst) for (let j = 0; j < run; j++) out[o + j] = bv - a[o + j];
      else for (let j = 0; j < run; j++) out[o + j] = a[o + j] - bv;
    } else if (bFirst) for (let j = 0; j < run; j++) out[o + j] = bv / a[o + j];
    else for (let j = 0; j < run; j++) out[o + j] = a[o + j] / bv;
  }
  return true;
}

/** The common broadcast patterns of float32 arithmetic; false when none applies. */
function binaryF32(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  outShape: readonly number[],
  out: Float32Array,
  n: number,
  simd: WasmRuntime | null,
): boolean {
  const aSize = a.length;
  const bSize = b.length;
  const big = simd !== null && n >= WASM_MIN_ELEMENTS;
  if (aSize === n && bSize === n) return (big && sameSimd(simd, op, a, b, out, n)) || sameF32(op, a, b, out, n);
  if (bSize === 1 && aSize === n) return (big && scalarSimd(simd, op, a, b[0], out, n, false)) || scalarF32(op, a, b[0], out, n, false);
  if (aSize === 1 && bSize === n) return (big && scalarSimd(simd, op, b, a[0], out, n, true)) || scalarF32(op, b, a[0], out, n, true);
  const rank = outShape.length;
  const as = align(aShape, rank);
  const bs = align(bShape, rank);
  if (aSize === n && isSuffix(bs, outShape))
    return (big && rowSimd(simd, op, a, b, out, n, bSize, false)) || rowF32(op, a, b, out, n, bSize, false);
  if (bSize === n && isSuffix(as, outShape))
    return (big && rowSimd(simd, op, b, a, out, n, aSize, true)) || rowF32(op, b, a, out, n, aSize, true);
  if (aSize === n && isPrefix(bs, outShape) >= 0) return colF32(op, a, b, out, n, n / bSize, false);
  if (bSize === n && isPrefix(as, outShape) >= 0) return colF32(op, b, a, out, n, n / aSize, true);
  return false;
}

/** Elementwise op of two inputs with broadcasting; `simd` as for {@link unary}. */
export function binary(
  op: BinaryOp,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
  outDtype: DType,
  simd: WasmRuntime | null = null,
): TypedArray {
  const n = sizeOf(outShape);
  // Every path below writes every element: the output need not be zeroed.
  const out = newArray(outDtype, n, false);
  if (n === 0) return out;
  if (
    a instanceof Float32Array &&
    b instanceof Float32Array &&
    out instanceof Float32Array &&
    binaryF32(op, a, aShape, b, bShape, outShape, out, n, simd)
  ) {
    return out;
  }
  if (out instanceof Int32Array && (op === 'mul' || op === 'pow')) {
    // int32 products wrap to 32 bits as PyTorch's do; a double product past 2^53 loses the low bits.
    walk(op === 'mul' ? Math.imul : powInt32, a, aShape, b, bShape, outShape, out, n);
    return out;
  }
  const aSize = a.length;
  const bSize = b.length;
  if (aSize === n && bSize === n) {
    sameShape(op, a, b, out, n);
    return out;
  }
  const f = binaryFns[op];
  if (bSize === 1 && aSize === n) {
    const bv = b[0];
    if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * bv;
    else if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + bv;
    else for (let i = 0; i < n; i++) out[i] = f(a[i], bv);
    return out;
  }
  if (aSize === 1 && bSize === n) {
    const av = a[0];
    for (let i = 0; i < n; i++) out[i] = f(av, b[i]);
    return out;
  }
  const rank = outShape.length;
  const as = align(aShape, rank);
  const bs = align(bShape, rank);
  if (aSize === n && isSuffix(bs, outShape)) {
    rowBroadcast(op, a, b, out, n, bSize, false);
    return out;
  }
  if (bSize === n && isSuffix(as, outShape)) {
    rowBroadcast(op, b, a, out, n, aSize, true);
    return out;
  }
  if (aSize === n) {
    const p = isPrefix(bs, outShape);
    if (p >= 0) {
      colBroadcast(op, a, b, out, n, n / bSize, false);
      return out;
    }
  }
  if (bSize === n) {
    const p = isPrefix(as, outShape);
    if (p >= 0) {
      colBroadcast(op, b, a, out, n, n / aSize, true);
      return out;
    }
  }
  walk(f, a, aShape, b, bShape, outShape, out, n);
  return out;
}

/** `out[i] = f(a[..], b[..])` over any broadcast: the output walked with an index counter, innermost axis in a tight loop. */
function walk(
  f: Fn2,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
  out: TypedArray,
  n: number,
): void {
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const as = align(aShape, rank);
  const bs = align(bShape, rank);
  const aStr = stridesOf(as).map((s, i) => (as[i] === 1 ? 0 : s));
  const bStr = stridesOf(bs).map((s, i) => (bs[i] === 1 ? 0 : s));
  const last = rank - 1;
  const inner = outShape[last];
  const aIn = aStr[last];
  const bIn = bStr[last];
  const idx = new Array<number>(rank).fill(0);
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, ax = ai, bx = bi; j < inner; j++, ax += aIn, bx += bIn) out[o + j] = f(a[ax], b[bx]);
    // advance the counter over the outer axes
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ai += aStr[d];
      bi += bStr[d];
      if (idx[d] < outShape[d]) break;
      ai -= aStr[d] * idx[d];
      bi -= bStr[d] * idx[d];
      idx[d] = 0;
    }
  }
}

/** Index of each output element in a broadcast input, as a flat map (used by `where`). */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const s = align(shape, rank);
  const str = stridesOf(s).map((v, i) => (s[i] === 1 ? 0 : v));
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    map[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += str[d];
      if (idx[d] < outShape[d]) break;
      off -= str[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

/**
 * Whether an operand of `shape` broadcast to `outShape` repeats its values in order along the
 * output (leading axes of size 1, then the output's own trailing axes): a whole operand, one
 * value, or a row repeated (a mask `[L, S]` over `[N, H, L, S]`).
 */
function repeatsInOrder(shape: readonly number[], outShape: readonly number[]): boolean {
  const s = align(shape, outShape.length);
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  for (let j = i; j < s.length; j++) if (s[j] !== outShape[j]) return false;
  return true;
}

export function where(
  cond: TypedArray,
  cShape: readonly number[],
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  outShape: readonly number[],
  dtype: DType,
): TypedArray {
  const n = sizeOf(outShape);
  const out = newArray(dtype, n, false);
  if (n === 0) return out;
  // Operands that repeat in order are read through a wrapping position instead of an index map.
  const map = (shape: readonly number[]) => (repeatsInOrder(shape, outShape) ? null : broadcastIndex(shape, outShape));
  const ci = map(cShape);
  const ai = map(aShape);
  const bi = map(bShape);
  const cl = sizeOf(cShape);
  const al = sizeOf(aShape);
  const bl = sizeOf(bShape);
  if (ci === null && ai === null && bi === null) {
    for (let i = 0, jc = 0, ja = 0, jb = 0; i < n; i++) {
      out[i] = cond[jc] !== 0 ? a[ja] : b[jb];
      if (++jc === cl) jc = 0;
      if (++ja === al) ja = 0;
      if (++jb === bl) jb = 0;
    }
    return out;
  }
  for (let i = 0, jc = 0, ja = 0, jb = 0; i < n; i++) {
    const c = ci ? cond[ci[i]] : cond[jc];
    out[i] = c !== 0 ? (ai ? a[ai[i]] : a[ja]) : bi ? b[bi[i]] : b[jb];
    if (++jc === cl) jc = 0;
    if (++ja === al) ja = 0;
    if (++jb === bl) jb = 0;
  }
  return out;
}
