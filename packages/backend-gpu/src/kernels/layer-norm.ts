import { lit, type KernelSpec } from './codegen.js';
import { blockedSum } from './reduce.js';

/*
 * Layer normalisation over the rows of `[rows, cols]` in five kernels (three forward, and the
 * input gradient in two), where the composite ops took 14 forward and about 30 backward
 * launches. Row sums add blocks of 64 as the long sums of `reduce.ts` do ({@link blockedSum}).
 */

/** Each row's mean: `[rows]`. */
export function layerNormMeanKernel(rows: number, cols: number): KernelSpec {
  return {
    key: `ln-mean:${rows}:${cols}`,
    source: `function (x) {\n  const base = this.thread.x * ${cols};\n  ${blockedSum('s', cols, (j) => `x[base + ${j}]`)}\n  return s / ${cols};\n}`,
    output: rows,
  };
}

/** Each row's `1 / sqrt(var + eps)`, with the biased variance about the row's mean: `[rows]`. */
export function layerNormRstdKernel(rows: number, cols: number, eps: number): KernelSpec {
  return {
    key: `ln-rstd:${rows}:${cols}:${lit(eps)}`,
    source:
      `function (x, mean) {\n  const r = this.thread.x;\n  const base = r * ${cols};\n  const m = mean[r];\n` +
      `  ${blockedSum('s', cols, (j) => `(x[base + ${j}] - m) * (x[base + ${j}] - m)`)}\n  return 1 / Math.sqrt(s / ${cols} + ${lit(eps)});\n}`,
    output: rows,
  };
}

/** `(x - mean) * rstd`, times `weight` and plus `bias` where given: `[rows, cols]`. */
export function layerNormOutKernel(rows: number, cols: number, weight: boolean, bias: boolean): KernelSpec {
  const args = ['x', 'mean', 'rstd', ...(weight ? ['w'] : []), ...(bias ? ['b'] : [])].join(', ');
  let v = '(x[i] - mean[r]) * rstd[r]';
  if (weight) v = `${v} * w[c]`;
  if (bias) v = `${v} + b[c]`;
  return {
    key: `ln-out:${rows}:${cols}:${weight}:${bias}`,
    source:
      `function (${args}) {\n  const i = this.thread.x;\n  const r = Math.floor((i + 0.5) / ${cols});\n` +
      `  const c = i - r * ${cols};\n  return ${v};\n}`,
    output: rows * cols,
  };
}

/**
 * Per row, the two sums the input gradient needs, interleaved as `[rows, 2]`: `sum(g)` and
 * `sum(g * (x - mean))`, with `g = dy * weight` (`dy` without a weight).
 */
export function layerNormGradSumsKernel(rows: number, cols: number, weight: boolean): KernelSpec {
  const g = (j: string) => (weight ? `dy[base + ${j}] * w[${j}]` : `dy[base + ${j}]`);
  return {
    key: `ln-gsums:${rows}:${cols}:${weight}`,
    source:
      `function (dy, x, mean${weight ? ', w' : ''}) {\n  const t = this.thread.x;\n  const r = Math.floor((t + 0.5) / 2);\n` +
      `  const base = r * ${cols};\n  const m = mean[r];\n  if (t - r * 2 < 0.5) {\n    ${blockedSum('s', cols, g).replace(/\n/g, '\n  ')}\n    return s;\n  }\n` +
      `  ${blockedSum('q', cols, (j) => `${g(j)} * (x[base + ${j}] - m)`)}\n  return q;\n}`,
    output: rows * 2,
  };
}

/**
 * The input gradient from those sums: `rstd * (g - sum(g) / cols) - (x - mean) * rstd^3 * sum(g (x - mean)) / cols`
 * (the CPU kernel's formula): `[rows, cols]`.
 */
export function layerNormInputGradKernel(rows: number, cols: number, weight: boolean): KernelSpec {
  const g = weight ? 'dy[i] * w[c]' : 'dy[i]';
  return {
    key: `ln-dx:${rows}:${cols}:${weight}`,
    source:
      `function (dy, x, mean, rstd, sums${weight ? ', w' : ''}) {\n  const i = this.thread.x;\n` +
      `  const r = Math.floor((i + 0.5) / ${cols});\n  const c = i - r * ${cols};\n  const p = rstd[r];\n` +
      `  const mg = sums[r * 2] / ${cols};\n  const k = sums[r * 2 + 1] * p / ${cols} * p;\n` +
      `  return p * (${g} - mg) - (x[i] - mean[r]) * k * p;\n}`,
    output: rows * cols,
  };
}

/** `dy * (x - mean) * rstd` per cell, whose column sums are the weight's gradient: `[rows, cols]`. */
export function layerNormWeightTermsKernel(rows: number, cols: number): KernelSpec {
  return {
    key: `ln-wterms:${rows}:${cols}`,
    source:
      `function (dy, x, mean, rstd) {\n  const i = this.thread.x;\n  const r = Math.floor((i + 0.5) / ${cols});\n` +
      `  return dy[i] * (x[i] - mean[r]) * rstd[r];\n}`,
    output: rows * cols,
  };
}
