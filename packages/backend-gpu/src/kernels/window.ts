import type { Window2d } from '@bp/tensor';
import { decompose, type KernelSpec } from './codegen.js';

function winKey(w: Window2d): string {
  return [w.n, w.c, w.h, w.w, w.kh, w.kw, w.strideH, w.strideW, w.padH, w.padW, w.outH, w.outW].join(',');
}

/** `[n, c, h, w]` to columns `[n, c*kh*kw, outH*outW]`; cells outside the image read `padValue[0]` (a one-cell storage). */
export function im2colKernel(win: Window2d): KernelSpec {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  return {
    key: `im2col:${winKey(win)}`,
    source:
      `function (x, padValue) {\n  ${decompose('this.thread.x', [n, c, kh, kw, outH, outW], 'c')}\n` +
      `  const iy = c4 * ${strideH} - ${padH} + c2;\n  const ix = c5 * ${strideW} - ${padW} + c3;\n` +
      `  if (iy < 0 || iy >= ${h} || ix < 0 || ix >= ${w}) {\n    return padValue[0];\n  }\n` +
      `  return x[((c0 * ${c} + c1) * ${h} + iy) * ${w} + ix];\n}`,
    output: n * c * kh * kw * outH * outW,
  };
}

/**
 * The adjoint of im2col: each image cell sums the column entries that read
 * it, found by inverting `iy = oy * stride - pad + ki` for every kernel offset.
 */
export function col2imKernel(win: Window2d): KernelSpec {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  const K = c * kh * kw;
  return {
    key: `col2im:${winKey(win)}`,
    source:
      `function (cols) {\n  ${decompose('this.thread.x', [n, c, h, w], 'c')}\n  let acc = 0;\n` +
      `  for (let ki = 0; ki < ${kh}; ki++) {\n` +
      `    const ty = c2 + ${padH} - ki;\n    const oy = Math.floor((ty + 0.5) / ${strideH});\n` +
      `    if (ty >= 0 && ty - oy * ${strideH} == 0 && oy < ${outH}) {\n` +
      `      for (let kj = 0; kj < ${kw}; kj++) {\n` +
      `        const tx = c3 + ${padW} - kj;\n        const ox = Math.floor((tx + 0.5) / ${strideW});\n` +
      `        if (tx >= 0 && tx - ox * ${strideW} == 0 && ox < ${outW}) {\n` +
      `          acc += cols[(c0 * ${K} + (c1 * ${kh} + ki) * ${kw} + kj) * ${P} + oy * ${outW} + ox];\n` +
      `        }\n      }\n    }\n  }\n  return acc;\n}`,
    output: n * c * h * w,
  };
}
