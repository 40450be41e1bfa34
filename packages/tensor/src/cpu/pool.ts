import type { Window2d } from '../backend/backend.js';

/**
 * Max pooling of every `h x w` plane in one pass, keeping the flat index of each maximum
 * so the backward pass is one scatter-add. The composite (im2col padded with -Infinity,
 * then max and argmax over the window) writes a `k*k` times larger column matrix first
 * and needs an equality mask on the way back.
 */
export function maxPool2d(x: Float32Array, win: Window2d): [Float32Array, Int32Array] {
  const { n, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const values = new Float32Array(n * P);
  const argmax = new Int32Array(n * P);
  for (let plane = 0; plane < n; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(h, y0 + kh);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(w, x0 + kw);
        let bi = base + yStart * w + xStart;
        let best = x[bi];
        for (let iy = yStart; iy < yEnd; iy++) {
          const row = base + iy * w;
          for (let ix = xStart; ix < xEnd; ix++) {
            const v = x[row + ix];
            if (v > best || (v !== v && best === best)) {
              best = v;
              bi = row + ix;
            }
          }
        }
        const o = plane * P + oy * outW + ox;
        values[o] = best;
        argmax[o] = bi;
      }
    }
  }
  return [values, argmax];
}
