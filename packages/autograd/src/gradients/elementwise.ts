import {
  cast, cos, div, gt, le, lt, ge, log, mul, neg, sign, sin, square, sub, where, zerosLike, add, type Tensor, type ElementwiseAttrs,
} from '@bp/tensor';
import { reluBackward } from '@bp/tensor/internal';
import type { GradientRules } from './registry.js';
import { sumToShape } from './util.js';

const f32 = (t: Tensor) => cast(t, 'float32');

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
  // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
  pow: (dy, { inputs: [a, b], output }) => [
    a.requiresGrad ? sumToShape(mul(dy, mul(b, a.pow(sub(b, 1)))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(dy, mul(output, log(a))), b.shape) : null,
  ],
  maximum: (dy, { inputs: [a, b] }) => [
    a.requiresGrad ? sumToShape(mul(dy, f32(ge(a, b))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(dy, f32(lt(a, b))), b.shape) : null,
  ],
  minimum: (dy, { inputs: [a, b] }) => [
    a.requiresGrad ? sumToShape(mul(dy, f32(le(a, b))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(dy, f32(gt(a, b))), b.shape) : null,
  ],

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
  // Comparisons give int32 0/1: nothing to differentiate.
  eq: null,
  ne: null,
  gt: null,
  lt: null,
  ge: null,
  le: null,
};
