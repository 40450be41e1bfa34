import { col2im, col2imWide, conv2dBackward, exp, im2col, im2colWide, mul, reshape, scatterAdd, sub, sum, type Tensor, type Window2d } from '@bp/tensor';
import { registerGradient } from './registry.js';

// y = softmax(x): dx = y * (dy - sum(dy * y))
registerGradient('softmax', (dy, { output, attrs }) => {
  const a = attrs.axis as number;
  return [mul(output, sub(dy, sum(mul(dy, output), a, true)))];
});

// y = logSoftmax(x): dx = dy - softmax(x) * sum(dy)
registerGradient('logSoftmax', (dy, { output, attrs }) => {
  const a = attrs.axis as number;
  return [sub(dy, mul(exp(output), sum(dy, a, true)))];
});

// im2col copies each input cell into several columns; its adjoint adds them back.
registerGradient('im2col', (dy, { attrs }) => [col2im(dy, attrs.win as Window2d)]);

registerGradient('col2im', (dy, { attrs }) => {
  const w = attrs.win as Window2d;
  return [im2col(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })];
});

registerGradient('im2colWide', (dy, { attrs }) => [col2imWide(dy, attrs.win as Window2d)]);

registerGradient('col2imWide', (dy, { attrs }) => {
  const w = attrs.win as Window2d;
  return [im2colWide(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })];
});

// A convolution run as one kernel: its gradients come from the backend's backward kernel (or
// the matrix products that compose it), for the inputs that need one.
registerGradient('conv2d', (dy, { inputs: [x, weight, bias], attrs }) =>
  conv2dBackward(dy, x, weight, attrs.win as Window2d, [x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false]));

// Fused max pooling saved the flat position of each maximum: each output's gradient goes
// there (adding up where windows overlap and share a maximum).
registerGradient('maxPool2d', (dy, { inputs: [x], attrs }) => {
  const argmax = attrs.argmax as Tensor;
  return [reshape(scatterAdd(reshape(dy, [dy.size]), argmax, 0, [x.size]), x.shape.slice())];
});
