import type { BinaryOp, DType, UnaryOp } from '@bp/tensor';
import { UNARY_OPS, type UnaryDef } from '@bp/tensor/internal';
import { align, broadcastStrides, collapseBroadcast, decompose, dot, prod, type KernelSpec } from './codegen.js';

/** Every cell set to the scalar argument `value` (an argument, so one kernel serves every value). */
export function fillKernel(size: number): KernelSpec {
  return {
    key: 'fill',
    source: 'function (value) {\n  return value;\n}',
    output: size,
    dynamic: true,
  };
}

/** A copy, optionally truncated toward zero (float32 to int32). */
export function copyKernel(size: number, truncate: boolean): KernelSpec {
  return {
    key: `copy:${truncate}`,
    source: `function (x) {\n  return ${truncate ? 'Math.trunc(x[this.thread.x])' : 'x[this.thread.x]'};\n}`,
    output: size,
    dynamic: true,
  };
}

/**
 * sin and cos by Cody-Waite reduction to [-pi/4, pi/4] and the Cephes float32
 * polynomials: the GL built-ins are approximations (SwiftShader's stray by
 * 2e-4), these stay within a few float32 ulps for |x| below about 1e4. Past
 * {@link TRIG_EXACT} the reduction's products are no longer exact (sin(1e10)
 * came out as -3e17): there the built-in serves, exact where the kernel runs
 * in JavaScript (gpu.js's WebAssembly and CPU modes) and within [-1, 1] on GL.
 */
function trig(cos: boolean): string {
  // pi/2 split into three parts whose products with k stay exact in float32.
  const quadrant = cos ? ['c', '-s', '-c', 's'] : ['s', 'c', '-s', '-c'];
  return (
    largeArgument(cos ? 'cos' : 'sin') +
    'const k = Math.floor(v * 0.6366197723675814 + 0.5);\n' +
    '  const rr = ((v - k * 1.5703125) - k * 0.00048375129699707031) - k * 7.549789954891882e-8;\n' +
    '  const z = rr * rr;\n' +
    '  const s = rr + rr * z * (-0.16666654611 + z * (0.0083321608736 + z * -0.00019515295891));\n' +
    '  const c = 1 - 0.5 * z + z * z * (0.041666645683 + z * (-0.0013887316255 + z * 0.000024433157118));\n' +
    '  const q = k - 4 * Math.floor(k * 0.25);\n' +
    `  if (q < 0.5) {\n    return ${quadrant[0]};\n  }\n` +
    `  if (q < 1.5) {\n    return ${quadrant[1]};\n  }\n` +
    `  if (q < 2.5) {\n    return ${quadrant[2]};\n  }\n` +
    `  return ${quadrant[3]};`
  );
}

/** Below this |x| the Cody-Waite reduction of {@link trig} is exact in float32. */
const TRIG_EXACT = 8192;

/** The statement that hands a finite |v| past {@link TRIG_EXACT} to the built-in `fn` (infinities go on to give NaN). */
function largeArgument(fn: 'sin' | 'cos' | 'tan'): string {
  return `if (Math.abs(v) > ${TRIG_EXACT} && Math.abs(v) < inf) {\n    return Math.${fn}(v);\n  }\n  `;
}

/** Cephes asinf's polynomial: asin(w) for |w| <= 0.5, given `z = w * w`. */
const ASIN_POLY = '((((0.042163199048 * z + 0.024181311049) * z + 0.045470025998) * z + 0.074953002686) * z + 0.16666752422) * z * w + w';

/**
 * Statements that set `e` to erf(`u`) (`u` a variable): the Maclaurin series below 0.5, else
 * Numerical Recipes' erfc (fractional error below 1.2e-7), and ±1 from 10 on.
 */
function erfOf(u: string): string {
  return (
    `const a = Math.abs(${u});\n` +
    '  let r = 1;\n' +
    '  if (a < 0.5) {\n    const z = a * a;\n' +
    '    r = 1.1283791670955126 * a * (1 + z * (-1 / 3 + z * (1 / 10 + z * (-1 / 42 + z * (1 / 216 + z * (-1 / 1320 + z * (1 / 9360)))))));\n  }\n' +
    '  if (a >= 0.5 && a < 10) {\n    const t = 1 / (1 + 0.5 * a);\n' +
    '    r = 1 - t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));\n  }\n' +
    `  const e = ${u} < 0 ? -r : r;`
  );
}

/**
 * The scalar arguments `inf` and `nan` of kernels that must produce them. A NaN is passed
 * in, not computed: NVIDIA's Vulkan driver (WebGPU through Dawn, on an H200) and lavapipe
 * fold `inf - inf` to 0, as shader compilers may when they assume finite floats.
 */
export const SPECIAL_VALUES: readonly number[] = [Infinity, NaN];

/**
 * Each unary op as statements over `v` ending in a `return`. The forms are
 * the numerically careful ones: sigmoid and tanh never overflow, and small
 * arguments of tanh, log1p and expm1 use their series, since `exp(x) - 1` on
 * float32 loses every digit near zero. `inf` and `nan` are the arguments
 * `Infinity` and `NaN` ({@link SPECIAL_VALUES}): GL drivers return finite stand-ins
 * (log(0) = -88 on SwiftShader) where IEEE and the CPU backend give an infinity or
 * NaN, so those cases are explicit.
 */
const unaryBody: Partial<Record<UnaryOp, string>> = {
  neg: 'return -v;',
  exp: 'if (v > 88.72284) {\n    return inf;\n  }\n  return Math.exp(v);',
  log: 'if (v < 0) {\n    return nan;\n  }\n  if (v == 0) {\n    return -inf;\n  }\n  if (v == inf) {\n    return inf;\n  }\n  return Math.log(v);',
  sqrt: 'if (v < 0) {\n    return nan;\n  }\n  return Math.sqrt(v);',
  abs: 'return Math.abs(v);',
  // NaN stays NaN (as in PyTorch) through the guard unaryKernel puts before every body.
  relu: 'return v > 0 ? v : 0;',
  sigmoid: 'const e = Math.exp(-Math.abs(v));\n  return v >= 0 ? 1 / (1 + e) : e / (1 + e);',
  tanh:
    'const av = Math.abs(v);\n' +
    '  const v2 = v * v;\n' +
    '  const t = Math.exp(-2 * av);\n' +
    '  const big = (1 - t) / (1 + t);\n' +
    '  const small = v * (1 + v2 * (-1 / 3 + v2 * (2 / 15 + v2 * (-17 / 315 + v2 * (62 / 2835)))));\n' +
    '  if (av < 0.25) {\n    return small;\n  }\n' +
    '  return v < 0 ? -big : big;',
  sign: 'return v > 0 ? 1 : (v < 0 ? -1 : 0);',
  step: 'return v > 0 ? 1 : 0;',
  square: 'return v * v;',
  reciprocal: 'return 1 / v;',
  floor: 'return Math.floor(v);',
  ceil: 'return Math.ceil(v);',
  // Halves to even, as PyTorch: floor(v + 0.5) takes them up, so step back where that lands on an odd integer.
  round: 'const r = Math.floor(v + 0.5);\n  if (r - v == 0.5 && r - 2 * Math.floor(r * 0.5) == 1) {\n    return r - 1;\n  }\n  return r;',
  log1p:
    'if (v < -1) {\n    return nan;\n  }\n  if (v == -1) {\n    return -inf;\n  }\n' +
    '  if (Math.abs(v) < 0.1) {\n' +
    '    return v * (1 + v * (-1 / 2 + v * (1 / 3 + v * (-1 / 4 + v * (1 / 5 + v * (-1 / 6 + v * (1 / 7)))))));\n' +
    '  }\n' +
    '  return Math.log(1 + v);',
  expm1:
    'if (v > 88.72284) {\n    return inf;\n  }\n' +
    '  if (Math.abs(v) < 0.1) {\n' +
    '    return v * (1 + v * (1 / 2 + v * (1 / 6 + v * (1 / 24 + v * (1 / 120 + v * (1 / 720))))));\n' +
    '  }\n' +
    '  return Math.exp(v) - 1;',
  sin: trig(false),
  cos: trig(true),
  // Cephes tanf on the same reduction as sin and cos; odd quadrants give -1/tan.
  tan:
    largeArgument('tan') +
    'const k = Math.floor(v * 0.6366197723675814 + 0.5);\n' +
    '  const rr = ((v - k * 1.5703125) - k * 0.00048375129699707031) - k * 7.549789954891882e-8;\n' +
    '  const z = rr * rr;\n' +
    '  const t = rr + rr * z * (0.333331568548 + z * (0.133387994085 + z * (0.0534112807005 + z * (0.0244301354525 + z * (0.00311992232697 + z * 0.00938540185543)))));\n' +
    '  if (k - 2 * Math.floor(k * 0.5) > 0.5) {\n    return -1 / t;\n  }\n' +
    '  return t;',
  // Cephes asinf: the polynomial on |x| <= 0.5, asin(x) = pi/2 - 2 asin(sqrt((1 - x) / 2)) above.
  asin:
    'const a = Math.abs(v);\n' +
    '  if (a > 1) {\n    return nan;\n  }\n' +
    '  let w = a;\n' +
    '  if (a > 0.5) {\n    w = Math.sqrt(0.5 * (1 - a));\n  }\n' +
    `  const z = w * w;\n  let r = ${ASIN_POLY};\n` +
    '  if (a > 0.5) {\n    r = 1.5707963267948966 - (r + r);\n  }\n' +
    '  return v < 0 ? -r : r;',
  // acos from the same polynomial, never as pi/2 - asin(x) near +-1, where that cancels.
  acos:
    'if (Math.abs(v) > 1) {\n    return nan;\n  }\n' +
    '  let w = v;\n' +
    '  if (v > 0.5) {\n    w = Math.sqrt(0.5 * (1 - v));\n  }\n' +
    '  if (v < -0.5) {\n    w = Math.sqrt(0.5 * (1 + v));\n  }\n' +
    `  const z = w * w;\n  const r = ${ASIN_POLY};\n` +
    '  if (v > 0.5) {\n    return r + r;\n  }\n' +
    '  if (v < -0.5) {\n    return 3.141592653589793 - (r + r);\n  }\n' +
    '  return 1.5707963267948966 - r;',
  // Cephes atanf: reduced to |x| <= tan(pi/8) by atan(x) = pi/4 + atan((x - 1) / (x + 1)) or pi/2 - atan(1/x).
  atan:
    'const a = Math.abs(v);\n' +
    '  let y = 0;\n  let w = a;\n' +
    '  if (a > 2.414213562373095) {\n    y = 1.5707963267948966;\n    w = -1 / a;\n  }\n' +
    '  if (a > 0.41421356237309503 && a <= 2.414213562373095) {\n    y = 0.7853981633974483;\n    w = (a - 1) / (a + 1);\n  }\n' +
    '  const z = w * w;\n' +
    '  const r = y + (((0.0805374449538 * z - 0.138776856032) * z + 0.199777106478) * z - 0.333329491539) * z * w + w;\n' +
    '  return v < 0 ? -r : r;',
  // Series near 0 (e - 1/e cancels there); exp(|x| - ln 2) past exp's overflow, where sinh is still finite.
  sinh:
    'const a = Math.abs(v);\n' +
    '  let r = 0;\n' +
    '  if (a < 0.5) {\n    const z = a * a;\n    r = a + a * z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z * (1 / 362880))));\n  }\n' +
    '  if (a >= 0.5 && a <= 88) {\n    const e = Math.exp(a);\n    r = 0.5 * (e - 1 / e);\n  }\n' +
    '  if (a > 88) {\n    r = a > 89.41599 ? inf : Math.exp(a - 0.6931471805599453);\n  }\n' +
    '  return v < 0 ? -r : r;',
  cosh:
    'const a = Math.abs(v);\n' +
    '  if (a > 88) {\n    return a > 89.41599 ? inf : Math.exp(a - 0.6931471805599453);\n  }\n' +
    '  const e = Math.exp(a);\n  return 0.5 * (e + 1 / e);',
  // Series below 0.25 (log(a + sqrt(a^2 + 1)) loses digits there); log(2a) where a^2 would overflow.
  asinh:
    'const a = Math.abs(v);\n' +
    '  if (a == inf) {\n    return v;\n  }\n' +
    '  let r = 0;\n' +
    '  if (a < 0.25) {\n    const z = a * a;\n    r = a + a * z * (-1 / 6 + z * (3 / 40 + z * (-15 / 336 + z * (105 / 3456 + z * (-945 / 42240 + z * (10395 / 599040))))));\n  }\n' +
    '  if (a >= 0.25 && a <= 10000) {\n    r = Math.log(a + Math.sqrt(a * a + 1));\n  }\n' +
    '  if (a > 10000) {\n    r = Math.log(a) + 0.6931471805599453;\n  }\n' +
    '  return v < 0 ? -r : r;',
  // Near 1, acosh(1 + d) = sqrt(2d) (1 - d/12 + 3d^2/160 - ...): the log form cancels there.
  acosh:
    'if (v < 1) {\n    return nan;\n  }\n' +
    '  if (v == inf) {\n    return inf;\n  }\n' +
    '  if (v > 10000) {\n    return Math.log(v) + 0.6931471805599453;\n  }\n' +
    '  const d = v - 1;\n' +
    '  if (d < 0.1) {\n    return Math.sqrt(2 * d) * (1 + d * (-1 / 12 + d * (3 / 160 + d * (-5 / 896 + d * (35 / 18432 + d * (-63 / 90112))))));\n  }\n' +
    '  return Math.log(v + Math.sqrt(v * v - 1));',
  atanh:
    'const a = Math.abs(v);\n' +
    '  if (a > 1) {\n    return nan;\n  }\n' +
    '  if (a == 1) {\n    return v > 0 ? inf : -inf;\n  }\n' +
    '  let r = 0;\n' +
    '  if (a < 0.1) {\n    const z = a * a;\n    r = a + a * z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9))));\n  }\n' +
    '  if (a >= 0.1) {\n    r = 0.5 * Math.log((1 + a) / (1 - a));\n  }\n' +
    '  return v < 0 ? -r : r;',
  erf: `${erfOf('v')}\n  return e;`,
  // Exact GELU and its derivative in the order of the CPU backend and PyTorch: x * 0.5 * (1 + erf(x / sqrt 2))
  // (+ 0 turns -0 into 0, as there), and 0.5 * (1 + erf(x / sqrt 2)) + x * e^(-x^2/2) / sqrt(2 pi).
  gelu: `const u = v * 0.7071067811865476;\n  ${erfOf('u')}\n  return v * 0.5 * (1 + e) + 0;`,
  geluGrad:
    `const u = v * 0.7071067811865476;\n  ${erfOf('u')}\n` +
    '  const pdf = 0.3989422804014327 * Math.exp(v * v * -0.5);\n' +
    '  return 0.5 * (1 + e) + v * pdf;',
  trunc: 'return v < 0 ? -Math.floor(-v) : Math.floor(v);',
  rsqrt: 'if (v < 0) {\n    return nan;\n  }\n  if (v == 0) {\n    return inf;\n  }\n  return 1 / Math.sqrt(v);',
  log2:
    'if (v < 0) {\n    return nan;\n  }\n  if (v == 0) {\n    return -inf;\n  }\n  if (v == inf) {\n    return inf;\n  }\n' +
    '  return Math.log(v) * 1.4426950408889634;',
  exp2: 'if (v >= 128) {\n    return inf;\n  }\n  if (v < -150) {\n    return 0;\n  }\n  return Math.exp(v * 0.6931471805599453);',
};

/** Unary ops whose value at NaN is 0 in PyTorch (`sign`; `step` as `heaviside(x, 0)`). */
const NAN_TO_ZERO: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['sign', 'step']);

/**
 * `op` applied to every cell: this backend's careful form, else the kernel body its
 * definition in @bp/tensor gives, else null (the backend then computes it on the host).
 */
export function unaryKernel(op: UnaryOp, size: number): KernelSpec | null {
  const own = unaryBody[op] ?? (UNARY_OPS[op] as UnaryDef).gpu;
  if (own === undefined) return null;
  // NaN gives NaN, as in PyTorch (sign and step give 0 from their comparisons): explicit, since GL
  // and WebGPU builtins need not keep it (SwiftShader's log(NaN) is 89.1).
  const body = NAN_TO_ZERO.has(op) ? own : `if (!(v == v)) {\n    return nan;\n  }\n  ${own}`;
  const special = /\b(inf|nan)\b/.test(body);
  return {
    key: `unary:${op}`,
    source: `function (x${special ? ', inf, nan' : ''}) {\n  const v = x[this.thread.x];\n  ${body}\n}`,
    output: size,
    dynamic: true,
    ...(special ? { scalars: SPECIAL_VALUES } : {}),
  };
}

/*
 * Not-equal on floats: kernel sources never use `!=`. On WebGPU, Tint (Chromium's WGSL compiler) may
 * treat `a != b` as an ordered comparison, false when either side is NaN (the WGSL spec lets
 * an implementation assume finite floats): on SwiftShader `v != v` is false for NaN and so is
 * `NaN != 0`, while `==`, `<` and `>=` are false on NaN as IEEE says. So not-equal is written
 * `!(a == b)` or as `==` with the branches swapped, which every gpu.js mode evaluates as IEEE
 * does. (A bit test on the float, which no compiler can fold, cannot be written: gpu.js'
 * WGSL has no bitcast of a float, its bitwise operators convert the value with `i32()`, and its
 * WebGPU mode takes no native functions.)
 */

/**
 * Each binary op over `p` and `q`. pow follows Math.pow: integer exponents up
 * to 64 go by repeated squaring, exact where the product is (GL's pow is
 * exp2(q log2 p): 3^8 = 6560.4 on SwiftShader); larger ones use pow, since
 * squaring doubles the rounding error at every step. A negative base keeps
 * its sign for odd integer exponents (GLSL's pow is undefined there).
 */
function binaryBody(op: BinaryOp, truncate: boolean): string {
  const ret = (e: string) => (truncate ? `return Math.trunc(${e});` : `return ${e};`);
  switch (op) {
    case 'add':
      return ret('p + q');
    case 'sub':
      return ret('p - q');
    case 'mul':
      return ret('p * q');
    case 'div':
      return ret('p / q');
    // NaN on either side wins, as on the CPU backend and in PyTorch. The NaN test is
    // `!(p == p)`, never `p != p` (see the note on not-equal above).
    case 'maximum':
      return ret('(p >= q || !(p == p)) ? p : q');
    case 'minimum':
      return ret('(p <= q || !(p == p)) ? p : q');
    case 'eq':
      return 'return p == q ? 1 : 0;';
    case 'ne':
      return 'return p == q ? 0 : 1;';
    case 'gt':
      return 'return p > q ? 1 : 0;';
    case 'lt':
      return 'return p < q ? 1 : 0;';
    case 'ge':
      return 'return p >= q ? 1 : 0;';
    case 'le':
      return 'return p <= q ? 1 : 0;';
    case 'pow':
      return (
        // 1 to any power and -1 to an infinite one are 1, as C's pow (PyTorch) gives them.
        'if (q == 0 || p == 1 || (p == -1 && Math.abs(q) == inf)) {\n    return 1;\n  }\n' +
        // A NaN base or exponent gives NaN (GL's pow is undefined there: SwiftShader gives Infinity for 2^NaN).
        'if (!(p == p) || !(q == q)) {\n    return nan;\n  }\n' +
        '  const ap = Math.abs(p);\n' +
        '  let r = 1;\n' +
        // 0 to a negative power is Infinity (GL's pow gives a large finite value there).
        '  if (ap == 0) {\n    if (q < 0) {\n      r = inf;\n    } else {\n      r = 0;\n    }\n' +
        '  } else if (Math.floor(q) == q && Math.abs(q) <= 64) {\n' +
        '    let base = ap;\n    let e = Math.abs(q);\n' +
        '    for (let bit = 0; bit < 7; bit++) {\n' +
        '      const h = Math.floor(e * 0.5);\n' +
        '      if (e - h * 2 > 0.5) {\n        r *= base;\n      }\n' +
        '      base *= base;\n      e = h;\n    }\n' +
        '    if (q < 0) {\n      r = 1 / r;\n    }\n' +
        '  } else {\n    r = Math.pow(ap, q);\n  }\n' +
        '  if (p < 0) {\n' +
        '    if (Math.floor(q) == q) {\n' +
        '      const half = q * 0.5;\n' +
        '      if (!(Math.floor(half) == half)) {\n        r = -r;\n      }\n' +
        // A negative base to a fractional power is NaN, but -Infinity's is |p|^q (Infinity or 0), as IEEE pow.
        '    } else if (!(p == -inf)) {\n      r = nan;\n    }\n' +
        '  }\n  ' +
        ret('r')
      );
  }
}

/** Index expressions of each operand in a broadcast over `outShape`, with the statements they need. */
export function broadcastIndices(
  outShape: readonly number[],
  shapes: readonly (readonly number[])[],
): { prelude: string; index: string[]; key: string; dynamic: boolean } {
  const n = prod(outShape);
  const rank = outShape.length;
  const aligned = shapes.map((s) => align(s, rank));
  const sizes = shapes.map((s) => prod(s));
  if (sizes.every((s) => s === n || s === 1)) {
    // Whole arrays and scalars: the source is the same for every size.
    return {
      prelude: 'const i = this.thread.x;',
      index: sizes.map((s) => (s === n ? 'i' : '0')),
      key: sizes.map((s) => (s === n ? 'f' : 's')).join(''),
      dynamic: true,
    };
  }
  const c = collapseBroadcast(outShape, aligned);
  const prelude = `const i = this.thread.x;\n  ${decompose('i', c.out, 'c')}`;
  return {
    prelude,
    index: c.shapes.map((s) => dot('c', broadcastStrides(s))),
    key: `${c.out.join('x')}|${c.shapes.map((s) => s.join('x')).join('|')}`,
    dynamic: false,
  };
}

/** `op` over two broadcast operands. int32 results of pow are truncated, as an Int32Array store would. */
export function binaryKernel(
  op: BinaryOp,
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  outDtype: DType,
): KernelSpec {
  const truncate = outDtype === 'int32' && op === 'pow';
  const ix = broadcastIndices(outShape, [aShape, bShape]);
  return {
    key: `binary:${op}:${truncate}:${ix.dynamic ? '' : prod(outShape)}:${ix.key}`,
    dynamic: ix.dynamic,
    source: `function (a, b${op === 'pow' ? ', inf, nan' : ''}) {\n  ${ix.prelude}\n  const p = a[${ix.index[0]}];\n  const q = b[${ix.index[1]}];\n  ${binaryBody(op, truncate)}\n}`,
    output: prod(outShape),
    ...(op === 'pow' ? { scalars: SPECIAL_VALUES } : {}),
  };
}

/** `a` where `cond` is non-zero, else `b`, all three broadcast. */
export function whereKernel(
  cShape: readonly number[],
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): KernelSpec {
  const ix = broadcastIndices(outShape, [cShape, aShape, bShape]);
  return {
    key: `where:${ix.dynamic ? '' : prod(outShape)}:${ix.key}`,
    dynamic: ix.dynamic,
    source:
      `function (cond, a, b) {\n  ${ix.prelude}\n` +
      `  if (cond[${ix.index[0]}] == 0) {\n    return b[${ix.index[2]}];\n  }\n  return a[${ix.index[1]}];\n}`,
    output: prod(outShape),
  };
}
