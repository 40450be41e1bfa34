import type { KernelSpec } from './codegen.js';

/**
 * Per row of `[rows, cols]`: `max + log(sum(exp(x - max)))`, the log-sum-exp
 * that both softmax forms need. A row that is all `-Infinity` shifts by 0, as
 * the CPU backend does.
 */
export function logSumExpKernel(rows: number, cols: number): KernelSpec {
  return {
    key: `lse:${rows}:${cols}`,
    source:
      `function (x) {\n  const base = this.thread.x * ${cols};\n  let mx = x[base];\n` +
      `  for (let j = 1; j < ${cols}; j++) {\n    const v = x[base + j];\n    if (v > mx) {\n      mx = v;\n    }\n  }\n` +
      `  if (mx < -3.0e38) {\n    mx = 0;\n  }\n  let s = 0;\n` +
      `  for (let j = 0; j < ${cols}; j++) {\n    s += Math.exp(x[base + j] - mx);\n  }\n  return mx + Math.log(s);\n}`,
    output: rows,
  };
}

/** `exp(x - lse)` (softmax) or `x - lse` (log-softmax) with the row's log-sum-exp. */
export function softmaxFromLseKernel(rows: number, cols: number, log: boolean): KernelSpec {
  const body = log ? 'x[i] - lse[r]' : 'Math.exp(x[i] - lse[r])';
  return {
    key: `softmax:${log}:${rows}:${cols}`,
    source: `function (x, lse) {\n  const i = this.thread.x;\n  const r = Math.floor((i + 0.5) / ${cols});\n  return ${body};\n}`,
    output: rows * cols,
  };
}
