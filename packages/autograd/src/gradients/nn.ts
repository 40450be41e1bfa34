import { col2im, exp, im2col, mul, reshape, scatterAdd, sub, sum, type NnAttrs } from '@bp/tensor';
import { col2imWide, conv2dBackward, im2colWide } from '@bp/tensor/internal';
import type { GradientRules } from './registry.js';

/** The gradient of every neural-network op. */
export const nnGradients: GradientRules<keyof NnAttrs> = {
  // y = softmax(x): dx = y * (dy - sum(dy * y))
  softmax: (dy, { output, attrs: { axis } }) => [mul(output, sub(dy, sum(mul(dy, output), axis, true)))],
  // y = logSoftmax(x): dx = dy - softmax(x) * sum(dy)
  logSoftmax: (dy, { output, attrs: { axis } }) => [sub(dy, mul(exp(output), sum(dy, axis, true)))],
  // im2col copies each input cell into several columns; its adjoint adds them back.
  im2col: (dy, { attrs: { win } }) => [col2im(dy, win)],
  col2im: (dy, { attrs: { win: w } }) => [im2col(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })],
  im2colWide: (dy, { attrs: { win } }) => [col2imWide(dy, win)],
  col2imWide: (dy, { attrs: { win: w } }) => [im2colWide(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })],
  // A convolution run as one kernel: its gradients come from the backend's backward kernel (or
  // the matrix products that compose it), for the inputs that need one.
  conv2d: (dy, { inputs: [x, weight, bias], attrs: { win } }) =>
    conv2dBackward(dy, x, weight, win, [x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false]),
  // Fused max pooling saved the flat position of each maximum: each output's gradient goes
  // there (adding up where windows overlap and share a maximum).
  maxPool2d: (dy, { inputs: [x], saved: [argmax] }) => [reshape(scatterAdd(reshape(dy, [dy.size]), argmax, 0, [x.size]), x.shape.slice())],
};
