import type { TypedArray } from '../dtype.js';

/**
 * Layer normalisation of each row of `x: [rows, cols]` (see the backend's `fused.layerNorm`):
 * per row the mean and the biased variance in float64 (two passes), `rstd = 1 / sqrt(var + eps)`,
 * then `(x - mean) * rstd * weight + bias` in one pass. Returns the output and each row's mean
 * and rstd (float32), which the backward pass reuses.
 */
export function layerNormRows(
  x: Float32Array,
  weight: TypedArray | null,
  bias: TypedArray | null,
  rows: number,
  cols: number,
  eps: number,
): [Float32Array, Float32Array, Float32Array] {
  const out = new Float32Array(rows * cols);
  const means = new Float32Array(rows);
  const rstds = new Float32Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[o + j];
    const mean = s / cols;
    let v = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[o + j] - mean;
      v += d * d;
    }
    const rstd = 1 / Math.sqrt(v / cols + eps);
    means[r] = mean;
    rstds[r] = rstd;
    if (weight !== null && bias !== null) for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mean) * rstd * weight[j] + bias[j];
    else if (weight !== null) for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mean) * rstd * weight[j];
    else if (bias !== null) for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mean) * rstd + bias[j];
    else for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mean) * rstd;
  }
  return [out, means, rstds];
}

/**
 * The gradients of {@link layerNormRows} for `dy: [rows, cols]`, from the saved row means and
 * rstds. With `xh = (x - mean) * rstd` and `g = dy * weight` (or `dy`):
 * `dx = rstd * (g - mean(g) - xh * mean(g * xh))` per row, `dweight = sum over rows of dy * xh`,
 * `dbias = sum over rows of dy`; each only where `needs` holds (float64 sums).
 */
export function layerNormRowsBackward(
  dy: Float32Array,
  x: Float32Array,
  weight: TypedArray | null,
  means: TypedArray,
  rstds: TypedArray,
  rows: number,
  cols: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const dx = needs[0] ? new Float32Array(rows * cols) : null;
  const dw = needs[1] ? new Float64Array(cols) : null;
  const db = needs[2] ? new Float64Array(cols) : null;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mean = means[r];
    const rstd = rstds[r];
    if (dx !== null) {
      let sg = 0;
      let sgx = 0;
      for (let j = 0; j < cols; j++) {
        const g = weight === null ? dy[o + j] : dy[o + j] * weight[j];
        sg += g;
        sgx += g * (x[o + j] - mean) * rstd;
      }
      const mg = sg / cols;
      const mgx = sgx / cols;
      for (let j = 0; j < cols; j++) {
        const g = weight === null ? dy[o + j] : dy[o + j] * weight[j];
        dx[o + j] = rstd * (g - mg - (x[o + j] - mean) * rstd * mgx);
      }
    }
    if (dw !== null) for (let j = 0; j < cols; j++) dw[j] += dy[o + j] * (x[o + j] - mean) * rstd;
    if (db !== null) for (let j = 0; j < cols; j++) db[j] += dy[o + j];
  }
  return [dx, dw === null ? null : Float32Array.from(dw), db === null ? null : Float32Array.from(db)];
}
