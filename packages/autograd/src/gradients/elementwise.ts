import {
  cast, div, gt, le, lt, ge, log, mul, neg, reluBackward, sign, square, sub, where, zerosLike, type Tensor,
} from '@bp/tensor';
import { registerGradient } from './registry.js';
import { sumToShape } from './util.js';

const f32 = (t: Tensor) => cast(t, 'float32');

registerGradient('add', (dy, { inputs: [a, b] }) => [sumToShape(dy, a.shape), sumToShape(dy, b.shape)]);
registerGradient('sub', (dy, { inputs: [a, b] }) => [sumToShape(dy, a.shape), b.requiresGrad ? sumToShape(neg(dy), b.shape) : null]);
registerGradient('mul', (dy, { inputs: [a, b] }) => [
  a.requiresGrad ? sumToShape(mul(dy, b), a.shape) : null,
  b.requiresGrad ? sumToShape(mul(dy, a), b.shape) : null,
]);
// d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
registerGradient('div', (dy, { inputs: [a, b], output }) => [
  a.requiresGrad ? sumToShape(div(dy, b), a.shape) : null,
  b.requiresGrad ? sumToShape(neg(div(mul(dy, output), b)), b.shape) : null,
]);
// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
registerGradient('pow', (dy, { inputs: [a, b], output }) => [
  a.requiresGrad ? sumToShape(mul(dy, mul(b, a.pow(sub(b, 1)))), a.shape) : null,
  b.requiresGrad ? sumToShape(mul(dy, mul(output, log(a))), b.shape) : null,
]);
registerGradient('maximum', (dy, { inputs: [a, b] }) => [
  a.requiresGrad ? sumToShape(mul(dy, f32(ge(a, b))), a.shape) : null,
  b.requiresGrad ? sumToShape(mul(dy, f32(lt(a, b))), b.shape) : null,
]);
registerGradient('minimum', (dy, { inputs: [a, b] }) => [
  a.requiresGrad ? sumToShape(mul(dy, f32(le(a, b))), a.shape) : null,
  b.requiresGrad ? sumToShape(mul(dy, f32(gt(a, b))), b.shape) : null,
]);

registerGradient('neg', (dy) => [neg(dy)]);
registerGradient('exp', (dy, { output }) => [mul(dy, output)]);
registerGradient('log', (dy, { inputs: [x] }) => [div(dy, x)]);
registerGradient('sqrt', (dy, { output }) => [div(dy, mul(output, 2))]);
registerGradient('square', (dy, { inputs: [x] }) => [mul(dy, mul(x, 2))]);
registerGradient('abs', (dy, { inputs: [x] }) => [mul(dy, sign(x))]);
// dy where x > 0, else 0: one fused pass where the backend has one.
registerGradient('relu', (dy, { inputs: [x] }) => [reluBackward(dy, x)]);
// sigmoid' = s (1 - s); tanh' = 1 - t^2, both from the saved output
registerGradient('sigmoid', (dy, { output }) => [mul(dy, mul(output, sub(1, output)))]);
registerGradient('tanh', (dy, { output }) => [mul(dy, sub(1, square(output)))]);
registerGradient('sign', (dy) => [zerosLike(dy)]);
registerGradient('step', (dy) => [zerosLike(dy)]);
registerGradient('cast', (dy, { inputs: [x] }) => [x.dtype === 'float32' ? dy : null]);
registerGradient('identity', (dy) => [dy]);
registerGradient('where', (dy, { inputs: [c, a, b] }) => [
  null,
  a.requiresGrad ? sumToShape(where(c, dy, 0), a.shape) : null,
  b.requiresGrad ? sumToShape(where(c, 0, dy), b.shape) : null,
]);
