import type { Window2d } from '../backend/backend.js';
import type { TypedArray } from '../dtype.js';

/**
 * im2col: for each image, a `[c*kh*kw, outH*outW]` matrix whose column p holds
 * the receptive field of output pixel p. A convolution is then one matmul
 * `weight[outC, c*kh*kw] @ cols`, already in NCHW order.
 */
export function im2col(x: TypedArray, win: Window2d, padValue: number): Float32Array {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const K = c * kh * kw;
  const out = new Float32Array(n * K * P);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const row = ((b * K) + (ch * kh + ki) * kw + kj) * P;
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * strideH - padH + ki;
            const rowOff = row + oy * outW;
            if (iy < 0 || iy >= h) {
              if (padValue !== 0) for (let ox = 0; ox < outW; ox++) out[rowOff + ox] = padValue;
              continue;
            }
            const xRow = xBase + iy * w;
            for (let ox = 0; ox < outW; ox++) {
              const ix = ox * strideW - padW + kj;
              out[rowOff + ox] = ix >= 0 && ix < w ? x[xRow + ix] : padValue;
            }
          }
        }
      }
    }
  }
  return out;
}

/** col2im: the adjoint of im2col (overlapping windows add up). */
export function col2im(cols: TypedArray, win: Window2d): Float32Array {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const K = c * kh * kw;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const row = ((b * K) + (ch * kh + ki) * kw + kj) * P;
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * strideH - padH + ki;
            if (iy < 0 || iy >= h) continue;
            const xRow = xBase + iy * w;
            const rowOff = row + oy * outW;
            for (let ox = 0; ox < outW; ox++) {
              const ix = ox * strideW - padW + kj;
              if (ix >= 0 && ix < w) out[xRow + ix] += cols[rowOff + ox];
            }
          }
        }
      }
    }
  }
  return out;
}
