/**
 * Every elementwise primitive of one input, defined once: `f` is its value on one
 * number (float64 arithmetic, rounded to float32 on store), which the CPU backend
 * runs and every test compares with. `keepsInt` ops keep int32 inputs int32 (the rest
 * compute in float32). `gpu`, when given, is the same function as the body of a
 * gpu.js kernel over `v` (GPU backends use their own careful forms where they have
 * one, this body next, and `f` on the host last).
 *
 * Adding an entry here is all a new primitive needs from the backends; its front-end
 * function and gradient rule go in ops/elementwise.ts and @bp/autograd.
 */
export interface UnaryDef {
  readonly f: (x: number) => number;
  readonly keepsInt?: boolean;
  readonly gpu?: string;
}

/**
 * The error function in float64, far below float32's rounding: its Maclaurin series for
 * |x| < 2.5 (alternating terms stay below 20, so about 1e-15 is lost), and 1 - erfc(|x|)
 * from erfc's continued fraction (60 terms, evaluated from the tail) beyond. Slow (up to
 * 60 terms a value): {@link erf} evaluates fits made from it.
 */
function erfSeries(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a < 2.5) {
    const z = a * a;
    let term = a;
    let total = a;
    for (let n = 1; n < 60; n++) {
      term *= -z / n;
      const add = term / (2 * n + 1);
      total += add;
      if (Math.abs(add) < 1e-17 * Math.abs(total)) break;
    }
    const r = total * 1.1283791670955126; // 2 / sqrt(pi)
    return x < 0 ? -r : r;
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...)))))
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
  const r = 1 - Math.exp(-a * a) / (1.7724538509055159 * f);
  return x < 0 ? -r : r;
}

/**
 * The first `keep` Chebyshev coefficients of `g` on `[lo, hi]`, from its values at `n`
 * Chebyshev nodes.
 */
function chebyshevFit(g: (x: number) => number, lo: number, hi: number, n: number, keep: number): Float64Array {
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = g(((hi - lo) / 2) * Math.cos((Math.PI * (j + 0.5)) / n) + (hi + lo) / 2);
  const c = new Float64Array(keep);
  for (let k = 0; k < keep; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += values[j] * Math.cos((Math.PI * k * (j + 0.5)) / n);
    c[k] = ((k === 0 ? 1 : 2) / n) * s;
  }
  return c;
}

/** The Chebyshev series `c` on `[lo, hi]` at `x` (Clenshaw's recurrence). */
function chebyshevAt(c: Float64Array, lo: number, hi: number, x: number): number {
  const t = (2 * x - lo - hi) / (hi - lo);
  let b1 = 0;
  let b2 = 0;
  for (let k = c.length - 1; k >= 1; k--) {
    const b = 2 * t * b1 - b2 + c[k];
    b2 = b1;
    b1 = b;
  }
  return t * b1 - b2 + c[0];
}

// erf(x) = x * q(x^2) on [-1, 1], q smooth in x^2 (so small arguments keep their relative
// accuracy and -0 its sign), then erf itself on [1, 2], [2, 3] and [3, 4.5]. The coefficients
// kept are those above 1e-15; each fit is within about 1e-14 of the series (checked in
// unary-ops.test.ts). Made once, from 104 series values.
const ERF_Q = chebyshevFit((z) => erfSeries(Math.sqrt(z)) / Math.sqrt(z), 0, 1, 26, 12);
const ERF_1_2 = chebyshevFit(erfSeries, 1, 2, 26, 16);
const ERF_2_3 = chebyshevFit(erfSeries, 2, 3, 26, 16);
const ERF_3_45 = chebyshevFit(erfSeries, 3, 4.5, 26, 16);

/**
 * The error function in float64, within about 1e-14 of the exact value (far below
 * float32's rounding): Chebyshev fits of the series on [0, 4.5], and the continued
 * fraction of erfc beyond.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return x * chebyshevAt(ERF_Q, 0, 1, x * x);
  let r: number;
  if (a < 2) r = chebyshevAt(ERF_1_2, 1, 2, a);
  else if (a < 3) r = chebyshevAt(ERF_2_3, 2, 3, a);
  else if (a < 4.5) r = chebyshevAt(ERF_3_45, 3, 4.5, a);
  else return erfSeries(x);
  return x < 0 ? -r : r;
}

const f32 = Math.fround;
const SQRT1_2_F = f32(Math.SQRT1_2);
// 1 / sqrt(2 pi), the normal density's constant, as PyTorch's float32 kernels hold it.
const INV_SQRT_2PI_F = f32(0.3989422804014327);

/**
 * Exact GELU, `x Φ(x) = x * 0.5 * (1 + erf(x / sqrt 2))`, rounded to float32 after each step
 * in PyTorch's order (so its float32 results are PyTorch's, including the coarse values below
 * about -4 where `1 + erf` keeps few bits). Zero comes out as +0 (also for -0 and for x below
 * about -5.9), as PyTorch's CPU kernel gives; `gelu(-Infinity)` is NaN (`-Inf * 0`), also as
 * PyTorch.
 */
export function gelu(x: number): number {
  return f32(x * 0.5) * f32(1 + f32(erf(f32(x * SQRT1_2_F)))) + 0;
}

/**
 * The derivative of exact GELU, `Φ(x) + x φ(x) = 0.5 (1 + erf(x / sqrt 2)) + x e^(-x^2/2) / sqrt(2 pi)`,
 * rounded to float32 after each step in PyTorch's order (its `gelu_backward` without the `dy`
 * factor). NaN at ±Infinity (`±Inf * 0`) and for NaN, as PyTorch.
 */
export function geluGrad(x: number): number {
  const cdf = 0.5 * f32(1 + f32(erf(f32(x * SQRT1_2_F))));
  const pdf = f32(INV_SQRT_2PI_F * f32(Math.exp(f32(f32(x * x) * -0.5))));
  return cdf + f32(x * pdf);
}

/** @internal The slow reference {@link erf} is fitted to, for tests. */
export const erfReference = erfSeries;

/**
 * The elementwise primitives of one input. `step` is 1 where x > 0 else 0 (the derivative of relu);
 * `geluGrad` is the derivative of `gelu` (exact GELU).
 */
export const UNARY_OPS = {
  neg: { f: (x) => -x, keepsInt: true },
  exp: { f: Math.exp },
  log: { f: Math.log },
  sqrt: { f: Math.sqrt },
  abs: { f: Math.abs, keepsInt: true },
  relu: { f: (x) => (x > 0 ? x : 0), keepsInt: true },
  sigmoid: { f: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))) },
  tanh: { f: Math.tanh },
  sign: { f: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), keepsInt: true },
  step: { f: (x) => (x > 0 ? 1 : 0) },
  square: { f: (x) => x * x, keepsInt: true },
  reciprocal: { f: (x) => 1 / x },
  floor: { f: Math.floor },
  ceil: { f: Math.ceil },
  // Halves to even, as PyTorch and NumPy (Math.round takes halves up).
  round: {
    f: (x) => {
      const r = Math.round(x);
      return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
  },
  log1p: { f: Math.log1p },
  expm1: { f: Math.expm1 },
  sin: { f: Math.sin },
  cos: { f: Math.cos },
  tan: { f: Math.tan },
  asin: { f: Math.asin },
  acos: { f: Math.acos },
  atan: { f: Math.atan },
  sinh: { f: Math.sinh },
  cosh: { f: Math.cosh },
  asinh: { f: Math.asinh },
  acosh: { f: Math.acosh },
  atanh: { f: Math.atanh },
  erf: { f: erf },
  gelu: { f: gelu },
  geluGrad: { f: geluGrad },
  trunc: { f: Math.trunc },
  rsqrt: { f: (x) => 1 / Math.sqrt(x) },
  log2: { f: Math.log2 },
  log10: {
    f: Math.log10,
    gpu: 'if (v < 0) {\n    return inf - inf;\n  }\n  if (v == 0) {\n    return -inf;\n  }\n  if (v == inf) {\n    return inf;\n  }\n  return Math.log(v) * 0.4342944819032518;',
  },
  exp2: { f: (x) => 2 ** x },
} as const satisfies Record<string, UnaryDef>;

/** The name of an elementwise primitive of one input. */
export type UnaryOp = keyof typeof UNARY_OPS;
