// The CPU layer norm: its WebAssembly kernels against its loops (the same bits), and both against
// the definition in float64.
import { describe, expect, it } from 'vitest';
import { layerNormRows, layerNormRowsBackward } from './layer-norm.js';
import { WasmRuntime, kernelModule } from './wasm/wasm-runtime.js';

/** Values in [-scale, scale) + shift from a small LCG. */
function values(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale + shift;
  }
  return out;
}

/** Same float32 values, NaN included, and the sign of zero. */
function expectSame(got: ArrayLike<number> | null, want: ArrayLike<number> | null, what: string): void {
  expect(got === null, `${what} present`).toBe(want === null);
  if (got === null || want === null) return;
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect(`${what}[${i}]: ${got[i]}`).toBe(`${what}[${i}]: ${want[i]}`);
  }
}

/** Layer norm of one row and its gradients, straight from the definition in float64. */
function reference(x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>, eps: number) {
  const n = x.length;
  let mean = 0;
  for (let j = 0; j < n; j++) mean += x[j] / n;
  let v = 0;
  for (let j = 0; j < n; j++) v += (x[j] - mean) ** 2 / n;
  const rstd = 1 / Math.sqrt(v + eps);
  const xh = Array.from(x, (t) => (t - mean) * rstd);
  const g = Array.from(dy, (t, j) => t * w[j]);
  const mg = g.reduce((a, t) => a + t, 0) / n;
  const mgx = g.reduce((a, t, j) => a + t * xh[j], 0) / n;
  return { y: xh.map((t, j) => t * w[j]), dx: g.map((t, j) => rstd * (t - mg - xh[j] * mgx)), dwRow: Array.from(dy, (t, j) => t * xh[j]) };
}

const module = kernelModule();

describe('CPU layer norm', () => {
  // Widths of every remainder mod 4 (the kernels' four running sums, then a pair and a single
  // column), rows past one pass through the kernels' memory (16,384 values), no affine.
  const cases: [number, number, boolean, boolean][] = [
    [64, 16, true, true],
    [33, 9, true, false],
    [50, 6, true, true],
    [41, 11, false, true],
    [90, 3, true, true],
    [7, 301, false, true],
    [300, 77, true, true],
    [1, 1000, false, false],
  ];
  for (const [rows, cols, hasW, hasB] of cases) {
    it(`[${rows}, ${cols}], weight ${hasW}, bias ${hasB}: the kernels give the loops' bits, forward and backward`, () => {
      if (module === null) return; // no WebAssembly SIMD in this engine
      const rt = new WasmRuntime(module);
      const x = values(rows * cols, rows + cols, 3, 0.5);
      const w = hasW ? values(cols, 5, 1, 1) : null;
      const b = hasB ? values(cols, 6) : null;
      const dy = values(rows * cols, 7);
      const loops = layerNormRows(x, w, b, rows, cols, 1e-5, null);
      const kernels = layerNormRows(x, w, b, rows, cols, 1e-5, rt);
      for (let i = 0; i < 3; i++) expectSame(kernels[i], loops[i], ['y', 'mean', 'rstd'][i]);
      for (const needs of [
        [true, true, true],
        [true, false, false],
        [false, true, false],
        [false, false, true],
      ] as const) {
        const a = layerNormRowsBackward(dy, x, w, loops[1], loops[2], rows, cols, needs, null);
        const k = layerNormRowsBackward(dy, x, w, loops[1], loops[2], rows, cols, needs, rt);
        for (let i = 0; i < 3; i++) expectSame(k[i], a[i], ['dx', 'dw', 'db'][i]);
      }
    });
  }

  it('sums each row in four running sums, a last pair to the first two, a last column to the first: kernels and loops alike, forward and backward', () => {
    // Rows where the order of float64 additions shows: 2^53 + 1 rounds back to 2^53.
    const big = 2 ** 53;
    const patterns: [number[], number][] = [
      // (2^53 + 1) + (-2^53 + 1) = 1.
      [[big, 1, -big, 1], 1 / 4],
      // Columns 4, 5 join sums 0 and 1: (0 + 2) + (1 + 1) = 4.
      [[big, 1, 1, 1, -big, 1], 4 / 6],
      // Column 6 joins sum 0 too: (1 + 2) + (1 + 1) = 5.
      [[big, 1, 1, 1, -big, 1, 1], 5 / 7],
    ];
    for (const [row, mean] of patterns) {
      const cols = row.length;
      const rows = 80; // 240 to 560 values: the kernels run from 256 on
      const x = Float32Array.from({ length: rows * cols }, (_, i) => row[i % cols]);
      const loops = layerNormRows(x, null, null, rows, cols, 1e-5, null);
      expect(loops[1][0]).toBe(Math.fround(mean));
      if (module === null) continue;
      const rt = new WasmRuntime(module);
      const kernels = layerNormRows(x, null, null, rows, cols, 1e-5, rt);
      for (let i = 0; i < 3; i++) expectSame(kernels[i], loops[i], ['y', 'mean', 'rstd'][i]);
      // The gradient's row sums of dy (and of dy * (x - mean)) in the same order.
      const a = layerNormRowsBackward(x, x, null, loops[1], loops[2], rows, cols, [true, false, false], null);
      const k = layerNormRowsBackward(x, x, null, loops[1], loops[2], rows, cols, [true, false, false], rt);
      expectSame(k[0], a[0], 'dx');
    }
  });

  it('matches the float64 definition, including rows whose mean is exactly 0', () => {
    const rows = 3;
    const cols = 4;
    // Row 0 has mean 0 and variance 1 (its sum must not be taken for its sum of squares).
    const x = Float32Array.from([-1, 1, -1, 1, 1, 2, 3, 4, 10, 10, 10, 14]);
    const w = Float32Array.from([1, 2, 0.5, -1]);
    const dy = Float32Array.from([0.3, -0.2, 0.1, 0.5, 1, 0, -1, 2, 0.25, 0.25, -0.5, 1]);
    for (const rt of [null, module === null ? null : new WasmRuntime(module)]) {
      // Past the kernels' threshold the same rows are repeated; check the first three.
      const reps = rt === null ? 1 : 64;
      const xs = new Float32Array(rows * cols * reps).map((_, i) => x[i % x.length]);
      const dys = new Float32Array(rows * cols * reps).map((_, i) => dy[i % dy.length]);
      const [y, mean, rstd] = layerNormRows(xs, w, null, rows * reps, cols, 1e-5, rt);
      const [dx, dw] = layerNormRowsBackward(dys, xs, w, mean, rstd, rows * reps, cols, [true, true, false], rt);
      const dwWant = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        const want = reference(x.subarray(r * cols, (r + 1) * cols), w, dy.subarray(r * cols, (r + 1) * cols), 1e-5);
        for (let j = 0; j < cols; j++) {
          expect(y[r * cols + j]).toBeCloseTo(want.y[j], 5);
          expect(dx![r * cols + j]).toBeCloseTo(want.dx[j], 4);
          dwWant[j] += want.dwRow[j] * reps;
        }
      }
      for (let j = 0; j < cols; j++) expect(dw![j]).toBeCloseTo(dwWant[j], 3);
      expect(y[0]).toBeCloseTo(-1, 4); // (x - 0) / sqrt(1 + eps) * w
    }
  });
});
