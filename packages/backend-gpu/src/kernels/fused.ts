/**
 * Kernels of the backend's `fused` ops: work that the composite ops of @bp/tensor and
 * @bp/optim spread over several kernels, each writing a tensor to device memory, done
 * in one pass (or, for Adam, in one pass per state tensor: a gpu.js kernel has one output).
 *
 * `Math.fround` marks every place where the composite stores a float32 result. On the GL
 * and WebGPU modes it is the identity (every value is float32 there already); on gpu.js'
 * JavaScript mode, which computes in doubles, it rounds as the composite's stores do, so
 * there and on the WebAssembly mode (float32 arithmetic) a fused kernel gives the
 * composite's bits exactly.
 */
import type { Window2d } from '@bp/tensor';
import type { KernelSpec } from './codegen.js';
import { decompose, lit } from './codegen.js';
import { matmulLines } from './matmul.js';

/**
 * A linear layer: `x: [rows, inF]` times `weight: [outF, inF]` transposed, plus `bias: [outF]`
 * when `bias`, then `max(0, .)` when `relu`. The product is {@link matmulLines}' sum, in the
 * order the composite's matrix product takes it; the bias is added to it rounded to float32.
 */
export function linearKernel(rows: number, inF: number, outF: number, bias: boolean, relu: boolean): KernelSpec {
  const lines = matmulLines(1, 1, rows, inF, outF, false, true);
  lines.push(bias ? 'const y = Math.fround(Math.fround(acc) + c[j]);' : 'const y = Math.fround(acc);');
  // As the CPU backend's fused linear: anything not above 0 (NaN included) gives 0.
  lines.push(relu ? 'return (y > 0 || !(y == y)) ? y : 0;' : 'return y;');
  return {
    key: `linear:${rows}:${inF}:${outF}:${bias}:${relu}`,
    source: `function (a, b${bias ? ', c' : ''}) {\n  ${lines.join('\n  ')}\n}`,
    output: rows * outF,
  };
}

/** The gradient of relu: `dy` where `x > 0` or `x` is NaN (as in PyTorch), else 0, as `where(le(x, 0), 0, dy)`. */
export function reluBackwardKernel(size: number): KernelSpec {
  return {
    key: 'reluBackward',
    source: 'function (dy, x) {\n  const i = this.thread.x;\n  if (x[i] > 0 || !(x[i] == x[i])) {\n    return dy[i];\n  }\n  return 0;\n}',
    output: size,
    dynamic: true,
  };
}

/** Which form of the Adam step a kernel computes (the flags are baked into its source). */
export interface AdamVariant {
  /** The first step: the old moments count as zero. */
  first: boolean;
  /** Adam's L2 penalty: `g + wd * p` replaces the gradient. */
  l2: boolean;
  /** AdamW's decoupled decay: `p * shrink` (`shrink = 1 - lr * weightDecay`) replaces the parameter. */
  decay: boolean;
}

/**
 * An Adam kernel and the names of its arguments in order: storages (`p`, `g`, `old`,
 * `m`, `v`, `second`) and float32 scalars (`b`, `a`, `wd`, `step`, `eps`, `shrink`).
 * A kernel takes only the arguments its variant reads.
 */
export interface AdamKernel extends KernelSpec {
  params: string[];
}

function adamKernel(key: string, size: number, params: string[], body: string[]): AdamKernel {
  return {
    key,
    source: `function (${params.join(', ')}) {\n  const i = this.thread.x;\n  ${body.join('\n  ')}\n}`,
    output: size,
    dynamic: true,
    params,
  };
}

/**
 * The new first moment (`moment: 'm'`, from `gi * a` with `a = 1 - beta1`) or second
 * moment (`'v'`, from `gi * gi * a` with `a = 1 - beta2`): `old * b + term` (`b` the
 * beta), or the term alone on the first step. `gi` is `g`, or `g + wd * p` with Adam's
 * L2 penalty.
 */
export function adamMomentKernel(size: number, moment: 'm' | 'v', v: AdamVariant): AdamKernel {
  const params = [...(v.l2 ? ['p'] : []), 'g', ...(v.first ? [] : ['old', 'b']), 'a', ...(v.l2 ? ['wd'] : [])];
  const term = moment === 'm' ? 'Math.fround(gi * a)' : 'Math.fround(Math.fround(gi * gi) * a)';
  return adamKernel(`adam${moment}:${v.first}:${v.l2}`, size, params, [
    v.l2 ? 'const gi = Math.fround(g[i] + Math.fround(p[i] * wd));' : 'const gi = g[i];',
    `const t = ${term};`,
    v.first ? 'return t;' : 'return Math.fround(Math.fround(old[i] * b) + t);',
  ]);
}

/**
 * AMSGrad's running maximum of the second moment: `max(old, v)` with a NaN in `old`
 * staying (the composite's `maximum`), or `v` itself on the first step.
 */
export function adamMaxKernel(size: number, first: boolean): AdamKernel {
  if (first) return adamKernel('adammax:true', size, ['v'], ['return v[i];']);
  return adamKernel(
    'adammax:false',
    size,
    ['old', 'v'],
    ['const o = old[i];', 'const n = v[i];', 'if (o >= n || !(o == o)) {', '    return o;', '  }', 'return n;'],
  );
}

/**
 * The new parameter: `p - (m / (sqrt(second) + eps)) * step`, with `p` first scaled by
 * `shrink` for AdamW; `m` is the new first moment, `second` the new second moment (or its
 * running maximum), `step` and `eps` the bias-corrected step size and epsilon.
 */
export function adamParamKernel(size: number, v: AdamVariant): AdamKernel {
  const params = ['p', 'm', 'second', 'step', 'eps', ...(v.decay ? ['shrink'] : [])];
  return adamKernel(`adamp:${v.decay}`, size, params, [
    v.decay ? 'const pi = Math.fround(p[i] * shrink);' : 'const pi = p[i];',
    'const den = Math.fround(Math.fround(Math.sqrt(second[i])) + eps);',
    'return Math.fround(pi - Math.fround(Math.fround(m[i] / den) * step));',
  ]);
}

const winKey = (w: Window2d) => [w.n, w.c, w.h, w.w, w.kh, w.kw, w.strideH, w.strideW, w.padH, w.padW, w.outH, w.outW].join(':');

/**
 * 2-D convolution (cross-correlation, zero padding) of `x: [n, c, h, w]` with
 * `weight: [outC, c, kh, kw]`, plus `bias: [outC]` when `bias`: one thread per output cell
 * of `[n, outC, outH, outW]`, summing its window directly (no im2col matrix in between).
 */
export function conv2dKernel(win: Window2d, outC: number, bias: boolean): KernelSpec {
  const { c, h, w, kh, kw, outH, outW } = win;
  const body = [
    decompose('this.thread.x', [win.n, outC, outH, outW], 'c'),
    'const b = c0;',
    'const oc = c1;',
    'const oy = c2;',
    'const ox = c3;',
    'let acc = 0;',
    `for (let ci = 0; ci < ${c}; ci++) {`,
    `    for (let ki = 0; ki < ${kh}; ki++) {`,
    `      const iy = oy * ${win.strideH} - ${win.padH} + ki;`,
    `      if (iy >= 0 && iy < ${h}) {`,
    `        for (let kj = 0; kj < ${kw}; kj++) {`,
    `          const ix = ox * ${win.strideW} - ${win.padW} + kj;`,
    `          if (ix >= 0 && ix < ${w}) {`,
    `            acc += x[((b * ${c} + ci) * ${h} + iy) * ${w} + ix] * k[((oc * ${c} + ci) * ${kh} + ki) * ${kw} + kj];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    bias ? 'return acc + bias[oc];' : 'return acc;',
  ];
  return {
    key: `conv2d:${winKey(win)}:${outC}:${bias}`,
    source: `function (x, k${bias ? ', bias' : ''}) {\n  ${body.join('\n  ')}\n}`,
    output: win.n * outC * outH * outW,
  };
}

/**
 * The input gradient of {@link conv2dKernel}: one thread per input cell, summing
 * `dy * weight` over the output cells whose windows cover it (a cell covered by tap `ki`
 * of output row `oy` has `iy = oy * strideH - padH + ki`, so `oy` must divide evenly).
 */
export function conv2dInputGradKernel(win: Window2d, outC: number): KernelSpec {
  const { c, h, w, kh, kw, outH, outW, strideH, strideW } = win;
  const body = [
    decompose('this.thread.x', [win.n, c, h, w], 'c'),
    'const b = c0;',
    'const ci = c1;',
    'const iy = c2;',
    'const ix = c3;',
    'let acc = 0;',
    `for (let ki = 0; ki < ${kh}; ki++) {`,
    `    const ty = iy + ${win.padH} - ki;`,
    `    const oy = Math.floor((ty + 0.5) / ${strideH});`,
    `    if (ty >= 0 && oy * ${strideH} == ty && oy < ${outH}) {`,
    `      for (let kj = 0; kj < ${kw}; kj++) {`,
    `        const tx = ix + ${win.padW} - kj;`,
    `        const ox = Math.floor((tx + 0.5) / ${strideW});`,
    `        if (tx >= 0 && ox * ${strideW} == tx && ox < ${outW}) {`,
    `          for (let oc = 0; oc < ${outC}; oc++) {`,
    `            acc += dy[((b * ${outC} + oc) * ${outH} + oy) * ${outW} + ox] * k[((oc * ${c} + ci) * ${kh} + ki) * ${kw} + kj];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    'return acc;',
  ];
  return {
    key: `conv2dDx:${winKey(win)}:${outC}`,
    source: `function (dy, k) {\n  ${body.join('\n  ')}\n}`,
    output: win.n * c * h * w,
  };
}

/** The weight gradient of {@link conv2dKernel}: one thread per weight cell, summing `dy * x` over the batch and the output. */
export function conv2dWeightGradKernel(win: Window2d, outC: number): KernelSpec {
  const { n, c, h, w, kh, kw, outH, outW } = win;
  const body = [
    decompose('this.thread.x', [outC, c, kh, kw], 'c'),
    'const oc = c0;',
    'const ci = c1;',
    'const ki = c2;',
    'const kj = c3;',
    'let acc = 0;',
    `for (let b = 0; b < ${n}; b++) {`,
    `    for (let oy = 0; oy < ${outH}; oy++) {`,
    `      const iy = oy * ${win.strideH} - ${win.padH} + ki;`,
    `      if (iy >= 0 && iy < ${h}) {`,
    `        for (let ox = 0; ox < ${outW}; ox++) {`,
    `          const ix = ox * ${win.strideW} - ${win.padW} + kj;`,
    `          if (ix >= 0 && ix < ${w}) {`,
    `            acc += dy[((b * ${outC} + oc) * ${outH} + oy) * ${outW} + ox] * x[((b * ${c} + ci) * ${h} + iy) * ${w} + ix];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    'return acc;',
  ];
  return {
    key: `conv2dDw:${winKey(win)}:${outC}`,
    source: `function (dy, x) {\n  ${body.join('\n  ')}\n}`,
    output: outC * c * kh * kw,
  };
}

/** The bias gradient of {@link conv2dKernel}: per output channel, the sum of `dy` over the batch and the output. */
export function conv2dBiasGradKernel(n: number, outC: number, plane: number): KernelSpec {
  return {
    key: `conv2dDb:${n}:${outC}:${plane}`,
    source:
      `function (dy) {\n  const oc = this.thread.x;\n  let acc = 0;\n  for (let b = 0; b < ${n}; b++) {\n` +
      `    for (let p = 0; p < ${plane}; p++) {\n      acc += dy[(b * ${outC} + oc) * ${plane} + p];\n    }\n  }\n  return acc;\n}`,
    output: outC,
  };
}

/** `reduction` of a softmax cross-entropy (PyTorch's). */
type CeReduction = 'mean' | 'sum' | 'none';

/**
 * Softmax cross-entropy from `x: [rows, cols]`, int32 `labels: [rows]` and the rows'
 * log-sum-exp `lse` ({@link logSumExpKernel}-style): per row `lse - x[label]`, 0 where the
 * label is `ignoreIndex`, `nan` (a scalar argument: GLSL has no literal for it) where it
 * is out of range. `'none'` gives the rows; `'sum'` and `'mean'` one value, summed by one
 * thread in row order (the mean over the rows not ignored).
 */
export function crossEntropyKernel(rows: number, cols: number, ignoreIndex: number, reduction: CeReduction): KernelSpec {
  const ign = lit(ignoreIndex);
  const key = `crossEntropy:${rows}:${cols}:${ign}:${reduction}`;
  if (reduction === 'none') {
    return {
      key,
      source:
        `function (x, labels, lse, nan) {\n  const r = this.thread.x;\n  const y = labels[r];\n` +
        `  if (y == ${ign}) {\n    return 0;\n  }\n` +
        `  if (y >= 0 && y < ${cols}) {\n    return lse[r] - x[r * ${cols} + y];\n  }\n  return nan;\n}`,
      output: rows,
    };
  }
  return {
    key,
    source:
      `function (x, labels, lse, nan) {\n  let acc = 0;\n  let kept = 0;\n` +
      `  for (let r = 0; r < ${rows}; r++) {\n    const y = labels[r];\n    if (!(y == ${ign})) {\n      kept += 1;\n` +
      `      if (y >= 0 && y < ${cols}) {\n        acc += lse[r] - x[r * ${cols} + y];\n      } else {\n        acc += nan;\n      }\n    }\n  }\n` +
      (reduction === 'mean' ? '  return acc / kept;\n}' : '  return acc;\n}'),
    output: 1,
  };
}

/** The number of `labels` (`[rows]`) that are not `ignoreIndex`, as one value: the divisor of a mean. */
export function keptRowsKernel(rows: number, ignoreIndex: number): KernelSpec {
  return {
    key: `keptRows:${rows}:${lit(ignoreIndex)}`,
    source: `function (labels) {\n  let kept = 0;\n  for (let r = 0; r < ${rows}; r++) {\n    if (!(labels[r] == ${lit(ignoreIndex)})) {\n      kept += 1;\n    }\n  }\n  return kept;\n}`,
    output: 1,
  };
}

/**
 * Rows times rows times classes up to which the backward kernel of a mean counts the rows
 * kept itself (every thread loops over the labels), saving a launch; above it, one thread
 * counts them first ({@link keptRowsKernel}).
 */
export const INLINE_KEPT_MAX = 1 << 24;

/**
 * The gradient of {@link crossEntropyKernel} for `dy` (one value, or `[rows]` for
 * `'none'`): `(exp(x - lse) - onehot) * g` per cell, `g` being `dy`, `dy / kept` (the
 * mean: `kept` counted inline when `inlineKept`, else a one-value storage argument) or
 * `dy[row]`; 0 on rows whose label is ignored or out of range.
 */
export function crossEntropyBackwardKernel(
  rows: number,
  cols: number,
  ignoreIndex: number,
  reduction: CeReduction,
  inlineKept: boolean,
): KernelSpec {
  const ign = lit(ignoreIndex);
  const mean = reduction === 'mean';
  const lines = [
    decompose('this.thread.x', [rows, cols], 'c'),
    'const r = c0;',
    'const j = c1;',
    'const y = labels[r];',
    `if (y == ${ign} || y < 0 || y >= ${cols}) {`,
    '    return 0;',
    '  }',
  ];
  if (mean && inlineKept) {
    lines.push(
      'let kept = 0;',
      `for (let k = 0; k < ${rows}; k++) {`,
      `    if (!(labels[k] == ${ign})) {`,
      '      kept += 1;',
      '    }',
      '  }',
      'const g = dy[0] / kept;',
    );
  } else if (mean) lines.push('const g = dy[0] / keptRows[0];');
  else lines.push(reduction === 'none' ? 'const g = dy[r];' : 'const g = dy[0];');
  lines.push('let hot = 0;', 'if (j == y) {', '    hot = 1;', '  }', 'return (Math.exp(x[this.thread.x] - lse[r]) - hot) * g;');
  const params = ['dy', 'x', 'labels', 'lse', ...(mean && !inlineKept ? ['keptRows'] : [])];
  return {
    key: `crossEntropyDx:${rows}:${cols}:${ign}:${reduction}:${inlineKept}`,
    source: `function (${params.join(', ')}) {\n  ${lines.join('\n  ')}\n}`,
    output: rows * cols,
  };
}
