import {
  add,
  cos,
  cosh,
  div,
  eq,
  exp,
  ge,
  gt,
  log,
  lt,
  mul,
  neg,
  pow,
  rsqrt,
  sign,
  sin,
  sinh,
  square,
  sub,
  where,
  zerosLike,
  type ElementwiseAttrs,
  type Tensor,
} from '@bp/tensor';
import { geluBackward, geluGrad, reluBackward } from '@bp/tensor/internal';
import type { GradientRules } from './registry.js';
import { sumToShape } from './util.js';

/**
 * The gradient of maximum/minimum: `a` gets `dy` unless it lost (`aLost`), `b` unless it lost,
 * each half of it on ties. NaN compares unequal and loses nothing, so it gets the whole gradient.
 */
function tieSplit(dy: Tensor, a: Tensor, b: Tensor, aLost: Tensor, bLost: Tensor): (Tensor | null)[] {
  const shared = where(eq(a, b), mul(dy, 0.5), dy);
  return [
    a.requiresGrad ? sumToShape(where(aLost, 0, shared), a.shape) : null,
    b.requiresGrad ? sumToShape(where(bLost, 0, shared), b.shape) : null,
  ];
}

/** The gradient of every elementwise op. */
export const elementwiseGradients: GradientRules<keyof ElementwiseAttrs> = {
  add: (dy, { inputs: [a, b] }) => [sumToShape(dy, a.shape), sumToShape(dy, b.shape)],
  sub: (dy, { inputs: [a, b] }) => [sumToShape(dy, a.shape), b.requiresGrad ? sumToShape(neg(dy), b.shape) : null],
  mul: (dy, { inputs: [a, b] }) => [
    a.requiresGrad ? sumToShape(mul(dy, b), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(dy, a), b.shape) : null,
  ],
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
  div: (dy, { inputs: [a, b], output }) => [
    a.requiresGrad ? sumToShape(div(dy, b), a.shape) : null,
    b.requiresGrad ? sumToShape(neg(div(mul(dy, output), b)), b.shape) : null,
  ],
  // d(a^b)/da = b a^(b-1), 0 where b = 0 (also at a = 0); d(a^b)/db = a^b ln a, 0 where a = 0 and
  // b >= 0 (PyTorch's conventions, where the formulas give 0 * Inf).
  pow: (dy, { inputs: [a, b], output }) => [
    a.requiresGrad ? sumToShape(mul(dy, where(eq(b, 0), 0, mul(b, a.pow(sub(b, 1))))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(dy, where(mul(eq(a, 0), ge(b, 0)), 0, mul(output, log(a)))), b.shape) : null,
  ],
  // PyTorch's tie rule: where a == b each side gets half the gradient.
  maximum: (dy, { inputs: [a, b] }) => tieSplit(dy, a, b, lt(a, b), gt(a, b)),
  minimum: (dy, { inputs: [a, b] }) => tieSplit(dy, a, b, gt(a, b), lt(a, b)),

  neg: (dy) => [neg(dy)],
  exp: (dy, { output }) => [mul(dy, output)],
  log: (dy, { inputs: [x] }) => [div(dy, x)],
  sqrt: (dy, { output }) => [div(dy, mul(output, 2))],
  square: (dy, { inputs: [x] }) => [mul(dy, mul(x, 2))],
  abs: (dy, { inputs: [x] }) => [mul(dy, sign(x))],
  // dy where x > 0, else 0: one fused pass where the backend has one.
  relu: (dy, { inputs: [x] }) => [reluBackward(dy, x)],
  // sigmoid' = s (1 - s); tanh' = 1 - t^2, both from the saved output
  sigmoid: (dy, { output }) => [mul(dy, mul(output, sub(1, output)))],
  tanh: (dy, { output }) => [mul(dy, sub(1, square(output)))],
  sign: (dy) => [zerosLike(dy)],
  step: (dy) => [zerosLike(dy)],
  cast: (dy, { inputs: [x] }) => [x.dtype === 'float32' ? dy : null],
  identity: (dy) => [dy],
  where: (dy, { inputs: [c, a, b] }) => [
    null,
    a.requiresGrad ? sumToShape(where(c, dy, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(c, 0, dy), b.shape) : null,
  ],
  // 1/x: -1/x^2 = -out^2
  reciprocal: (dy, { output }) => [neg(mul(dy, square(output)))],
  // Piecewise constant: zero almost everywhere (PyTorch's convention at the jumps too).
  floor: (dy) => [zerosLike(dy)],
  ceil: (dy) => [zerosLike(dy)],
  round: (dy) => [zerosLike(dy)],
  log1p: (dy, { inputs: [x] }) => [div(dy, add(x, 1))],
  // (e^x - 1)' = e^x = out + 1
  expm1: (dy, { output }) => [mul(dy, add(output, 1))],
  sin: (dy, { inputs: [x] }) => [mul(dy, cos(x))],
  cos: (dy, { inputs: [x] }) => [neg(mul(dy, sin(x)))],
  // tan' = 1 + tan^2; asin' = 1/sqrt(1 - x^2); acos' = -asin'; atan' = 1/(1 + x^2)
  tan: (dy, { output }) => [mul(dy, add(square(output), 1))],
  asin: (dy, { inputs: [x] }) => [mul(dy, rsqrt(sub(1, square(x))))],
  acos: (dy, { inputs: [x] }) => [neg(mul(dy, rsqrt(sub(1, square(x)))))],
  atan: (dy, { inputs: [x] }) => [div(dy, add(square(x), 1))],
  sinh: (dy, { inputs: [x] }) => [mul(dy, cosh(x))],
  cosh: (dy, { inputs: [x] }) => [mul(dy, sinh(x))],
  // asinh' = 1/sqrt(x^2 + 1); acosh' = 1/sqrt(x^2 - 1); atanh' = 1/(1 - x^2)
  asinh: (dy, { inputs: [x] }) => [mul(dy, rsqrt(add(square(x), 1)))],
  acosh: (dy, { inputs: [x] }) => [mul(dy, rsqrt(sub(square(x), 1)))],
  atanh: (dy, { inputs: [x] }) => [div(dy, sub(1, square(x)))],
  // erf' = 2/sqrt(pi) e^(-x^2)
  erf: (dy, { inputs: [x] }) => [mul(dy, mul(exp(neg(square(x))), 1.1283791670955126))],
  // gelu' = Φ(x) + x φ(x), one primitive (PyTorch's gelu_backward); geluGrad' = φ(x) (2 - x^2).
  // With Φ(x) saved by a fused forward pass, one kernel and no second erf (the same bits).
  gelu: (dy, { inputs: [x], saved }) => [saved.length > 0 ? geluBackward(dy, x, saved[0]) : mul(dy, geluGrad(x))],
  geluGrad: (dy, { inputs: [x] }) => {
    const x2 = square(x);
    return [mul(dy, mul(mul(exp(mul(x2, -0.5)), 0.3989422804014327), sub(2, x2)))];
  },
  trunc: (dy) => [zerosLike(dy)],
  // (x^-1/2)' = -x^(-3/2)/2 = -out^3/2
  rsqrt: (dy, { output }) => [mul(dy, mul(pow(output, 3), -0.5))],
  log2: (dy, { inputs: [x] }) => [div(dy, mul(x, Math.LN2))],
  // d log10(x) / dx = 1 / (x ln 10)
  log10: (dy, { inputs: [x] }) => [div(dy, mul(x, Math.LN10))],
  exp2: (dy, { output }) => [mul(dy, mul(output, Math.LN2))],
  // Comparisons give int32 0/1: nothing to differentiate.
  eq: null,
  ne: null,
  gt: null,
  lt: null,
  ge: null,
  le: null,
};
