import { describe, expect, it } from 'vitest';
import { maxPool2d } from './pool.js';
import { WasmRuntime, kernelModule } from './wasm/wasm-runtime.js';

const win2x2 = (n: number, h: number, w: number) => ({
  n,
  c: 1,
  h,
  w,
  kh: 2,
  kw: 2,
  strideH: 2,
  strideW: 2,
  padH: 0,
  padW: 0,
  outH: Math.floor(h / 2),
  outW: Math.floor(w / 2),
});

const module = kernelModule();
// The TypeScript loop, and the WebAssembly kernel where the engine has SIMD.
const paths: [string, WasmRuntime | null][] = [
  ['typescript', null],
  ...(module ? [['wasm', new WasmRuntime(module)] as [string, WasmRuntime]] : []),
];

describe.each(paths)('cpu maxPool2d, 2x2 stride 2 (%s)', (_name, simd) => {
  it('keeps the first maximum on ties and lets NaN win, in row-major window order', () => {
    // Windows (2x2 blocks): all equal -> first; max bottom-right; NaN top-right beats a larger number; two NaNs -> first.
    const x = new Float32Array([1, 1, 0, 0, NaN, 1, 5, NaN, 1, 1, 0, 3, 9, 1, NaN, 0]);
    const [values, argmax] = maxPool2d(x, win2x2(1, 2, 8), simd);
    expect(Array.from(values)).toEqual([1, 3, NaN, NaN]);
    expect(Array.from(argmax)).toEqual([0, 11, 4, 7]);
  });

  it('drops the odd last row and column and indexes into the right plane', () => {
    const x = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => (i % 9 === 4 ? 100 : i));
    const [values, argmax] = maxPool2d(x, win2x2(2, 3, 3), simd);
    expect(Array.from(values)).toEqual([100, 100]);
    expect(Array.from(argmax)).toEqual([4, 13]);
  });

  // Widths with four windows a row and more: whole SIMD steps, and a last one to three windows
  // (then the last four done again, ending at the row's end); fewer than four (one at a time);
  // with relu(x) taken first (x <= 0 ? 0 : x, NaN staying NaN) or not.
  for (const w of [7, 9, 10, 13, 15, 29]) {
    for (const relu of [false, true]) {
      it(`agrees with the definition on ${w} columns${relu ? ' after relu' : ''}, with ties and NaNs`, () => {
        const n = 3;
        const h = 9;
        const x = Float32Array.from({ length: n * h * w }, (_, i) =>
          i % 17 === 0 ? NaN : ((i * 7919) % 23) - 11 + (i % 5 === 0 ? 0 : 0.5),
        );
        const win = win2x2(n, h, w);
        // Straight from the rule: scan each window row by row, take a value that is larger, or NaN
        // over a number (also after relu, which keeps NaN, as PyTorch's does).
        const at = (i: number) => (relu ? (x[i] <= 0 ? 0 : x[i]) : x[i]);
        const wantV: number[] = [];
        const wantI: number[] = [];
        for (let p = 0; p < n; p++) {
          for (let oy = 0; oy < win.outH; oy++) {
            for (let ox = 0; ox < win.outW; ox++) {
              let bi = -1;
              for (const [dy, dx] of [
                [0, 0],
                [0, 1],
                [1, 0],
                [1, 1],
              ]) {
                const i = p * h * w + (2 * oy + dy) * w + 2 * ox + dx;
                if (bi < 0 || at(i) > at(bi) || (Number.isNaN(at(i)) && !Number.isNaN(at(bi)))) bi = i;
              }
              wantV.push(at(bi));
              wantI.push(bi);
            }
          }
        }
        const [values, argmax] = maxPool2d(x, win, simd, relu);
        expect(Array.from(values)).toEqual(wantV);
        expect(Array.from(argmax)).toEqual(wantI);
      });
    }
  }
});
