import type { KernelSpec } from './codegen.js';

/**
 * `op(A) @ op(B)` for a batch, one thread per output cell. The dot product is
 * unrolled by four: each iteration issues four independent fetch pairs, which
 * the GL drivers and gpu.js' SIMD WebAssembly both schedule better than a
 * one-term loop. (gpu.js kernels are fragment shaders or their equivalents,
 * with no shared memory to stage tiles in, so the tile is this register one.)
 */
export function matmulKernel(
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): KernelSpec {
  return {
    key: `matmul:${batchA}:${batchB}:${m}:${k}:${n}:${transA}:${transB}`,
    source: `function (a, b) {\n  ${matmulLines(batchA, batchB, m, k, n, transA, transB).join('\n  ')}\n  return acc;\n}`,
    output: Math.max(batchA, batchB) * m * n,
  };
}

/**
 * The statements of {@link matmulKernel}'s body up to its return: they leave the dot
 * product of output cell (`t`, `i`, `j`) in `acc`, reading the arguments `a` and `b`.
 * Fused kernels (see `fused.ts`) add their epilogue after them, so their products are
 * the same sums in the same order.
 */
export function matmulLines(batchA: number, batchB: number, m: number, k: number, n: number, transA: boolean, transB: boolean): string[] {
  const batch = Math.max(batchA, batchB);
  const mn = m * n;
  const lines: string[] = ['const o = this.thread.x;'];
  if (batch > 1) {
    lines.push(`const t = Math.floor((o + 0.5) / ${mn});`, `const rem = o - t * ${mn};`);
  } else {
    lines.push('const t = 0;', 'const rem = o;');
  }
  lines.push(`const i = Math.floor((rem + 0.5) / ${n});`, `const j = rem - i * ${n};`);
  lines.push(`const aBase = ${batchA === 1 ? '0' : `t * ${m * k}`};`, `const bBase = ${batchB === 1 ? '0' : `t * ${k * n}`};`);
  // Element p of A's row i and of B's column j.
  const aAt = (p: string) => (transA ? `a[aBase + (${p}) * ${m} + i]` : `a[aBase + i * ${k} + ${p}]`);
  const bAt = (p: string) => (transB ? `b[bBase + j * ${k} + ${p}]` : `b[bBase + (${p}) * ${n} + j]`);
  const quads = Math.floor(k / 4);
  lines.push('let acc = 0;');
  if (quads > 0) {
    lines.push(
      `for (let q = 0; q < ${quads}; q++) {`,
      '    const p = q * 4;',
      `    acc += ${aAt('p')} * ${bAt('p')} + ${aAt('p + 1')} * ${bAt('p + 1')} + ${aAt('p + 2')} * ${bAt('p + 2')} + ${aAt('p + 3')} * ${bAt('p + 3')};`,
      '  }',
    );
  }
  for (let p = quads * 4; p < k; p++) lines.push(`acc += ${aAt(String(p))} * ${bAt(String(p))};`);
  return lines;
}
