/**
 * Layer normalisation of each row of `x: [rows, cols]` (see the backend's `fused.layerNorm`):
 * per row the mean and the biased variance in float64 (two passes), `rstd = 1 / sqrt(var + eps)`,
 * then `(x - mean) * rstd * weight + bias` in one pass. Returns the output and each row's mean
 * and rstd (float32), which the backward pass reuses.
 */
export function layerNormRows(
  x: Float32Array,
  weight: Float32Array | null,
  bias: Float32Array | null,
  rows: number,
  cols: number,
  eps: number,
): [Float32Array, Float32Array, Float32Array] {
  const out = new Float32Array(rows * cols);
  const means = new Float32Array(rows);
  const rstds = new Float32Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mean = sumRow(x, o, cols, 0) / cols;
    const rstd = 1 / Math.sqrt(sumRow(x, o, cols, mean) / cols + eps);
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
 * The sum of `x[o..o+cols)` in float64 when `centre` is 0, else the sum of `(x - centre)^2`:
 * four running sums, so the additions overlap instead of waiting on one another.
 */
function sumRow(x: Float32Array, o: number, cols: number, centre: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  if (centre === 0) {
    for (; j + 3 < cols; j += 4) {
      s0 += x[o + j];
      s1 += x[o + j + 1];
      s2 += x[o + j + 2];
      s3 += x[o + j + 3];
    }
    for (; j < cols; j++) s0 += x[o + j];
  } else {
    for (; j + 3 < cols; j += 4) {
      const d0 = x[o + j] - centre;
      const d1 = x[o + j + 1] - centre;
      const d2 = x[o + j + 2] - centre;
      const d3 = x[o + j + 3] - centre;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; j < cols; j++) {
      const d = x[o + j] - centre;
      s0 += d * d;
    }
  }
  return s0 + s1 + (s2 + s3);
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
  weight: Float32Array | null,
  means: Float32Array,
  rstds: Float32Array,
  rows: number,
  cols: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const dx = needs[0] ? new Float32Array(rows * cols) : null;
  const dw = needs[1] ? new Float64Array(cols) : null;
  const db = needs[2] ? new Float64Array(cols) : null;
  // g = dy * weight, per row (or dy itself).
  const g = weight === null ? null : new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mean = means[r];
    const rstd = rstds[r];
    if (dx !== null) {
      let sg0 = 0;
      let sg1 = 0;
      let sx0 = 0;
      let sx1 = 0;
      let j = 0;
      if (g !== null) {
        for (let i = 0; i < cols; i++) g[i] = dy[o + i] * weight![i];
        for (; j + 1 < cols; j += 2) {
          sg0 += g[j];
          sg1 += g[j + 1];
          sx0 += g[j] * (x[o + j] - mean);
          sx1 += g[j + 1] * (x[o + j + 1] - mean);
        }
        for (; j < cols; j++) {
          sg0 += g[j];
          sx0 += g[j] * (x[o + j] - mean);
        }
      } else {
        for (; j + 1 < cols; j += 2) {
          sg0 += dy[o + j];
          sg1 += dy[o + j + 1];
          sx0 += dy[o + j] * (x[o + j] - mean);
          sx1 += dy[o + j + 1] * (x[o + j + 1] - mean);
        }
        for (; j < cols; j++) {
          sg0 += dy[o + j];
          sx0 += dy[o + j] * (x[o + j] - mean);
        }
      }
      const mg = (sg0 + sg1) / cols;
      // mean(g * xh) * rstd, with xh = (x - mean) * rstd
      const mgx = (((sx0 + sx1) * rstd) / cols) * rstd;
      if (g !== null) for (let i = 0; i < cols; i++) dx[o + i] = rstd * (g[i] - mg) - (x[o + i] - mean) * mgx * rstd;
      else for (let i = 0; i < cols; i++) dx[o + i] = rstd * (dy[o + i] - mg) - (x[o + i] - mean) * mgx * rstd;
    }
    if (dw !== null) for (let j = 0; j < cols; j++) dw[j] += dy[o + j] * (x[o + j] - mean) * rstd;
    if (db !== null) for (let j = 0; j < cols; j++) db[j] += dy[o + j];
  }
  return [dx, dw === null ? null : Float32Array.from(dw), db === null ? null : Float32Array.from(db)];
}
