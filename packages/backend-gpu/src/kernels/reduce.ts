import type { ReduceOp } from '@bp/tensor';
import type { KernelSpec } from './codegen.js';

/**
 * Sums longer than this run as a sum of block sums: float32 rounding then
 * grows with `red / BLOCK + BLOCK` instead of `red`, which keeps long sums
 * (a mean over a dataset) close to the CPU backend's float64 accumulator.
 */
export const BLOCK = 64;

/**
 * Sums over more terms than this first add blocks of {@link BLOCK} in parallel
 * ({@link blockSumKernel}), as often as it takes, so that no thread adds more than this
 * many values: one thread per output would leave a GPU idle on a long sum, and some drivers
 * end a shader's loop early (lavapipe, Mesa's Vulkan on the CPU, stops after about 63,500
 * turns: a sum of 70,000 ones came out 63,551).
 */
export const LONG_SUM = BLOCK * BLOCK;

/**
 * The sums of each block of {@link BLOCK} terms along the middle axis of `[outer, red, inner]`:
 * `[outer, ceil(red / BLOCK), inner]`, each block added in the order {@link reduceKernel} adds it.
 */
export function blockSumKernel(outer: number, red: number, inner: number): KernelSpec {
  const blocks = Math.ceil(red / BLOCK);
  const head =
    inner === 1
      ? `const o = this.thread.x;\n  const ou = Math.floor((o + 0.5) / ${blocks});\n  const blk = o - ou * ${blocks};\n  const base = ou * ${red};`
      : `const o = this.thread.x;\n  const ou = Math.floor((o + 0.5) / ${blocks * inner});\n  const rem = o - ou * ${blocks * inner};\n` +
        `  const blk = Math.floor((rem + 0.5) / ${inner});\n  const base = ou * ${red * inner} + (rem - blk * ${inner});`;
  const at = inner === 1 ? 'x[base + r]' : `x[base + r * ${inner}]`;
  return {
    key: `blocksum:${outer}:${red}:${inner}`,
    source:
      `function (x) {\n  ${head}\n  let part = 0;\n  for (let j = 0; j < ${BLOCK}; j++) {\n    const r = blk * ${BLOCK} + j;\n` +
      `    if (r < ${red}) {\n      part += ${at};\n    }\n  }\n  return part;\n}`,
    output: outer * blocks * inner,
  };
}

/**
 * Statements that leave `sum over j < n of term(j)` in a new variable `name`: one loop up to
 * {@link BLOCK} terms, else blocks of {@link BLOCK} summed apart and then added. The loop
 * variables carry `name` as a suffix, so two sums in one kernel never declare the same one.
 */
export function blockedSum(name: string, n: number, term: (j: string) => string): string {
  const j = `j${name}`;
  if (n <= BLOCK) return `let ${name} = 0;\n  for (let ${j} = 0; ${j} < ${n}; ${j}++) {\n    ${name} += ${term(j)};\n  }`;
  return (
    `let ${name} = 0;\n  for (let blk${name} = 0; blk${name} < ${Math.ceil(n / BLOCK)}; blk${name}++) {\n    let part${name} = 0;\n` +
    `    for (let jj${name} = 0; jj${name} < ${BLOCK}; jj${name}++) {\n      const ${j} = blk${name} * ${BLOCK} + jj${name};\n` +
    `      if (${j} < ${n}) {\n        part${name} += ${term(j)};\n      }\n    }\n    ${name} += part${name};\n  }`
  );
}

/**
 * Reduces the middle axis of `[outer, red, inner]` (the op front-end's axis
 * set, made contiguous by a transpose when it is not). One thread per output.
 */
export function reduceKernel(op: ReduceOp, outer: number, red: number, inner: number): KernelSpec {
  const head =
    inner === 1
      ? 'const o = this.thread.x;\n  const base = o * ' + red + ';'
      : `const o = this.thread.x;\n  const ou = Math.floor((o + 0.5) / ${inner});\n  const base = ou * ${red * inner} + (o - ou * ${inner});`;
  const at = (r: string) => (inner === 1 ? `x[base + ${r}]` : `x[base + ${r} * ${inner}]`);
  let body: string;
  switch (op) {
    case 'sum':
      body = `${blockedSum('acc', red, at)}\n  return acc;`;
      break;
    case 'prod':
      body = `let acc = 1;\n  for (let r = 0; r < ${red}; r++) {\n    acc *= ${at('r')};\n  }\n  return acc;`;
      break;
    case 'max':
    case 'min':
    case 'argmax':
    case 'argmin': {
      const cmp = op === 'max' || op === 'argmax' ? '>' : '<';
      const arg = op === 'argmax' || op === 'argmin';
      body =
        `let best = ${at('0')};\n  let bi = 0;\n  for (let r = 1; r < ${red}; r++) {\n    const v = ${at('r')};\n` +
        // NaN wins (the first one), as on the CPU backend and in PyTorch; `!(v == v)`, not
        // `v != v`, which WebGPU may compile to an ordered comparison (see the note on not-equal in elementwise.ts).
        `    if (v ${cmp} best || (!(v == v) && best == best)) {\n      best = v;\n      bi = r;\n    }\n  }\n  return ${arg ? 'bi' : 'best'};`;
      break;
    }
  }
  return { key: `reduce:${op}:${outer}:${red}:${inner}`, source: `function (x) {\n  ${head}\n  ${body}\n}`, output: outer * inner };
}
