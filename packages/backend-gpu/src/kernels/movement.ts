import { decompose, dot, prod, strides, type KernelSpec } from './codegen.js';

/**
 * Drops size-1 axes and merges axes that stay adjacent and in order under
 * `perm`, so a transpose walks the fewest axes (a [b,1,m,n] swap of the last
 * two becomes a plain [b,m,n] one).
 */
export function simplifyPermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = perm.filter((p) => shape[p] !== 1);
  const groups: number[][] = [];
  for (const p of keep) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] + 1 === p) g.push(p);
    else groups.push([p]);
  }
  // Renumber groups in input order.
  const order = groups.map((g, i) => [g[0], i] as const).sort((x, y) => x[0] - y[0]);
  const newIndex = new Array<number>(groups.length);
  order.forEach(([, gi], rank) => (newIndex[gi] = rank));
  const newShape = new Array<number>(groups.length);
  groups.forEach((g, gi) => (newShape[newIndex[gi]] = prod(g.map((p) => shape[p]))));
  return { shape: newShape, perm: groups.map((_, gi) => newIndex[gi]) };
}

/** Axes permuted: `out.shape[i] = shape[perm[i]]`. */
export function transposeKernel(shape: readonly number[], perm: readonly number[]): KernelSpec {
  const s = simplifyPermutation(shape, perm);
  const n = prod(shape);
  if (s.shape.length <= 1) return copyLike(n);
  const inStr = strides(s.shape);
  const outShape = s.perm.map((p) => s.shape[p]);
  return {
    key: `transpose:${s.shape.join('x')}:${s.perm.join(',')}`,
    source: `function (x) {\n  ${decompose('this.thread.x', outShape, 'c')}\n  return x[${dot(
      'c',
      s.perm.map((p) => inStr[p]),
    )}];\n}`,
    output: n,
  };
}

function copyLike(n: number): KernelSpec {
  return { key: 'copy:false', source: 'function (x) {\n  return x[this.thread.x];\n}', output: n, dynamic: true };
}

/** The box `begin .. begin + size` of `x`. */
export function sliceKernel(shape: readonly number[], begin: readonly number[], size: readonly number[]): KernelSpec {
  const str = strides(shape);
  const offset = begin.reduce((acc, b, k) => acc + b * str[k], 0);
  return {
    key: `slice:${shape.join('x')}:${begin.join(',')}:${size.join('x')}`,
    source: `function (x) {\n  ${decompose('this.thread.x', size, 'c')}\n  return x[${dot('c', str, offset)}];\n}`,
    output: prod(size),
  };
}

/** `x` inside a border of `value[0]` (a one-cell storage, so one kernel serves every pad value, -Infinity included). */
export function padKernel(shape: readonly number[], pads: readonly (readonly [number, number])[]): KernelSpec {
  const outShape = shape.map((d, k) => d + pads[k][0] + pads[k][1]);
  const str = strides(shape);
  const outside: string[] = [];
  const terms: string[] = [];
  shape.forEach((d, k) => {
    const [before, after] = pads[k];
    if (before !== 0) outside.push(`c${k} < ${before}`);
    if (after !== 0) outside.push(`c${k} >= ${before + d}`);
    if (str[k] !== 0 && d !== 1) terms.push(before === 0 ? `c${k} * ${str[k]}` : `(c${k} - ${before}) * ${str[k]}`);
  });
  const guard = outside.length > 0 ? `if (${outside.join(' || ')}) {\n    return value[0];\n  }\n  ` : '';
  return {
    key: `pad:${shape.join('x')}:${pads.map((p) => p.join('/')).join(',')}`,
    source: `function (x, value) {\n  ${decompose('this.thread.x', outShape, 'c')}\n  ${guard}return x[${terms.length ? terms.join(' + ') : '0'}];\n}`,
    output: prod(outShape),
  };
}

/** At most this many inputs per concat kernel: WebGL 1 guarantees only 8 texture units. */
export const CONCAT_GROUP = 4;

/**
 * Concatenation of up to {@link CONCAT_GROUP} inputs seen as `[outer, chunk_t]`
 * rows, `chunk_t` being each input's size from the concat axis on.
 */
export function concatKernel(outer: number, chunks: readonly number[]): KernelSpec {
  const total = chunks.reduce((a, b) => a + b, 0);
  const names = chunks.map((_, t) => `x${t}`);
  const lines = [`const o = this.thread.x;`, `const ou = Math.floor((o + 0.5) / ${total});`, `const w = o - ou * ${total};`];
  let start = 0;
  chunks.forEach((c, t) => {
    const read = `${names[t]}[ou * ${c} + w - ${start}]`;
    if (t === chunks.length - 1) lines.push(`return ${read};`);
    else lines.push(`if (w < ${start + c}) {\n    return ${read};\n  }`);
    start += c;
  });
  return {
    key: `concat:${outer}:${chunks.join(',')}`,
    source: `function (${names.join(', ')}) {\n  ${lines.join('\n  ')}\n}`,
    output: outer * total,
  };
}

/** `out[o, j, i] = x[o, indices[j], i]` over `[outer, dim, inner]`. */
export function gatherKernel(outer: number, dim: number, inner: number, nIdx: number): KernelSpec {
  return {
    key: `gather:${outer}:${dim}:${inner}:${nIdx}`,
    source:
      `function (x, indices) {\n  ${decompose('this.thread.x', [outer, nIdx, inner], 'c')}\n` +
      `  return x[(c0 * ${dim} + indices[c1]) * ${inner} + c2];\n}`,
    output: outer * nIdx * inner,
  };
}

/** `out[o, d, i] = sum over j with indices[j] == d of src[o, j, i]`: each output gathers its own terms, so no two threads write one cell. */
export function scatterAddKernel(outer: number, dim: number, inner: number, nIdx: number): KernelSpec {
  return {
    key: `scatterAdd:${outer}:${dim}:${inner}:${nIdx}`,
    source:
      `function (src, indices) {\n  ${decompose('this.thread.x', [outer, dim, inner], 'c')}\n` +
      `  let acc = 0;\n  for (let j = 0; j < ${nIdx}; j++) {\n    if (indices[j] == c1) {\n` +
      `      acc += src[(c0 * ${nIdx} + j) * ${inner} + c2];\n    }\n  }\n  return acc;\n}`,
    output: outer * dim * inner,
  };
}
