import { col2im, im2col, reshape, sum, type NnAttrs } from '@bp/tensor';
import {
  attentionBackward,
  attentionPackedBackward,
  col2imWide,
  conv2dBackward,
  conv2dReluPoolBackward,
  im2colWide,
  layerNormBackward,
  linearBackward,
  maxPool2dBackward,
  reluBackward,
  softmaxCrossEntropyBackward,
  probabilityNllBackward,
  softmaxBackward,
} from '@bp/tensor/internal';
import type { GradientRules } from './registry.js';

/** The gradient of every neural-network op. */
export const nnGradients: GradientRules<keyof NnAttrs> = {
  // y = softmax(x): dx = y * (dy - sum(dy * y)); one kernel on backends with a fused one.
  softmax: (dy, { output, attrs: { axis } }) => [softmaxBackward('softmax', dy, output, axis)],
  // y = logSoftmax(x): dx = dy - softmax(x) * sum(dy), softmax(x) being exp(y).
  logSoftmax: (dy, { output, attrs: { axis } }) => [softmaxBackward('logSoftmax', dy, output, axis)],
  // im2col copies each input cell into several columns; its adjoint adds them back.
  im2col: (dy, { attrs: { win } }) => [col2im(dy, win)],
  col2im: (dy, { attrs: { win: w } }) => [im2col(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })],
  im2colWide: (dy, { attrs: { win } }) => [col2imWide(dy, win)],
  col2imWide: (dy, { attrs: { win: w } }) => [im2colWide(dy, [w.kh, w.kw], { stride: [w.strideH, w.strideW], padding: [w.padH, w.padW] })],
  // A convolution run as one kernel: its gradients come from the backend's backward kernel (or
  // the matrix products that compose it), for the inputs that need one.
  conv2d: (dy, { inputs: [x, weight, bias], attrs: { win } }) =>
    conv2dBackward(dy, x, weight, win, [x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false]),
  // A convolution, ReLU and 2x2 max pooling run as one kernel: the pooled gradient goes to each
  // saved maximum where the pooled value is positive, then through the convolution's gradients.
  conv2dReluPool: (dy, { inputs: [x, weight, bias], output, saved: [argmax], attrs: { win } }) =>
    conv2dReluPoolBackward(dy, output, argmax, x, weight, win, [x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false]),
  // Fused max pooling saved the flat position of each maximum: each output's gradient goes
  // there (adding up where windows overlap and share a maximum).
  // y = act(x W^T + b) over rows of x: dz = dy (masked where the ReLU's output is 0), then
  // dx = dz W, dW = dz^T x, db = the column sums of dz; each only for an input that needs it.
  linear: (dy, { inputs: [x, weight, bias], output, attrs: { relu } }) => {
    const [outF, inF] = weight.shape;
    // The leading axes' product (not x.size / inF, which is 0 for inputs of no features).
    const rows = x.shape.slice(0, -1).reduce((a, d) => a * d, 1);
    const dz = reshape(relu ? reluBackward(dy, output) : dy, [rows, outF]);
    // dx and dW in one backend call (the CPU backend may finish dW on a worker while this pass goes on).
    const [dx2, dw] = linearBackward(dz, reshape(x, [rows, inF]), weight, [x.requiresGrad, weight.requiresGrad]);
    const dx = dx2 && reshape(dx2, x.shape.slice());
    const db = bias?.requiresGrad ? sum(dz, 0) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  },
  // Fused layer normalisation: one backward kernel from the saved row means and rstds, for the
  // inputs that need a gradient (x, then the weight and the bias where given).
  layerNorm: (dy, { inputs, saved: [mu, rstd], attrs: { axes, weight: hasW, bias: hasB } }) => {
    const x = inputs[0];
    const w = hasW ? inputs[1] : null;
    const b = hasB ? inputs[hasW ? 2 : 1] : null;
    const [dx, dw, db] = layerNormBackward(dy, x, w, mu, rstd, axes, [x.requiresGrad, w?.requiresGrad ?? false, b?.requiresGrad ?? false]);
    return [dx, ...(w ? [dw] : []), ...(b ? [db] : [])];
  },
  // Fused attention, from the saved weights p: dp = dy v^T, ds = p (dp - sum(dp p)) * scale (0 where
  // masked), dq = ds k, dk = ds^T q, dv = p^T dy, per head; one kernel on backends with a fused one.
  attention: (dy, { inputs: [q, k, v], saved: [weights], attrs: { heads, scale, causal } }) =>
    attentionBackward(dy, q, k, v, weights, heads, scale, causal),
  // The same for q, k and v side by side in one input (self-attention's one projection): one
  // gradient in that layout, which the projection's linear op takes back as it is.
  attentionPacked: (dy, { inputs: [qkv], saved: [weights], attrs: { heads, scale, causal } }) => [
    attentionPackedBackward(dy, qkv, weights, heads, scale, causal),
  ],
  // Fused softmax cross-entropy: (softmax - onehot) scaled per row, from the saved log-sum-exp.
  softmaxCrossEntropy: (dy, { inputs: [x, labels], saved: [lse], attrs: { ignoreIndex, reduction } }) => [
    softmaxCrossEntropyBackward(dy, x, labels, lse, ignoreIndex, reduction),
    null,
  ],
  // Fused clipped-probability NLL: through the log and the row's rescaling, from the saved row sums.
  probabilityNll: (dy, { inputs: [p, labels], saved: [sums], attrs: { eps } }) => [probabilityNllBackward(dy, p, labels, sums, eps), null],
  // argmax holds the forward kernel's own positions (in range): added back without reading them to check.
  // Pooled after a ReLU in the same kernel: no gradient where the maximum was not positive.
  maxPool2d: (dy, { inputs: [x], output, saved: [argmax], attrs: { relu } }) => [maxPool2dBackward(dy, output, argmax, relu, x.shape)],
};
