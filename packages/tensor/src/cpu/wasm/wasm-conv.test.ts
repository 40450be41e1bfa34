import { describe, expect, it } from 'vitest';
import type { Window2d } from '../../backend/backend.js';
import { maxPool2d } from '../pool.js';
import { col2im, im2col } from '../window.js';
import { setConvCallFloats, wasmConv2d, wasmConv2dBackward, wasmConv2dReluPool, wasmConv2dReluPoolBackward } from './wasm-conv.js';
import { DATA_AT, WasmRuntime, kernelModule } from './wasm-runtime.js';
import { values } from './__fixtures__/values.js';

function windowOf(
  n: number,
  c: number,
  h: number,
  w: number,
  k: [number, number],
  stride: [number, number],
  pad: [number, number],
): Window2d {
  return {
    n,
    c,
    h,
    w,
    kh: k[0],
    kw: k[1],
    strideH: stride[0],
    strideW: stride[1],
    padH: pad[0],
    padW: pad[1],
    outH: Math.floor((h + 2 * pad[0] - k[0]) / stride[0]) + 1,
    outW: Math.floor((w + 2 * pad[1] - k[1]) / stride[1]) + 1,
  };
}

/**
 * The convolution and its three gradients in float64, straight from the definition
 * y[b,o,oy,ox] = bias[o] + sum_{ch,ki,kj} x[b,ch,oy*sh-ph+ki,ox*sw-pw+kj] w[o,ch,ki,kj].
 */
function reference(x: Float32Array, wt: Float32Array, bias: Float32Array, dy: Float32Array, win: Window2d, outC: number) {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const y = new Float64Array(n * outC * outH * outW);
  const dx = new Float64Array(n * c * h * w);
  const dw = new Float64Array(outC * c * kh * kw);
  const db = new Float64Array(outC);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outC; o++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const yi = ((b * outC + o) * outH + oy) * outW + ox;
          let s = bias[o];
          const g = dy[yi];
          db[o] += g;
          for (let ch = 0; ch < c; ch++) {
            for (let ki = 0; ki < kh; ki++) {
              const iy = oy * strideH - padH + ki;
              if (iy < 0 || iy >= h) continue;
              for (let kj = 0; kj < kw; kj++) {
                const ix = ox * strideW - padW + kj;
                if (ix < 0 || ix >= w) continue;
                const xi = ((b * c + ch) * h + iy) * w + ix;
                const wi = ((o * c + ch) * kh + ki) * kw + kj;
                s += x[xi] * wt[wi];
                dx[xi] += g * wt[wi];
                dw[wi] += g * x[xi];
              }
            }
          }
          y[yi] = s;
        }
      }
    }
  }
  return { y, dx, dw, db };
}

function expectClose(got: Float32Array | null, want: Float64Array, what: string, tol = 1e-5): void {
  expect(got, what).not.toBeNull();
  expect(got!.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got![i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst, what).toBeLessThan(tol);
}

const module = kernelModule();

/** The first index at which two arrays' values differ (Object.is: NaN and -0 count), -1 for none, -2 for different lengths. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe.skipIf(module === null)('WebAssembly convolution kernels', () => {
  const rt = new WasmRuntime(module!);
  // [n, c, h, w, outC, kernel, stride, padding]: odd sizes, strides, padding wider than the
  // kernel reach on one side, 1x1 kernels, and the MNIST CNN's two layers.
  const cases: [number, number, number, number, number, [number, number], [number, number], [number, number]][] = [
    [1, 1, 5, 5, 1, [3, 3], [1, 1], [0, 0]],
    [2, 3, 7, 6, 5, [3, 2], [1, 1], [1, 1]],
    [3, 2, 9, 11, 4, [3, 3], [2, 3], [1, 2]],
    [2, 4, 6, 6, 7, [1, 1], [1, 1], [0, 0]],
    [1, 2, 4, 5, 3, [5, 5], [1, 1], [2, 2]],
    [2, 3, 10, 10, 6, [4, 4], [3, 3], [0, 3]],
    [4, 1, 28, 28, 16, [3, 3], [1, 1], [1, 1]],
    [3, 16, 14, 14, 32, [3, 3], [1, 1], [1, 1]],
  ];
  for (const [n, c, h, w, outC, k, stride, pad] of cases) {
    const win = windowOf(n, c, h, w, k, stride, pad);
    it(`x [${n},${c},${h},${w}], weight [${outC},${c},${k}], stride ${stride}, padding ${pad}`, () => {
      const K = c * k[0] * k[1];
      const x = values(n * c * h * w, 1 + n);
      const wt = values(outC * K, 2 + c);
      const bias = values(outC, 3 + outC);
      const dy = values(n * outC * win.outH * win.outW, 4 + h);
      const ref = reference(x, wt, bias, dy, win, outC);
      expectClose(wasmConv2d(rt, x, wt, bias, win, outC), ref.y, 'forward');
      const noBias = wasmConv2d(rt, x, wt, null, win, outC);
      expectClose(
        noBias,
        ref.y.map((v, i) => v - bias[Math.floor(i / (win.outH * win.outW)) % outC]),
        'forward without bias',
      );
      const [dx, dw, db] = wasmConv2dBackward(rt, dy, x, wt, win, outC, [true, true, true]);
      expectClose(dx, ref.dx, 'input gradient');
      expectClose(dw, ref.dw, 'weight gradient');
      expectClose(db, ref.db, 'bias gradient');
      // Each gradient alone takes a different path (no row of ones; no weight product).
      expectClose(wasmConv2dBackward(rt, dy, x, wt, win, outC, [false, false, true])[2], ref.db, 'bias gradient alone');
      expectClose(wasmConv2dBackward(rt, dy, x, wt, win, outC, [false, true, false])[1], ref.dw, 'weight gradient alone');
      expect(wasmConv2dBackward(rt, dy, x, wt, win, outC, [true, false, false]).slice(1)).toEqual([null, null]);
    });
  }

  it('a batch larger than one pass through the module is convolved in several passes with the same result', () => {
    // Input plus output: 16,384 + 8 * 16,384 floats an image, so 28 images per 4M-float pass: 30 make two.
    const win = windowOf(30, 1, 128, 128, [3, 3], [1, 1], [1, 1]);
    const x = values(30 * 128 * 128, 5);
    const wt = values(8 * 9, 6);
    const bias = values(8, 7);
    const dy = values(30 * 8 * 128 * 128, 8);
    const ref = reference(x, wt, bias, dy, win, 8);
    expectClose(wasmConv2d(rt, x, wt, bias, win, 8), ref.y, 'forward');
    const [dx, dw, db] = wasmConv2dBackward(rt, dy, x, wt, win, 8, [true, true, true]);
    expectClose(dx, ref.dx, 'input gradient');
    // Sums of 491,520 float32 products: rounding grows with the length of the sum.
    expectClose(dw, ref.dw, 'weight gradient', 1e-4);
    expectClose(db, ref.db, 'bias gradient', 1e-4);
  });
});

describe.skipIf(module === null)('wasmConv2dReluPool', () => {
  const rt = new WasmRuntime(module!);
  // Odd convolution outputs (a dropped row and column); one call, and slices of a few images.
  for (const [n, c, h, w, outC, slice] of [
    [3, 2, 9, 7, 5, 0],
    [7, 3, 10, 10, 4, 3 * 100 + 4 * 100],
  ] as const) {
    it(`[${n},${c},${h},${w}] -> ${outC} channels${slice ? ', a few images a call' : ''}: the bits of maxPool2dRelu on wasmConv2d, and of its gradient unpooled then wasmConv2dBackward`, () => {
      const win = windowOf(n, c, h, w, [3, 3], [1, 1], [1, 1]);
      const x = values(n * c * h * w, 1);
      const wt = values(outC * c * 9, 2);
      const bias = values(outC, 3);
      setConvCallFloats(slice || undefined);
      try {
        const [vals, argmax] = wasmConv2dReluPool(rt, x, wt, bias, win, outC);
        const y = wasmConv2d(rt, x, wt, bias, win, outC);
        const pw = windowOf(n * outC, 1, win.outH, win.outW, [2, 2], [2, 2], [0, 0]);
        const [refVals, refArg] = maxPool2d(y, pw, rt, true);
        expect(firstDiff(vals, refVals)).toBe(-1);
        expect(firstDiff(argmax, refArg)).toBe(-1);
        expect(vals.some((v) => v === 0) && vals.some((v) => v > 0)).toBe(true);
        for (const seed of [4, 9]) {
          const dy = values(vals.length, seed);
          const full = new Float32Array(y.length);
          for (let j = 0; j < dy.length; j++) full[refArg[j]] += refVals[j] > 0 ? dy[j] : 0;
          for (const needs of [
            [true, true, true],
            [true, false, true],
            [false, true, false],
          ] as const) {
            const want = wasmConv2dBackward(rt, full, x, wt, win, outC, needs);
            // NaN in all of the module's memory: a cell the kernels leave unwritten shows.
            rt.heap(0).fill(NaN, DATA_AT);
            const got = wasmConv2dReluPoolBackward(rt, dy, { values: vals, argmax }, x, wt, win, outC, needs);
            for (let i = 0; i < 3; i++) {
              expect(got[i] === null).toBe(want[i] === null);
              if (got[i] !== null) expect(firstDiff(got[i]!, want[i]!)).toBe(-1);
            }
          }
        }
      } finally {
        setConvCallFloats();
      }
    });
  }
});

describe.skipIf(module === null)('the im2col and col2im kernels', () => {
  // [c, h, w, kernel, stride, padding]: stride 1 with rows as wide as the image's (one block copy
  // per row of columns, then the padding cells zeroed: 'same' 3x3 and 5x5, a 3x1 and a 1x3 kernel,
  // uneven padding, a kernel wider than the image, a single row), and the general path (no
  // padding, padding wider than 'same', strides).
  const cases: [number, number, number, [number, number], [number, number], [number, number]][] = [
    [3, 28, 28, [3, 3], [1, 1], [1, 1]],
    [2, 7, 9, [5, 5], [1, 1], [2, 2]],
    [2, 6, 5, [3, 1], [1, 1], [1, 0]],
    [1, 5, 6, [1, 3], [1, 1], [0, 1]],
    [2, 8, 7, [5, 3], [1, 1], [2, 1]],
    [1, 4, 2, [5, 5], [1, 1], [2, 2]],
    [2, 1, 9, [1, 3], [1, 1], [0, 1]],
    [2, 9, 8, [3, 3], [1, 1], [0, 0]],
    [1, 6, 6, [3, 3], [1, 1], [2, 2]],
    [2, 11, 10, [3, 3], [2, 2], [1, 1]],
  ];
  for (const [c, h, w, k, stride, pad] of cases) {
    it(`[${c}, ${h}, ${w}], kernel ${k}, stride ${stride}, padding ${pad}: the values of the JavaScript im2col`, () => {
      const rt = new WasmRuntime(module!);
      const win = windowOf(1, c, h, w, k, stride, pad);
      const P = win.outH * win.outW;
      const K = c * k[0] * k[1];
      const x = values(c * h * w, h + w);
      // A row stride past P, and the memory around the columns filled with NaN: every cell is written.
      const ld = P + 5;
      const xAt = DATA_AT;
      const dstAt = xAt + c * h * w + 8;
      const mem = rt.heap(dstAt + K * ld + 8);
      mem.fill(NaN, xAt - 8, dstAt + K * ld + 8);
      mem.set(x, xAt);
      rt.exports.im2col(xAt * 4, c, h, w, k[0], k[1], stride[0], stride[1], pad[0], pad[1], win.outH, win.outW, dstAt * 4, ld);
      const want = im2col(x, win, 0);
      for (let r = 0; r < K; r++)
        expect(firstDiff(mem.subarray(dstAt + r * ld, dstAt + r * ld + P), want.subarray(r * P, (r + 1) * P))).toBe(-1);
    });

    it(`[${c}, ${h}, ${w}], kernel ${k}, stride ${stride}, padding ${pad}: col2im, the sums of the JavaScript col2im`, () => {
      const rt = new WasmRuntime(module!);
      const win = windowOf(1, c, h, w, k, stride, pad);
      const P = win.outH * win.outW;
      const K = c * k[0] * k[1];
      const cols = values(K * P, K + P);
      const ld = P + 3;
      const colsAt = DATA_AT;
      const dstAt = colsAt + K * ld + 8;
      // NaN around the image: a write outside it shows.
      const mem = rt.heap(dstAt + c * h * w + 8);
      mem.fill(NaN, colsAt, dstAt + c * h * w + 8);
      for (let r = 0; r < K; r++) mem.set(cols.subarray(r * P, (r + 1) * P), colsAt + r * ld);
      mem.fill(0, dstAt, dstAt + c * h * w);
      rt.exports.col2im(colsAt * 4, ld, c, h, w, k[0], k[1], stride[0], stride[1], pad[0], pad[1], win.outH, win.outW, dstAt * 4);
      expect(firstDiff(mem.subarray(dstAt, dstAt + c * h * w), col2im(cols, win))).toBe(-1);
      expect(Number.isNaN(mem[dstAt - 1]) && Number.isNaN(mem[dstAt + c * h * w])).toBe(true);
    });
  }
});
