/**
 * Helpers that write kernel sources. Every kernel is a JavaScript function in
 * a string that gpu.js translates (GLSL, WebAssembly or JavaScript), with the
 * shapes baked in as literals: loops then have constant bounds, which GLSL ES
 * 1.0 requires, and each (op, shape) pair compiles once.
 *
 * Index arithmetic runs in float32 on GL. `Math.floor((i + 0.5) / s)` keeps
 * the quotient exact: the true value sits at least `0.5 / s` away from the
 * next integer, far more than the rounding error for indices below 2^24.
 */

/**
 * A finite numeric literal. Non-finite values (a `-Infinity` pad value) travel
 * as kernel arguments instead, since GLSL has no literal for them.
 */
export function lit(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`kernel literal must be finite, got ${v}`);
  return Object.is(v, -0) ? '0' : String(v);
}

/** Row-major strides of `shape`. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** Product of the dimensions. */
export function prod(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Statements that split the flat index `flat` into coordinates `prefix0..`
 * of `shape`. Returns the statements; coordinate k is named `${prefix}${k}`.
 */
export function decompose(flat: string, shape: readonly number[], prefix: string): string {
  const st = strides(shape);
  const lines: string[] = [];
  let rest = flat;
  for (let k = 0; k < shape.length; k++) {
    const name = `${prefix}${k}`;
    if (k === shape.length - 1) {
      lines.push(`const ${name} = ${rest};`);
    } else if (st[k] === 1) {
      lines.push(`const ${name} = ${rest};`);
      rest = '0';
    } else {
      lines.push(`const ${name} = Math.floor((${rest} + 0.5) / ${st[k]});`);
      lines.push(`const ${prefix}r${k} = ${rest} - ${name} * ${st[k]};`);
      rest = `${prefix}r${k}`;
    }
  }
  return lines.join('\n  ');
}

/** `c0 * s0 + c1 * s1 + ...` over the coordinates whose stride is not zero. */
export function dot(prefix: string, str: readonly number[], offset = 0): string {
  const terms: string[] = [];
  if (offset !== 0) terms.push(String(offset));
  str.forEach((s, k) => {
    if (s !== 0) terms.push(s === 1 ? `${prefix}${k}` : `${prefix}${k} * ${s}`);
  });
  return terms.length === 0 ? '0' : terms.join(' + ');
}

/**
 * Merges adjacent axes that every operand treats alike (all broadcast or all
 * not), so a broadcast kernel walks as few axes as possible. `shapes` are the
 * operands aligned to `out`'s rank.
 */
export function collapseBroadcast(
  out: readonly number[],
  shapes: readonly (readonly number[])[],
): {
  out: number[];
  shapes: number[][];
} {
  const o: number[] = [];
  const ss: number[][] = shapes.map(() => []);
  for (let k = 0; k < out.length; k++) {
    if (out[k] === 1) continue;
    const pattern = shapes.map((s) => s[k] === 1);
    const last = o.length - 1;
    const prevPattern = last >= 0 ? ss.map((s) => s[last] === 1) : null;
    if (prevPattern && pattern.every((p, i) => p === prevPattern[i])) {
      o[last] *= out[k];
      ss.forEach((s, i) => (s[last] *= shapes[i][k]));
    } else {
      o.push(out[k]);
      ss.forEach((s, i) => s.push(shapes[i][k]));
    }
  }
  return { out: o, shapes: ss };
}

/** Pads `shape` with leading 1s to `rank`. */
export function align(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Strides of `shape` (aligned to the output) with broadcast axes set to 0. */
export function broadcastStrides(shape: readonly number[]): number[] {
  return strides(shape).map((s, k) => (shape[k] === 1 ? 0 : s));
}

/** A kernel to compile: its cache key, source and flat output length. */
export interface KernelSpec {
  /** Identifies the compiled kernel: op, shapes, dtype, constants. */
  key: string;
  /** The kernel function's JavaScript source. */
  source: string;
  /** Number of output cells (the kernel's 1-D output). */
  output: number;
  /**
   * Numbers passed after the storage arguments. GLSL has no literal for an
   * infinity, and WebGPU compilers may fold `inf - inf` to 0, so kernels that must
   * produce an infinity or NaN take `Infinity` and `NaN` this way.
   */
  scalars?: readonly number[];
  /**
   * The source does not depend on the sizes (elementwise work on whole
   * arrays): one compiled kernel then serves every size, through gpu.js'
   * dynamic output and arguments, and `key` leaves the size out.
   */
  dynamic?: boolean;
}
