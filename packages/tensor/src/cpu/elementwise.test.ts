import { describe, expect, it } from 'vitest';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { TANH32_SMALL, expF32Full, expm1F32, gelu, geluGrad, log1pF32, logF32, sigmoidF32, tanhF32 } from '../backend/unary-ops.js';
import { cpuBackend } from './cpu-backend.js';

/** Values in [-2, 2) from a small LCG with a few special values mixed in. */
function values(n: number, seed: number, specials = false): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  if (specials && n > 8) out.set([0, -0, NaN, Infinity, -Infinity, 1e-40, -1e30, 3], n - 8);
  return out;
}

const arith: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

/** out[i] from the definition of broadcasting, one element at a time. */
function reference(op: string, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], outShape: number[]): Float32Array {
  const rank = outShape.length;
  const pad = (s: number[]): number[] => [...Array(rank - s.length).fill(1), ...s];
  const as = pad(aShape);
  const bs = pad(bShape);
  const n = outShape.reduce((x, y) => x * y, 1);
  const out = new Float32Array(n);
  const idx = Array(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let r = i;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = r % outShape[d];
      r = Math.floor(r / outShape[d]);
    }
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < rank; d++) {
      ai = ai * as[d] + (as[d] === 1 ? 0 : idx[d]);
      bi = bi * bs[d] + (bs[d] === 1 ? 0 : idx[d]);
    }
    out[i] = arith[op](a[ai], b[bi]);
  }
  return out;
}

/**
 * `n` values from a small LCG: uniform in `[-width/2, width/2)`, except every `every`-th, which is
 * uniform in `[-1/2, 1/2)` times 2^((i % periods) - shift) (tiny and huge magnitudes).
 */
function spread(n: number, seed: number, width: number, every: number, periods: number, shift: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    x[i] = i % every === 0 ? (u - 0.5) * 2 ** ((i % periods) - shift) : (u - 0.5) * width;
  }
  return x;
}

/** Same float32 values, NaN included, and the sign of zero. */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect(`${i}: ${got[i]}`).toBe(`${i}: ${want[i]}`);
  }
}

const backends = { simd: cpuBackend(), typescript: cpuBackend({ simd: false }) };

describe('float32 elementwise fast paths', () => {
  // Small sizes take the TypeScript loops; 2051 and up take the SIMD kernels (with a ragged tail).
  const patterns: [string, number[], number[]][] = [
    ['same shape', [3, 7], [3, 7]],
    ['same shape, large', [2051], [2051]],
    ['scalar right', [5, 9], [1]],
    ['scalar right, large', [64, 33], []],
    ['scalar left, large', [], [4099]],
    // Past WASM_BLOCK (2^14) values the kernels go through the heap in several blocks, the last one ragged.
    ['same shape, several heap blocks', [600_003], [600_003]],
    ['scalar right, several heap blocks', [600_003], []],
    ['row vector', [6, 5], [5]],
    ['row vector first', [1, 40], [60, 40]],
    // From 256 values a row vector is tiled into the heap once and goes through the same-shape kernels.
    ['row vector, large', [300, 64], [64]],
    ['row vector first, large', [7], [900, 7]],
    ['row vector, several heap blocks', [5000, 3, 13], [3, 13]],
    ['row vector longer than a heap block', [3, 20_001], [20_001]],
    ['column vector', [70, 33], [70, 1]],
    ['column vector first', [70, 1], [70, 33]],
  ];
  for (const [name, aShape, bShape] of patterns) {
    for (const op of ['add', 'sub', 'mul', 'div'] as BinaryOp[]) {
      it(`${op}: ${name}`, () => {
        const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);
        const outShape = aShape.length >= bShape.length && size(aShape) >= size(bShape) ? aShape : bShape;
        const a = values(size(aShape), 7, true);
        const b = values(size(bShape), 11, true);
        const want = reference(op, a, aShape, b, bShape, outShape);
        for (const be of Object.values(backends)) {
          expectSame(be.binary(op, a, aShape, 'float32', b, bShape, 'float32', outShape, 'float32'), want);
        }
      });
    }
  }

  const unaryRef: Partial<Record<UnaryOp, (x: number) => number>> = {
    neg: (x) => -x,
    abs: Math.abs,
    sqrt: Math.sqrt,
    square: (x) => x * x,
    relu: (x) => (x <= 0 ? 0 : x), // NaN stays NaN, as in PyTorch
    step: (x) => (x > 0 ? 1 : 0),
    exp: expF32Full,
    sigmoid: sigmoidF32,
    tanh: tanhF32,
    log: logF32,
    expm1: expm1F32,
    log1p: log1pF32,
  };
  for (const [op, f] of Object.entries(unaryRef) as [UnaryOp, (x: number) => number][]) {
    for (const n of [13, 4097, 600_003]) {
      it(`${op} on ${n} values`, () => {
        const x = values(n, 3, true);
        const want = Float32Array.from(x, f);
        for (const be of Object.values(backends)) expectSame(be.unary(op, x, n, 'float32'), want);
      });
    }
  }

  // The SIMD GELU kernel evaluates the same float32 steps as the TypeScript definitions: the same
  // bits on every piece of erf (|x| / sqrt 2 below 1, 1-2, 2-3, 3-3.92, above), the tails, the edges.
  for (const op of ['gelu', 'geluGrad'] as const) {
    it(`${op}: both CPU backends give the bits of the definition (gelu on the SIMD kernel)`, () => {
      // Spread over [-9, 9] with many values near the pieces' ends, and tiny and huge ones.
      const n = 400_003;
      const x = spread(n, 12345, 18, 7, 61, 30);
      const edges = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3e38, -3e38, -5, -5.9, -6, -150, 150];
      for (const b of [1, 2, 3, 3.92])
        for (const sign of [1, -1]) for (const d of [-1, 0, 1]) edges.push(sign * b * Math.SQRT2 * (1 + d * 2 ** -23));
      x.set(edges, n - edges.length);
      const f = op === 'gelu' ? gelu : geluGrad;
      const want = Float32Array.from(x, f);
      for (const be of Object.values(backends)) expectSame(be.unary(op, x, n, 'float32'), want);
    });
  }

  // exp, sigmoid, tanh, log, expm1 and log1p run in float32 steps (expF32Full, sigmoidF32, tanhF32,
  // logF32, expm1F32, log1pF32), on the SIMD kernels four lanes at a time: the same bits on both
  // backends over the whole float32 range, at the ends of the exponential's range (Infinity from
  // e^88.73, subnormals below e^-87.34, 0 below e^-103.98), at tanh's switch between its two forms,
  // at the logarithm's subnormal inputs and the ends of its mantissa range (sqrt(1/2), sqrt(2)), at
  // expm1's and log1p's switches, at ±0, ±Infinity, NaN.
  for (const op of ['exp', 'sigmoid', 'tanh', 'log', 'expm1', 'log1p'] as const) {
    it(`${op}: both CPU backends give the bits of the float32 definition (on the SIMD kernel)`, () => {
      const n = 300_007;
      const x = spread(n, 777, 220, 5, 67, 40);
      const edges = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3e38, -3e38, 88.72283, 88.72284, 88.7229, -87.33654];
      edges.push(-87.34, -100, -103.97, -103.98, -104, -105, TANH32_SMALL, -TANH32_SMALL, 0.62499994, -0.62499994, 9.01, -9.02);
      edges.push(1, 2 ** -149, 2 ** -126, 2 ** -126 * 0.99999994, 1.4142135, 1.4142137, 0.70710677, 0.7071067, 3.4028235e38);
      // expm1's and log1p's switches: 2^-24, k = ±24 and 25 (y near ±17), u = 1 + x near 2^24, x = -1.
      edges.push(2 ** -24, -(2 ** -24), 2 ** -24 * 0.99999994, 16.9, 17.5, -16.9, -17.5, 16777215, 16777216, -1, -0.99999994);
      x.set(edges, n - edges.length);
      // log: the same spread of magnitudes, positive but for the edges.
      if (op === 'log') for (let i = 0; i < n - edges.length; i++) x[i] = Math.abs(x[i]);
      const f = { exp: expF32Full, sigmoid: sigmoidF32, tanh: tanhF32, log: logF32, expm1: expm1F32, log1p: log1pF32 }[op];
      const want = Float32Array.from(x, f);
      for (const be of Object.values(backends)) expectSame(be.unary(op, x, n, 'float32'), want);
    });
  }

  // The float32 definitions against float64 Math.exp, the exact sigmoid, Math.tanh and Math.log, in
  // float32 ulps of the exact value (a correctly rounded result is within 0.5): a dense sweep of each
  // op's range (for log, of the exponents of all positive float32 and densely around 1), and every
  // power of two from 2^-149 (both signs but for log) times 1, 1.37 and 1.9999.
  const exact = {
    exp: Math.exp,
    sigmoid: (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    tanh: Math.tanh,
    log: Math.log,
    expm1: Math.expm1,
    log1p: Math.log1p,
  };
  const bounds = {
    exp: [1.1, -110, 90],
    sigmoid: [2.5, -110, 20],
    tanh: [1.5, -10, 10],
    log: [1, 0.5, 2],
    expm1: [2, -2, 2],
    log1p: [2, -0.99999, 3],
  } as const;
  for (const op of ['exp', 'sigmoid', 'tanh', 'log', 'expm1', 'log1p'] as const) {
    it(`${op}: the float32 definition is within ${bounds[op][0]} ulps of the exact value`, () => {
      const f = { exp: expF32Full, sigmoid: sigmoidF32, tanh: tanhF32, log: logF32, expm1: expm1F32, log1p: log1pF32 }[op];
      const [limit, lo, hi] = bounds[op];
      const xs: number[] = [];
      const steps = 400_000;
      for (let i = 0; i < steps; i++) xs.push(Math.fround(lo + ((hi - lo) * (i + 0.5)) / steps));
      if (op === 'log' || op === 'log1p') for (let i = 0; i < steps; i++) xs.push(Math.fround(2 ** (-149 + (277 * (i + 0.5)) / steps)));
      if (op === 'expm1') for (let i = 0; i < steps; i++) xs.push(Math.fround(-110 + (200 * (i + 0.5)) / steps));
      for (let e = -149; e < (op === 'log' || op === 'log1p' ? 128 : 7); e++)
        for (const m of [1, 1.37, 1.9999]) {
          xs.push(Math.fround(m * 2 ** e));
          if (op !== 'log' && !(op === 'log1p' && m * 2 ** e >= 1)) xs.push(Math.fround(-m * 2 ** e));
        }
      let worst = 0;
      let at = 0;
      for (const x of xs) {
        if (!Number.isFinite(x)) continue;
        const want = exact[op](x);
        const got = f(x);
        if (got === Math.fround(want)) continue;
        // The float32 step at the exact value (the subnormal step below 2^-126).
        const ulp = 2 ** Math.max(Math.floor(Math.log2(Math.abs(want))) - 23, -149);
        const d = Math.abs(got - want) / ulp;
        if (!(d <= worst)) [worst, at] = [d, x];
      }
      expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(limit);
    });
  }
  it('exp, sigmoid, tanh, log, expm1 and log1p at their special values, as PyTorch gives them', () => {
    const x = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 88.73, -90, -104, 1e-30, -1e-30]);
    const f32 = Math.fround;
    expectSame(Float32Array.from(x, expF32Full), [1, 1, Infinity, 0, NaN, Infinity, f32(Math.exp(-90)), 0, 1, 1]);
    expectSame(Float32Array.from(x, sigmoidF32), [0.5, 0.5, 1, 0, NaN, 1, f32(Math.exp(-90)), 0, 0.5, 0.5]);
    expectSame(Float32Array.from(x, tanhF32), [0, -0, 1, -1, NaN, 1, -1, -1, f32(1e-30), f32(-1e-30)]);
    expectSame(Float32Array.from(x, logF32), [
      -Infinity,
      -Infinity,
      Infinity,
      NaN,
      NaN,
      f32(Math.log(f32(88.73))),
      NaN,
      NaN,
      f32(Math.log(f32(1e-30))),
      NaN,
    ]);
    expectSame(Float32Array.from([1, 2 ** -149, 3.4028234663852886e38], logF32), [
      0,
      f32(-149 * Math.LN2),
      f32(Math.log(3.4028234663852886e38)),
    ]);
  });

  // The fused GELU saves its derivative for the gradient: the forward gives gelu's bits and
  // geluGrad's, the backward dy * geluGrad(x) to the bit (a float32 product of dy and geluGrad's
  // float32 value). Values past ±5.7, where Φ is 0 or 1, and NaN and ±Infinity included.
  for (const n of [13, 4099, 40_003]) {
    it(`fused GELU forward and backward on ${n} values: the bits of gelu, geluGrad and dy * geluGrad`, () => {
      const x = values(n, 17, true).map((v, i) => (i % 3 === 0 ? v * 4 : v));
      x[1] = Number.NaN;
      x[2] = Infinity;
      x[5] = -Infinity;
      x[7] = -12;
      const dy = values(n, 19);
      const y = Float32Array.from(x, gelu);
      const grad = Float32Array.from(x, geluGrad);
      const dx = Float32Array.from(x, (v, i) => dy[i] * Math.fround(geluGrad(v)));
      for (const be of Object.values(backends)) {
        const [gy, gg] = be.fused!.geluForward!(x, n);
        expectSame(gy, y);
        expectSame(gg, grad);
        expectSame(be.fused!.geluBackward!(dy, gg, n), dx);
      }
    });
  }

  // Softmax runs in float32 steps, on the SIMD kernel four lanes at a time from 256 values: both
  // give the same bits for rows of every length (whole vectors and a ragged end), rows of -Infinity,
  // NaN and huge values, and both stay within a few float32 ulps of the exact softmax of x - max.
  for (const cols of [1, 3, 4, 5, 16, 27, 1000]) {
    it(`softmax of rows of ${cols}: the same bits on both CPU backends, close to the float64 values`, () => {
      const rows = Math.ceil(3000 / cols);
      const x = values(rows * cols, cols).map((v, i) => (i % 5 === 0 ? v * 20 : v));
      if (rows > 3) {
        x.fill(-Infinity, 0, cols); // a row of -Infinity: NaN, as PyTorch
        x[cols] = Number.NaN; // a NaN makes its row NaN
        x[2 * cols] = 3e38;
      }
      const [simd, ts] = [backends.simd, backends.typescript].map((be) => be.fused!.softmax!(x, rows, cols) as Float32Array);
      expectSame(simd, ts);
      let worst = 0;
      for (let r = 3; r < rows; r++) {
        const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
        const mx = Math.max(...row);
        // x - max rounded to float32 (as PyTorch's float32 kernel rounds it too), the rest exact.
        const e = row.map((v) => Math.exp(Math.fround(v - mx)));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < cols; j++) {
          const want = e[j] / sum;
          if (want > 1e-30) worst = Math.max(worst, Math.abs(ts[r * cols + j] - want) / want);
        }
      }
      expect(worst).toBeLessThan(4 * 2 ** -23);
      if (rows > 3) {
        expect(Array.from(ts.subarray(0, 2 * cols)).every((v) => Number.isNaN(v))).toBe(true);
        expect(ts[2 * cols]).toBe(1);
      }
    });
  }

  // Log-softmax: the row's max and sum of e^(x - max) in float32 steps (on the SIMD kernel from 256
  // values, the same bits both ways), the log in float64: within a few float32 ulps of the exact
  // values; a row of -Infinity and a row with NaN are NaN, as PyTorch.
  for (const cols of [1, 3, 4, 5, 16, 27, 1000]) {
    it(`log-softmax of rows of ${cols}: the same bits on both CPU backends, close to the float64 values`, () => {
      const rows = Math.ceil(3000 / cols);
      const x = values(rows * cols, cols + 3).map((v, i) => (i % 5 === 0 ? v * 20 : v));
      if (rows > 3) {
        x.fill(-Infinity, 0, cols);
        x[cols] = Number.NaN;
        x[2 * cols] = 3e38;
      }
      const [simd, ts] = [backends.simd, backends.typescript].map((be) => be.fused!.logSoftmax!(x, rows, cols) as Float32Array);
      expectSame(simd, ts);
      for (let r = rows > 3 ? 2 : 0; r < rows; r++) {
        const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
        const mx = Math.max(...row);
        const ls = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        for (let j = 0; j < cols; j++) {
          const want = row[j] - ls;
          expect(Math.abs(ts[r * cols + j] - want), `[${r}, ${j}]`).toBeLessThan(4 * 2 ** -23 * Math.max(1, Math.abs(want), Math.abs(ls)));
        }
      }
      if (rows > 3) expect(Array.from(ts.subarray(0, 2 * cols)).every((v) => Number.isNaN(v))).toBe(true);
    });
  }

  // The gradients of softmax and log-softmax: float32 steps, on the SIMD kernels from 256 values; the
  // same bits both ways for rows of every length and across heap blocks (rows of 1000, 3000 values),
  // within float32 rounding of the float64 formula, NaN kept.
  for (const cols of [1, 3, 4, 5, 16, 27, 1000]) {
    it(`softmax and log-softmax gradients of rows of ${cols}: the same bits on both CPU backends, close to float64`, () => {
      const rows = Math.ceil(3000 / cols);
      const x = values(rows * cols, cols + 7).map((v) => v * 3);
      const dy = values(rows * cols, cols + 11);
      if (rows > 3) dy[cols] = Number.NaN;
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const y = backends.simd.fused![op]!(x, rows, cols) as Float32Array;
        const grad = op === 'softmax' ? 'softmaxBackward' : 'logSoftmaxBackward';
        const [simd, ts] = [backends.simd, backends.typescript].map((be) => be.fused![grad]!(dy, y, rows, cols) as Float32Array);
        expectSame(simd, ts);
        for (let r = 0; r < rows; r++) {
          const o = r * cols;
          let s = 0;
          for (let j = 0; j < cols; j++) s += op === 'softmax' ? dy[o + j] * y[o + j] : dy[o + j];
          for (let j = 0; j < cols; j++) {
            const want = op === 'softmax' ? y[o + j] * (dy[o + j] - s) : dy[o + j] - Math.exp(y[o + j]) * s;
            const got = ts[o + j];
            if (r === 1 && rows > 3) expect(Number.isNaN(got), `${op} row with a NaN`).toBe(true);
            else
              expect(Math.abs(got - want), `${op} [${r}, ${j}]: ${got} vs ${want}`).toBeLessThan(
                1e-5 * (1 + Math.abs(want)) * Math.max(1, cols / 16),
              );
          }
        }
      }
    });
  }

  // Column sums (a bias gradient: [rows, cols] summed over rows) run on the float64 SIMD kernel from
  // 4096 values with an even number of columns: the bits of the TypeScript loop, whose order it keeps
  // (four rows at a time, then the rest), across heap blocks and with several outer blocks.
  for (const [shape, axes] of [
    [[512, 256], [0]],
    [
      [32, 16, 64],
      [0, 1],
    ],
    [[3, 1001, 6], [1]],
    [[7, 40_000, 2], [1]],
    [[4099, 3], [0]],
    [[3, 1500], [0]],
    [[2, 5, 512], [1]],
  ] as [number[], number[]][]) {
    it(`sum of [${shape}] over axes [${axes}]: the same bits on both CPU backends`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = values(n, n % 97, true).map((v, i) => (i % 7 === 0 ? v * 1e6 : v));
      const [simd, ts] = [backends.simd, backends.typescript].map((be) => be.reduce('sum', x, shape, axes, 'float32'));
      expectSame(simd, ts);
    });
  }

  it('fused cross-entropy: loss and gradient of logits near 1e4 as the float64 softmax gives them', () => {
    // Logits near 1e4, where a float32 log-sum-exp is off by about 1e-3.
    const rows = 3;
    const cols = 6;
    const x = Float32Array.from({ length: rows * cols }, (_, i) => 1e4 + (i % cols) * 0.37 - Math.floor(i / cols) * 2);
    const labels = Int32Array.of(4, 0, 5);
    const be = backends.simd;
    const [loss, lse] = be.fused!.crossEntropy!(x, labels, rows, cols, -100, 'none') as [Float32Array, Float32Array];
    const grad = be.fused!.crossEntropyBackward!(Float32Array.of(1, 1, 1), x, labels, lse, rows, cols, -100, 'none') as Float32Array;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
      const mx = Math.max(...row);
      const sum = row.reduce((a, v) => a + Math.exp(v - mx), 0);
      expect(loss[r]).toBeCloseTo(Math.log(sum) + mx - row[labels[r]], 5);
      for (let j = 0; j < cols; j++) {
        const want = Math.exp(row[j] - mx) / sum - (j === labels[r] ? 1 : 0);
        expect(Math.abs(grad[r * cols + j] - want)).toBeLessThan(1e-7);
      }
    }
  });

  it('leaves int32 arithmetic exact', () => {
    const a = Int32Array.from({ length: 3000 }, (_, i) => i * 7 - 5000);
    const b = Int32Array.from({ length: 3000 }, (_, i) => 3 - i);
    for (const be of Object.values(backends)) {
      const got = be.binary('mul', a, [3000], 'int32', b, [3000], 'int32', [3000], 'int32');
      expect(got).toBeInstanceOf(Int32Array);
      expectSame(
        got,
        Int32Array.from(a, (v, i) => v * b[i]),
      );
    }
  });

  it('wraps int32 products, powers and squares to 32 bits as PyTorch does', () => {
    // torch.tensor(a, dtype=torch.int32) * b, .pow(b), .square(): the products past 2^53 included.
    const a = Int32Array.of(2147483647, -2147483648, 65536, 46341, -7, 3);
    const b = Int32Array.of(2147483647, -1, 65536, 46341, 3, 21);
    const mul = [1, -2147483648, 0, -2147479015, -21, 63];
    const pow = [2147483647, 0, 0, -1732435659, -343, 1870418611];
    const square = [1, 0, 0, -2147479015, 49, 9];
    for (const be of Object.values(backends)) {
      expectSame(be.binary('mul', a, [6], 'int32', b, [6], 'int32', [6], 'int32'), Int32Array.from(mul));
      expectSame(be.binary('pow', a, [6], 'int32', b, [6], 'int32', [6], 'int32'), Int32Array.from(pow));
      expectSame(be.unary('square', a, 6, 'int32'), Int32Array.from(square));
      // A broadcast scalar and a broadcast row take the same wrapping.
      const col = be.binary('mul', a, [3, 2], 'int32', Int32Array.of(2147483647), [], 'int32', [3, 2], 'int32');
      expectSame(
        col,
        Int32Array.from(a, (v) => Math.imul(v, 2147483647)),
      );
      const row = be.binary('pow', Int32Array.of(2147483647, 3), [2, 1], 'int32', Int32Array.of(2, 3), [2], 'int32', [2, 2], 'int32');
      expectSame(row, Int32Array.of(1, 2147483647, 9, 27));
    }
  });
});

describe('float32 kernels on subnormal inputs (their exact double-precision path)', () => {
  /**
   * `n` values mixing, pair of vectors by pair, runs of subnormals (the last few, which a scale by 0.9
   * rounds back to themselves, and random ones), single subnormal lanes among ordinary values, zeros
   * of both signs, the smallest normals, and ordinary values; NaN and infinities near the end.
   */
  function subnormalMix(n: number, seed: number): Float32Array {
    const out = new Float32Array(n);
    const bits = new Uint32Array(out.buffer);
    let s = seed >>> 0;
    const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < n; i += 8) {
      const kind = next() % 4;
      for (let j = i; j < Math.min(n, i + 8); j++) {
        const r = next();
        if (kind === 0) bits[j] = r % 3 === 0 ? 1 + (r % 4) : 1 + (r % 0x7fffff);
        else if (kind === 1) out[j] = j === i + (r % 8) ? 2 ** -140 : (r / 2 ** 32) * 4 - 2;
        else if (kind === 2) out[j] = [0, -0, 2 ** -126, 1.5 * 2 ** -126][r % 4];
        else out[j] = (r / 2 ** 32) * 4 - 2;
        if (r % 2 === 1) out[j] = -out[j];
      }
    }
    if (n > 8) out.set([NaN, Infinity, -Infinity, 2 ** -149], n - 12);
    return out;
  }
  const f = Math.fround;
  const scalars: [string, (x: number, s: number) => number, 'right' | 'left'][] = [
    ['mul', (x, s) => x * s, 'right'],
    ['div', (x, s) => x / s, 'right'],
    ['div', (x, s) => s / x, 'left'],
  ];
  for (const n of [4099, 40_007])
    for (const [op, ref, side] of scalars)
      for (const s of [0.9, 3, 2 ** -20])
        it(`${op} by the scalar ${s} on the ${side}, ${n} values: the bits of the float64 operation rounded to float32`, () => {
          const x = subnormalMix(n, n + s);
          const want = Float32Array.from(x, (v) => f(ref(v, f(s))));
          const sv = Float32Array.of(s);
          for (const be of Object.values(backends)) {
            const got =
              side === 'right'
                ? be.binary(op as BinaryOp, x, [n], 'float32', sv, [], 'float32', [n], 'float32')
                : be.binary(op as BinaryOp, sv, [], 'float32', x, [n], 'float32', [n], 'float32');
            expectSame(got, want);
          }
        });
  for (const [op, ref] of [
    ['sqrt', Math.sqrt],
    ['square', (x: number) => x * x],
  ] as [UnaryOp, (x: number) => number][])
    it(`${op} on 40007 values: the bits of the float64 operation rounded to float32`, () => {
      const x = subnormalMix(40_007, 5);
      const want = Float32Array.from(x, (v) => f(ref(v)));
      for (const be of Object.values(backends)) expectSame(be.unary(op, x, x.length, 'float32'), want);
    });

  it('keeps a momentum buffer at its last subnormals as float32 arithmetic does (0.9 m rounds back to m)', () => {
    const m = Float32Array.from({ length: 4096 }, (_, i) => ((i % 4) + 1) * 2 ** -149);
    for (const be of Object.values(backends))
      expectSame(be.binary('mul', m, [4096], 'float32', Float32Array.of(0.9), [], 'float32', [4096], 'float32'), m);
  });
});

describe('where', () => {
  /** out[i] from each operand's own position, as broadcasting defines it (no fast path). */
  function reference(cond: Int32Array, cs: number[], a: Float32Array, as: number[], b: Float32Array, bs: number[], os: number[]) {
    const n = os.reduce((p, d) => p * d, 1);
    const at = (shape: number[], i: number) => {
      const s = [...Array<number>(os.length - shape.length).fill(1), ...shape];
      let off = 0;
      let rest = i;
      const idx = os.map(() => 0);
      for (let d = os.length - 1; d >= 0; d--) {
        idx[d] = rest % os[d];
        rest = Math.floor(rest / os[d]);
      }
      for (let d = 0; d < os.length; d++) off = off * s[d] + (s[d] === 1 ? 0 : idx[d]);
      return off;
    };
    return Float32Array.from({ length: n }, (_, i) => (cond[at(cs, i)] !== 0 ? a[at(as, i)] : b[at(bs, i)]));
  }

  // Operands whole, one value, a row repeated (the attention mask), and broadcasts that need an index map.
  const cases: [number[], number[], number[]][] = [
    [[4, 5], [2, 3, 4, 5], []],
    [[2, 3, 4, 5], [1], [5]],
    [
      [2, 1, 4, 5],
      [2, 3, 4, 5],
      [3, 1, 1],
    ],
    [
      [3, 1],
      [1, 7],
      [3, 7],
    ],
    [[], [6], [2, 6]],
    [[0, 3], [3], [1, 3]],
  ];
  /** The shape the three broadcast to. */
  const outOf = (...shapes: number[][]) => {
    const r = Math.max(...shapes.map((x) => x.length));
    return Array.from({ length: r }, (_, i) => {
      const dims = shapes.map((x) => x[i - (r - x.length)] ?? 1);
      return dims.includes(0) ? 0 : Math.max(...dims);
    });
  };
  for (const [cs, as, bs] of cases) {
    const os = outOf(cs, as, bs);
    it(`${JSON.stringify(cs)} ? ${JSON.stringify(as)} : ${JSON.stringify(bs)} -> ${JSON.stringify(os)}`, () => {
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      const cond = Int32Array.from(values(size(cs), 3), (v) => (v > 0 ? 1 : 0));
      const a = values(size(as), 5);
      const b = values(size(bs), 7);
      const got = backends.simd.where(cond, cs, a, as, b, bs, os, 'float32') as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(reference(cond, cs, a, as, b, bs, os)));
    });
  }
});
