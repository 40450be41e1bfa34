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
 * from erfc's continued fraction (60 terms, evaluated from the tail) beyond.
 */
export function erf(x: number): number {
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

/** The elementwise primitives of one input. `step` is 1 where x > 0 else 0 (the derivative of relu). */
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
