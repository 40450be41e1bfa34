import type { WasmRuntime } from './wasm/wasm-runtime.js';
import { newF32 } from './storage.js';

// Layer normalisation on the CPU: one definition in float64 steps, evaluated either by the loops
// below or by the WebAssembly kernels `layer_norm` / `layer_norm_bwd` (kernels.wat), which take the
// same steps in the same order (four running sums, over the columns j % 4 = 0 .. 3, are the lanes
// of two f64x2; a last pair of columns goes to the first two, a last column to the first; they add
// up as (s0 + s1) + (s2 + s3)), so both give the same bits. A missing weight or bias counts as ones
// or zeros.

/** Below this many values the loops are used: copying into the kernels' memory costs more. */
const WASM_MIN = 256;
/** Values per pass through the kernels' memory (whole rows; at least one row). */
const BLOCK = 1 << 14;

/**
 * Layer normalisation of each row of `x: [rows, cols]` (see the backend's `fused.layerNorm`):
 * per row the mean and the biased variance in float64 (two passes, each two running sums),
 * `rstd = 1 / sqrt(var + eps)`, then `((x - mean) * rstd) * weight + bias`. Returns the output
 * and each row's mean and rstd (float32), which the backward pass reuses.
 */
export function layerNormRows(
  x: Float32Array,
  weight: Float32Array | null,
  bias: Float32Array | null,
  rows: number,
  cols: number,
  eps: number,
  simd: WasmRuntime | null = null,
): [Float32Array, Float32Array, Float32Array] {
  // Every row's outputs and statistics are written below.
  const out = newF32(rows * cols, false);
  const means = newF32(rows, false);
  const rstds = newF32(rows, false);
  if (rows === 0 || cols === 0) return [out, means, rstds];
  const w = weight ?? new Float32Array(cols).fill(1);
  const b = bias ?? new Float32Array(cols);
  if (simd !== null && rows * cols >= WASM_MIN) {
    forwardWasm(simd, x, w, b, out, means, rstds, rows, cols, eps);
    return [out, means, rstds];
  }
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mean = rowSum(cols, (j) => x[o + j]) / cols;
    const rstd =
      1 /
      Math.sqrt(
        rowSum(cols, (j) => {
          const d = x[o + j] - mean;
          return d * d;
        }) /
          cols +
          eps,
      );
    means[r] = mean;
    rstds[r] = rstd;
    for (let i = 0; i < cols; i++) out[o + i] = (x[o + i] - mean) * rstd * w[i] + b[i];
  }
  return [out, means, rstds];
}

/**
 * The sum of `term(j)` over a row's `cols` columns in the kernels' order: four running sums over
 * the columns j % 4 = 0 .. 3, a last pair of columns to the first two and a last column to the
 * first, then (s0 + s1) + (s2 + s3).
 */
function rowSum(cols: number, term: (j: number) => number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < cols; j += 4) {
    s0 += term(j);
    s1 += term(j + 1);
    s2 += term(j + 2);
    s3 += term(j + 3);
  }
  if (j + 1 < cols) {
    s0 += term(j);
    s1 += term(j + 1);
    j += 2;
  }
  if (j < cols) s0 += term(j);
  return s0 + s1 + (s2 + s3);
}

/** Rows per pass through the kernels' memory. */
function rowsPerBlock(cols: number): number {
  return Math.max(1, Math.floor(BLOCK / cols));
}

function forwardWasm(
  rt: WasmRuntime,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  out: Float32Array,
  means: Float32Array,
  rstds: Float32Array,
  rows: number,
  cols: number,
  eps: number,
): void {
  const per = rowsPerBlock(cols);
  const block = Math.min(rows, per) * cols;
  // Layout in floats: w, b, x block, output block, means, rstds.
  const wAt = 0;
  const bAt = cols;
  const xAt = 2 * cols;
  const oAt = xAt + block;
  const mAt = oAt + block;
  const rAt = mAt + per;
  const mem = rt.heap(rAt + per);
  mem.set(w.subarray(0, cols), wAt);
  mem.set(b.subarray(0, cols), bAt);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    mem.set(x.subarray(r0 * cols, (r0 + n) * cols), xAt);
    rt.exports.layer_norm(xAt * 4, wAt * 4, bAt * 4, oAt * 4, mAt * 4, rAt * 4, n, cols, eps);
    out.set(mem.subarray(oAt, oAt + n * cols), r0 * cols);
    means.set(mem.subarray(mAt, mAt + n), r0);
    rstds.set(mem.subarray(rAt, rAt + n), r0);
  }
}

/**
 * The gradients of {@link layerNormRows} for `dy: [rows, cols]`, from the saved row means and
 * rstds. With `g = dy * weight` (or `dy`): `dx = rstd * (g - mean(g)) - ((x - mean) * m) * rstd`
 * where `m = mean(g * (x - mean)) * rstd^2`, per row; `dweight = sum over rows of
 * (dy * (x - mean)) * rstd` and `dbias = sum over rows of dy` in float64; each only where `needs`
 * holds.
 */
export function layerNormRowsBackward(
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array | null,
  means: Float32Array,
  rstds: Float32Array,
  rows: number,
  cols: number,
  needs: readonly [boolean, boolean, boolean],
  simd: WasmRuntime | null = null,
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const dx = needs[0] ? newF32(rows * cols) : null;
  const dw = needs[1] ? new Float64Array(cols) : null;
  const db = needs[2] ? new Float64Array(cols) : null;
  const w = weight ?? new Float32Array(cols).fill(1);
  if (simd !== null && rows * cols >= WASM_MIN) {
    backwardWasm(simd, dy, x, w, means, rstds, dx, dw, db, rows, cols);
  } else {
    for (let r = 0, o = 0; r < rows; r++, o += cols) {
      const mean = means[r];
      const rstd = rstds[r];
      if (dx !== null) {
        const mg = rowSum(cols, (j) => dy[o + j] * w[j]) / cols;
        const mgx = ((rowSum(cols, (j) => dy[o + j] * w[j] * (x[o + j] - mean)) * rstd) / cols) * rstd;
        for (let i = 0; i < cols; i++) dx[o + i] = rstd * (dy[o + i] * w[i] - mg) - (x[o + i] - mean) * mgx * rstd;
      }
      if (dw !== null) for (let j = 0; j < cols; j++) dw[j] += dy[o + j] * (x[o + j] - mean) * rstd;
      if (db !== null) for (let j = 0; j < cols; j++) db[j] += dy[o + j];
    }
  }
  return [dx, dw === null ? null : Float32Array.from(dw), db === null ? null : Float32Array.from(db)];
}

function backwardWasm(
  rt: WasmRuntime,
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  means: Float32Array,
  rstds: Float32Array,
  dx: Float32Array | null,
  dw: Float64Array | null,
  db: Float64Array | null,
  rows: number,
  cols: number,
): void {
  const per = rowsPerBlock(cols);
  const block = Math.min(rows, per) * cols;
  // Layout in floats: dw and db (float64, 8-byte aligned), w, dy block, x block, dx block, means, rstds.
  const dwAt = 0;
  const dbAt = 2 * cols;
  const wAt = 4 * cols;
  const dyAt = wAt + cols;
  const xAt = dyAt + block;
  const dxAt = xAt + block;
  const mAt = dxAt + block;
  const rAt = mAt + per;
  const mem = rt.heap(rAt + per);
  const acc = new Float64Array(mem.buffer, mem.byteOffset, 4 * cols);
  acc.fill(0);
  mem.set(w.subarray(0, cols), wAt);
  const needs = (dx !== null ? 1 : 0) | (dw !== null ? 2 : 0) | (db !== null ? 4 : 0);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    mem.set(dy.subarray(r0 * cols, (r0 + n) * cols), dyAt);
    mem.set(x.subarray(r0 * cols, (r0 + n) * cols), xAt);
    mem.set(means.subarray(r0, r0 + n), mAt);
    mem.set(rstds.subarray(r0, r0 + n), rAt);
    rt.exports.layer_norm_bwd(dyAt * 4, xAt * 4, wAt * 4, mAt * 4, rAt * 4, dxAt * 4, dwAt * 4, dbAt * 4, n, cols, needs);
    if (dx !== null) dx.set(mem.subarray(dxAt, dxAt + n * cols), r0 * cols);
  }
  if (dw !== null) dw.set(acc.subarray(0, cols));
  if (db !== null) db.set(acc.subarray(cols, 2 * cols));
}
