import { describe, expect, it } from 'vitest';
import { maxPool2d } from './pool.js';

const win2x2 = (n: number, h: number, w: number) => ({
  n, c: 1, h, w, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: Math.floor(h / 2), outW: Math.floor(w / 2),
});

describe('cpu maxPool2d, 2x2 stride 2', () => {
  it('keeps the first maximum on ties and lets NaN win, in row-major window order', () => {
    // Windows (2x2 blocks): all equal -> first; max bottom-right; NaN top-right beats a larger number; two NaNs -> first.
    const x = new Float32Array([
      1, 1, 0, 0, NaN, 1, 5, NaN,
      1, 1, 0, 3, 9, 1, NaN, 0,
    ]);
    const [values, argmax] = maxPool2d(x, win2x2(1, 2, 8));
    expect(Array.from(values)).toEqual([1, 3, NaN, NaN]);
    expect(Array.from(argmax)).toEqual([0, 11, 4, 7]);
  });

  it('drops the odd last row and column and indexes into the right plane', () => {
    const x = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => (i % 9 === 4 ? 100 : i));
    const [values, argmax] = maxPool2d(x, win2x2(2, 3, 3));
    expect(Array.from(values)).toEqual([100, 100]);
    expect(Array.from(argmax)).toEqual([4, 13]);
  });
});
