import type { Window2d } from '../backend/backend.js';
import type { TypedArray } from '../dtype.js';
import { newF32 } from './storage.js';

/**
 * The output columns `lo..hi` whose input column `ox * stride - pad + kj` lies inside
 * `0..w-1`; the others read padding.
 */
function validRange(kj: number, stride: number, pad: number, w: number, outW: number): [number, number] {
  const lo = Math.min(outW, Math.max(0, Math.ceil((pad - kj) / stride)));
  const hi = Math.max(lo, Math.min(outW, Math.floor((w - 1 + pad - kj) / stride) + 1));
  return [lo, hi];
}

/**
 * im2col: for each image, a `[c*kh*kw, outH*outW]` matrix whose column p holds
 * the receptive field of output pixel p. A convolution is then one matmul
 * `weight[outC, c*kh*kw] @ cols`, already in NCHW order.
 *
 * With `wide`, the images' matrices lie side by side instead, `[c*kh*kw, n*outH*outW]`,
 * so the whole batch is one product with the weight.
 */
export function im2col(x: TypedArray, win: Window2d, padValue: number, wide = false): Float32Array {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const K = c * kh * kw;
  const out = newF32(n * K * P);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const r = (ch * kh + ki) * kw + kj;
          const row = (wide ? r * n + b : b * K + r) * P;
          const [lo, hi] = validRange(kj, strideW, padW, w, outW);
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * strideH - padH + ki;
            const rowOff = row + oy * outW;
            if (iy < 0 || iy >= h) {
              if (padValue !== 0) out.fill(padValue, rowOff, rowOff + outW);
              continue;
            }
            if (padValue !== 0) {
              out.fill(padValue, rowOff, rowOff + lo);
              out.fill(padValue, rowOff + hi, rowOff + outW);
            }
            // Only the columns whose input lies inside the image: no bounds test per value.
            const src = xBase + iy * w - padW + kj;
            if (strideW === 1) for (let ox = lo; ox < hi; ox++) out[rowOff + ox] = x[src + ox];
            else for (let ox = lo; ox < hi; ox++) out[rowOff + ox] = x[src + ox * strideW];
          }
        }
      }
    }
  }
  return out;
}

/** col2im: the adjoint of im2col (overlapping windows add up); `wide` as for {@link im2col}. */
export function col2im(cols: TypedArray, win: Window2d, wide = false): Float32Array {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const K = c * kh * kw;
  const out = newF32(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const r = (ch * kh + ki) * kw + kj;
          const row = (wide ? r * n + b : b * K + r) * P;
          const [lo, hi] = validRange(kj, strideW, padW, w, outW);
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * strideH - padH + ki;
            if (iy < 0 || iy >= h) continue;
            const dst = xBase + iy * w - padW + kj;
            const rowOff = row + oy * outW;
            for (let ox = lo; ox < hi; ox++) {
              out[dst + ox * strideW] += cols[rowOff + ox];
            }
          }
        }
      }
    }
  }
  return out;
}
