import type { Window2d } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { valueChecksOn } from '../debug-checks.js';
import { record, setGradEnabled } from '../engine.js';
import { ArgumentError, DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { normAxes, normAxis, sizeOf } from '../shape.js';
import { Tensor, view } from '../tensor.js';
import { add, cast, div, eq, exp, isinf, log, mul, relu, sub, where } from './elementwise.js';
import { matmul, matmulT } from './matmul.js';
import { index } from './indexing.js';
import { addAlong, concat, narrow, pad, reshape, slice, squeeze, stack, transpose, unsqueeze } from './movement.js';
import { reluBackward } from './relu-backward.js';
import { max, sum } from './reduce.js';
import { checkTensor, make, composite } from './util.js';

/** The recorded neural-network ops and what their gradient rules need. */
export interface NnAttrs {
  softmax: { axis: number };
  logSoftmax: { axis: number };
  im2col: { win: Window2d };
  col2im: { win: Window2d };
  im2colWide: { win: Window2d };
  col2imWide: { win: Window2d };
  conv2d: { win: Window2d };
  /**
   * A convolution, ReLU and 2x2 max pooling in one backend call (the convolution's window `win`);
   * saves the int32 flat position of each maximum in the convolution's output.
   */
  conv2dReluPool: { win: Window2d };
  /** Saves the int32 flat position of each maximum (one tensor); `relu` when it pooled `relu(x)` in the same kernel. */
  maxPool2d: { relu: boolean };
  /** A fused linear layer; `relu` when the activation was applied in the same kernel. */
  linear: { relu: boolean };
  /**
   * Fused layer normalisation (ops/layer-norm.ts) over the last `axes` axes; its inputs are x, then
   * the weight and the bias where `weight` / `bias` say they were given. Saves each row's mean and rstd.
   */
  layerNorm: { axes: number; eps: number; weight: boolean; bias: boolean };
  /**
   * Fused attention of `heads` heads side by side in the feature axis (ops/attention.ts); its inputs
   * are q, k and v; saves the attention weights `[n, heads, l, s]`.
   */
  attention: { heads: number; scale: number; causal: boolean };
  /**
   * Fused self-attention on one `[n, l, 3*heads*d]` input holding q, k and v side by side
   * (ops/attention.ts `selfAttentionHeads`); saves the attention weights `[n, heads, l, l]`.
   */
  attentionPacked: { heads: number; scale: number; causal: boolean };
  /** Fused softmax cross-entropy (ops/cross-entropy.ts); saves each row's log-sum-exp. */
  softmaxCrossEntropy: { ignoreIndex: number; reduction: 'mean' | 'sum' | 'none' };
  /** Fused negative log-likelihood of clipped probabilities (ops/cross-entropy.ts); saves each row's sum. */
  probabilityNll: { eps: number };
}

/** Options of {@link linear}. */
export interface LinearOpOptions {
  /** An activation applied in the same pass: `'relu'`, or none (the default). */
  activation?: 'relu' | null;
}

/**
 * A fully connected layer, `x @ weight^T + bias` (PyTorch's `F.linear`), then the optional
 * activation, for `x: [..., inF]`, `weight: [outF, inF]` and `bias: [outF]` (or null), giving
 * `[..., outF]`. On backends with a fused `linear` kernel the product, the bias and the ReLU are one
 * kernel and one recorded op, whose gradient is three matrix products (and a column sum for the
 * bias); elsewhere it is `matmulT`, `add` and `relu`, with the same values.
 *
 * @example
 * linear(ones([2, 3]), ones([4, 3]), zeros([4]), { activation: 'relu' }).shape; // [2, 4]
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: LinearOpOptions = {}): Tensor {
  checkTensor('linear', x);
  checkTensor('linear', weight, 'weight');
  if (bias != null) checkTensor('linear', bias, 'bias');
  const act = opts.activation ?? null;
  if (act !== null && act !== 'relu') throw new ArgumentError('linear', `activation must be 'relu' or null, got ${JSON.stringify(act)}`);
  if (weight.rank !== 2) throw new ShapeError('linear', `weight must be [outFeatures, inFeatures], got ${fmtShape(weight.shape)}`);
  if (x.rank === 0) throw new ShapeError('linear', 'input must have a feature axis, got a scalar');
  const [outF, inF] = weight.shape;
  if (x.shape[x.rank - 1] !== inF) {
    throw new ShapeError(
      'linear',
      `input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features but weight ${fmtShape(weight.shape)} takes ${inF}`,
    );
  }
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError('linear', `bias must be [${outF}] for weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
  }
  const b = getBackend();
  const fused = b.fused?.linear;
  const outShape = [...x.shape.slice(0, -1), outF];
  if (fused && x.dtype === 'float32' && weight.dtype === 'float32' && (bias == null || bias.dtype === 'float32')) {
    // Counted from the shape: with no input features x has no values to count rows by.
    const rows = x.shape.slice(0, -1).reduce((a, d) => a * d, 1);
    const y = make(fused(x._on(b), weight._on(b), bias ? bias._on(b) : null, rows, inF, outF, act === 'relu'), outShape, 'float32');
    return record('linear', bias ? [x, weight, bias] : [x, weight], y, { relu: act === 'relu' });
  }
  let y = matmulT(x, weight, false, true);
  if (bias) y = add(y, bias);
  return act === 'relu' ? relu(y) : y;
}

/**
 * A linear layer's input and weight gradients for the gradient `dz: [rows, outF]` of its output
 * (before the bias): `dx = dz @ weight` `[rows, inF]` and `dw = dz^T @ x` `[outF, inF]`, for
 * `x: [rows, inF]` and `weight: [outF, inF]`, each where `needs` asks for it (else null). Both in
 * one call to the backend's `fused.linearBackward` where it has one (the CPU backend computes dw on
 * a worker thread while the backward pass goes on, when that is measured faster), else one product
 * each.
 * Internal: autograd's rule for {@link linear}.
 */
export function linearBackward(dz: Tensor, x: Tensor, weight: Tensor, needs: readonly [boolean, boolean]): [Tensor | null, Tensor | null] {
  const [rows, outF] = dz.shape;
  const inF = x.shape[1];
  const b = getBackend();
  const fused = b.fused?.linearBackward;
  if (
    needs[0] &&
    needs[1] &&
    fused &&
    dz.dtype === 'float32' &&
    x.dtype === 'float32' &&
    weight.dtype === 'float32' &&
    rows * inF * outF > 0
  ) {
    const [dx, dw] = fused(dz._on(b), x._on(b), weight._on(b), rows, inF, outF);
    return [make(dx, [rows, inF], 'float32'), make(dw, [outF, inF], 'float32')];
  }
  return [needs[0] ? matmulT(dz, weight, false, false) : null, needs[1] ? matmulT(dz, x, true, false) : null];
}

function softmaxImpl(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor, got ${typeof x}`);
  x._live(op);
  if (x.rank === 0) {
    // As PyTorch: a scalar is a one-element distribution (softmax 1, logSoftmax 0).
    normAxis(op, axis, 0);
    return reshape(softmaxImpl(op, reshape(x, [1]), 0), []);
  }
  const a = normAxis(op, axis, x.rank);
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const b = getBackend();
  const fused = b.fused?.[op];
  let out: Tensor;
  if (x.size === 0) {
    // Nothing to normalise (an empty axis included): an empty result of x's shape, as PyTorch.
    out = make(b.fill(0, 0, 'float32'), x.shape.slice(), 'float32');
  } else if (fused && a === x.rank - 1) {
    const cols = x.shape[a];
    out = make(fused(xf._on(b), x.size / Math.max(cols, 1), cols), x.shape.slice(), 'float32');
  } else {
    // Composite: shift by the max for stability, then exp / sum (or x - logsumexp).
    const prev = setGradEnabled(false);
    try {
      const shifted = sub(xf, max(xf, a, true));
      if (op === 'softmax') {
        const e = exp(shifted);
        out = div(e, sum(e, a, true));
      } else {
        out = sub(shifted, log(sum(exp(shifted), a, true)));
      }
    } finally {
      setGradEnabled(prev);
    }
    // A fresh, unrecorded tensor viewing the composite's result.
    out = view(out, out.shape.slice());
  }
  return record(op, [x], out, { axis: a });
}

/**
 * The gradient of `softmax(x, axis)` (`op` `'softmax'`) or `logSoftmax(x, axis)` (`'logSoftmax'`) for
 * the gradient `dy` of its output `y`: `y * (dy - sum(dy * y))`, or `dy - exp(y) * sum(dy)`, the sums
 * along `axis`. One pass over the rows on backends with the fused kernel (along the last axis); else
 * the four ops of the formula. Internal: autograd's rule.
 */
export function softmaxBackward(op: 'softmax' | 'logSoftmax', dy: Tensor, y: Tensor, axis: number): Tensor {
  const b = getBackend();
  const fused = op === 'softmax' ? b.fused?.softmaxBackward : b.fused?.logSoftmaxBackward;
  if (fused && axis === y.rank - 1 && dy.dtype === 'float32') {
    const cols = y.shape[axis];
    return make(fused(dy._on(b), y._on(b), y.size / Math.max(cols, 1), cols), y.shape.slice(), 'float32');
  }
  if (op === 'softmax') return mul(y, sub(dy, sum(mul(dy, y), axis, true)));
  return sub(dy, mul(exp(y), sum(dy, axis, true)));
}

/**
 * Softmax along `axis` (default last): `exp(x - max) / sum(exp(x - max))`, stable for ±1e4. An
 * empty `x` (an empty `axis` included) gives an empty result of its shape, as PyTorch.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl('softmax', x, axis);
}

/** Log-softmax along `axis` (default last): `x - logsumexp(x)`, stable for ±1e4; empty in, empty out. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl('logSoftmax', x, axis);
}

/**
 * `log(sum(exp(x)))` along `axis` (one axis, a list of them as PyTorch's `dim` tuple, or every
 * axis for `null`), computed stably: `log(sum(exp(x - m))) + m` with `m` the maximum, or 0 where
 * the maximum is infinite, so that a slice of `-Infinity` (a fully masked row) gives `-Infinity`
 * and one holding `Infinity` gives `Infinity`, as in PyTorch.
 *
 * @example
 * logSumExp(tensor([[0, 0], [1, 2]]), 1); // [ln 2, 2 + ln(1 + e^-1)]
 * logSumExp(zeros([2, 3, 4]), [0, 2]); // [ln 8, ln 8, ln 8]
 */
export function logSumExp(x: Tensor, axis: number | number[] | null = -1, keepDims = false): Tensor {
  return composite([x], () => {
    checkTensor('logSumExp', x);
    const axes = normAxes('logSumExp', axis, x.rank);
    // An empty axis has no maximum: its sum of exponentials is 0, so the result is -Infinity (PyTorch's).
    if (axes.some((a) => x.shape[a] === 0)) return log(sum(exp(x), axes, keepDims));
    const m = max(x, axes, true).detach();
    const mNoGrad = where(isinf(m), 0, m);
    const out = add(log(sum(exp(sub(x, mNoGrad)), axes, true)), mNoGrad);
    return keepDims
      ? out
      : reshape(
          out,
          x.shape.filter((_, i) => !axes.includes(i)),
        );
  });
}

/**
 * One-hot float32 rows `[..., numClasses]` for int32 class ids. Computed on the
 * backend without reading the labels back; a label out of range throws an
 * `IndexError` where value checks run (the CPU backend, or `setDebugChecks(true)`)
 * and gives an all-zero row elsewhere.
 */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32') {
    throw new DTypeError(
      'oneHot',
      `labels must be an int32 Tensor of class ids, got ${labels instanceof Tensor ? labels.dtype : typeof labels}`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0 || labels.size * numClasses > 2 ** 32) {
    throw new ArgumentError('oneHot', `numClasses must be a positive integer (at most ${2 ** 32} values in all), got ${numClasses}`);
  }
  const b = getBackend();
  // The range check reads the labels back: only where that is free or asked for (setDebugChecks).
  if (valueChecksOn(b)) {
    const v = labels.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] >= numClasses) {
        throw new IndexError('oneHot', `label ${v[i]} at position ${i} is out of range for ${numClasses} classes`);
      }
    }
  }
  const classes = make(
    b.upload(
      Int32Array.from({ length: numClasses }, (_, i) => i),
      'int32',
    ),
    [numClasses],
    'int32',
  );
  return cast(eq(reshape(labels, [...labels.shape, 1]), classes), 'float32');
}

/** Options of a 2-D sliding window. Numbers apply to both height and width. */
export interface WindowOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function pair(op: string, name: string, v: number | [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new ArgumentError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Computes and validates the geometry of a window over `[n, c, h, w]` input. */
export function window2d(op: string, shape: readonly number[], kernel: number | [number, number], opts: WindowOptions = {}): Window2d {
  if (shape.length !== 4) throw new ShapeError(op, `expected NCHW input of rank 4, got ${fmtShape(shape)}`);
  const [kh, kw] = pair(op, 'kernelSize', kernel, 1);
  const [strideH, strideW] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0, 0);
  const [n, c, h, w] = shape;
  const outH = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const outW = Math.floor((w + 2 * padW - kw) / strideW) + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(op, `kernel ${kh}x${kw} (padding ${padH},${padW}) does not fit input ${fmtShape(shape)}`);
  }
  return { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW };
}

/**
 * Unfolds sliding windows of `[n, c, h, w]` into columns `[n, c*kh*kw, outH*outW]`
 * (PyTorch's `unfold`). Cells outside the image read `padValue`.
 */
export function im2col(x: Tensor, kernel: number | [number, number], opts: WindowOptions = {}, padValue = 0): Tensor {
  checkTensor('im2col', x);
  const win = window2d('im2col', x.shape, kernel, opts);
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const b = getBackend();
  const out = make(b.im2col(xf._on(b), win, padValue), [win.n, win.c * win.kh * win.kw, win.outH * win.outW], 'float32');
  return record('im2col', [x], out, { win });
}

/** Folds columns back into images, adding overlaps: the adjoint of {@link im2col}. */
export function col2im(cols: Tensor, win: Window2d): Tensor {
  checkTensor('col2im', cols, 'cols');
  const K = win.c * win.kh * win.kw;
  const P = win.outH * win.outW;
  if (cols.rank !== 3 || cols.shape[0] !== win.n || cols.shape[1] !== K || cols.shape[2] !== P) {
    throw new ShapeError('col2im', `columns ${fmtShape(cols.shape)} do not match the window (expected [${win.n},${K},${P}])`);
  }
  const b = getBackend();
  const out = make(b.col2im(cols._on(b), win), [win.n, win.c, win.h, win.w], 'float32');
  return record('col2im', [cols], out, { win });
}

/**
 * {@link im2col} with the images' column matrices side by side: `[c*kh*kw, n*outH*outW]`,
 * column `b*outH*outW + p` holding output pixel p of image b. A whole batch's convolution
 * is then one product `weight[outC, c*kh*kw] @ cols`.
 */
export function im2colWide(x: Tensor, kernel: number | [number, number], opts: WindowOptions = {}, padValue = 0): Tensor {
  checkTensor('im2colWide', x);
  const win = window2d('im2colWide', x.shape, kernel, opts);
  const K = win.c * win.kh * win.kw;
  const P = win.outH * win.outW;
  const b = getBackend();
  const fused = b.fused?.im2colWide;
  if (!fused) return reshape(transpose(im2col(x, kernel, opts, padValue), [1, 0, 2]), [K, win.n * P]);
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const out = make(fused(xf._on(b), win, padValue), [K, win.n * P], 'float32');
  return record('im2colWide', [x], out, { win });
}

/** Folds `[c*kh*kw, n*outH*outW]` columns back into images, adding overlaps: the adjoint of {@link im2colWide}. */
export function col2imWide(cols: Tensor, win: Window2d): Tensor {
  checkTensor('col2imWide', cols, 'cols');
  const K = win.c * win.kh * win.kw;
  const P = win.outH * win.outW;
  if (cols.rank !== 2 || cols.shape[0] !== K || cols.shape[1] !== win.n * P) {
    throw new ShapeError('col2imWide', `columns ${fmtShape(cols.shape)} do not match the window (expected [${K},${win.n * P}])`);
  }
  const b = getBackend();
  const fused = b.fused?.col2imWide;
  if (!fused) return col2im(transpose(reshape(cols, [K, win.n, P]), [1, 0, 2]), win);
  const out = make(fused(cols._on(b), win), [win.n, win.c, win.h, win.w], 'float32');
  return record('col2imWide', [cols], out, { win });
}

/** Options of {@link conv2d} (and `conv1d`): PyTorch's `stride`, `padding`, `dilation`, `groups`. */
export interface ConvOptions {
  /** Step between windows (default 1). */
  stride?: number | [number, number];
  /**
   * Zeros added on each side (default 0), or `'valid'` (none) or `'same'` (output as large as the
   * input; stride 1 only; an odd total puts the extra zero after, as PyTorch).
   */
  padding?: number | [number, number] | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: number | [number, number];
  /** Channel groups (default 1): input and output channels both divide by it; weight is `[outC, inC/groups, kH, kW]`. */
  groups?: number;
}

/** A kernel with `d - 1` zeros between taps: `[o, i, kh, kw]` to `[o, i, (kh-1)dh+1, (kw-1)dw+1]`. */
export function dilateKernel(w: Tensor, dh: number, dw: number): Tensor {
  if (dh === 1 && dw === 1) return w;
  const [o, i, kh, kw] = w.shape;
  const spaced = pad(reshape(w, [o, i, kh, 1, kw, 1]), [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
  ]);
  return slice(reshape(spaced, [o, i, kh * dh, kw * dw]), [0, 0, 0, 0], [o, i, (kh - 1) * dh + 1, (kw - 1) * dw + 1]);
}

/**
 * Resolves `'same'`/`'valid'` padding for a window of effective size `[eh, ew]`: symmetric
 * `[padH, padW]`, and the input padded first when `'same'` needs one more zero after.
 */
export function resolveConvPadding(
  op: string,
  x: Tensor,
  padding: ConvOptions['padding'],
  stride: [number, number],
  eff: [number, number],
): [Tensor, [number, number]] {
  if (padding === 'valid') return [x, [0, 0]];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new ArgumentError(op, `padding 'same' needs stride 1, got ${JSON.stringify(stride)}`);
    const th = eff[0] - 1;
    const tw = eff[1] - 1;
    const ph = Math.floor(th / 2);
    const pw = Math.floor(tw / 2);
    const extraH = th - 2 * ph;
    const extraW = tw - 2 * pw;
    const xp =
      extraH || extraW
        ? pad(x, [
            [0, 0],
            [0, 0],
            [0, extraH],
            [0, extraW],
          ])
        : x;
    return [xp, [ph, pw]];
  }
  if (typeof padding === 'string')
    throw new ArgumentError(op, `padding must be a number, a pair, 'same' or 'valid', got ${JSON.stringify(padding)}`);
  return [x, pair(op, 'padding', padding ?? 0, 0)];
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`) of `x: [n, inC, h, w]` with
 * `weight: [outC, inC / groups, kh, kw]` and optional `bias: [outC]`. Options: `stride`,
 * `padding` (a number, a pair, `'same'` or `'valid'`), `dilation` and `groups`, as PyTorch.
 *
 * The common case (groups 1, dilation 1) runs as one im2col product (or a backend's fused kernel):
 * the columns of the whole batch are laid side by side, `[inC*kh*kw, n*outH*outW]`, so the
 * forward product and both gradient products are each one large matrix product. Groups run as one
 * convolution per group; dilation convolves with the kernel spread out by zeros (so it costs as
 * much as the dilated kernel's size).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  if (unbatched(x)) return squeeze(conv2d(unsqueeze(x, 0), weight, bias, opts), 0);
  const { xp, w, stride, padding, groups, outC, inPerGroup } = convSetup(x, weight, bias, opts);
  if (groups === 1) return conv2dDense(xp, w, bias ?? null, { stride, padding });
  const oc = outC / groups;
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    outs.push(
      conv2dDense(narrow(xp, 1, g * inPerGroup, inPerGroup), narrow(w, 0, g * oc, oc), bias ? narrow(bias, 0, g * oc, oc) : null, {
        stride,
        padding,
      }),
    );
  }
  return concat(outs, 1);
}

/** {@link conv2d}'s arguments checked: the input padded where `'same'` asks, the kernel dilated, the stride and padding. */
function convSetup(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: ConvOptions) {
  checkTensor('conv2d', x);
  checkTensor('conv2d', weight, 'weight');
  if (bias != null) checkTensor('conv2d', bias, 'bias');
  if (weight.rank !== 4) throw new ShapeError('conv2d', `weight must be [outC, inC/groups, kH, kW], got ${fmtShape(weight.shape)}`);
  if (x.rank !== 4) throw new ShapeError('conv2d', `input must be [n, c, h, w] or one image [c, h, w], got ${fmtShape(x.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new ArgumentError('conv2d', `groups must be a positive integer, got ${JSON.stringify(opts.groups)}`);
  const [outC, inPerGroup, kh, kw] = weight.shape;
  if (x.shape[1] !== inPerGroup * groups) {
    throw new ShapeError(
      'conv2d',
      `input has ${x.shape[1]} channels but weight ${fmtShape(weight.shape)} expects ${inPerGroup * groups}${groups > 1 ? ` (${groups} groups)` : ''}: input ${fmtShape(x.shape)}`,
    );
  }
  if (outC % groups !== 0)
    throw new ShapeError('conv2d', `weight ${fmtShape(weight.shape)} has ${outC} output channels, not divisible by ${groups} groups`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) {
    throw new ShapeError('conv2d', `bias must be [${outC}], got ${fmtShape(bias.shape)}`);
  }
  const stride = pair('conv2d', 'stride', opts.stride ?? 1, 1);
  const [dh, dw] = pair('conv2d', 'dilation', opts.dilation ?? 1, 1);
  const [xp, padding] = resolveConvPadding('conv2d', x, opts.padding, stride, [(kh - 1) * dh + 1, (kw - 1) * dw + 1]);
  const w = dilateKernel(weight, dh, dw);
  return { xp, w, stride, padding, groups, outC, inPerGroup };
}

/**
 * `maxPool2d(relu(conv2d(x, weight, bias, conv)), pool.kernel, pool)`, the same values and
 * gradients, as one op where the backend has the fused kernel (`fused.conv2dReluPool`) and the
 * pooling is 2x2 with stride 2 (no padding, dilation or ceil mode) after a convolution of one
 * group: the convolution's output is pooled where the kernel computed it, so neither it nor its
 * full-size gradient goes through JavaScript memory. Elsewhere the ops one after the other.
 * Internal: `Sequential` runs a `Conv2d`, a `ReLU` and a `MaxPool2d(2)` in a row this way.
 */
export function conv2dReluMaxPool2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  conv: ConvOptions,
  kernel: number | [number, number],
  pool: MaxPool2dOptions = {},
): Tensor {
  if (unbatched(x)) return squeeze(conv2dReluMaxPool2d(unsqueeze(x, 0), weight, bias, conv, kernel, pool), 0);
  const b = getBackend();
  const fused = b.fused?.conv2dReluPool;
  const two = (v: unknown, d: number) => (Array.isArray(v) ? v[0] === d && v[1] === d : (v ?? d) === d);
  const plain =
    fused !== undefined &&
    b.fused?.conv2dReluPoolBackward !== undefined &&
    two(kernel, 2) &&
    two(pool.stride ?? kernel, 2) &&
    two(pool.padding, 0) &&
    two(pool.dilation, 1) &&
    pool.ceilMode !== true &&
    (conv.groups ?? 1) === 1;
  if (plain) {
    const { xp, w, stride, padding, outC } = convSetup(x, weight, bias, conv);
    const [, , kh, kw] = w.shape;
    const win = window2d('conv2d', xp.shape, [kh, kw], { stride, padding });
    if (win.outH >= 2 && win.outW >= 2 && xp.dtype === 'float32' && w.dtype === 'float32' && (!bias || bias.dtype === 'float32')) {
      const [values, argmax] = fused(xp._on(b), w._on(b), bias ? bias._on(b) : null, win, outC);
      const out = make(values, [win.n, outC, win.outH >> 1, win.outW >> 1], 'float32');
      return record('conv2dReluPool', bias ? [xp, w, bias] : [xp, w], out, { win }, [make(argmax, [out.size], 'int32')]);
    }
  }
  return reluMaxPool2d(conv2d(x, weight, bias, conv), kernel, pool);
}

/**
 * The gradients of {@link conv2dReluMaxPool2d}'s fused op for the pooled gradient `dy`, from its
 * pooled output `values` and the saved positions `argmax`, where `needs` asks (input, weight,
 * bias): the backend's `conv2dReluPoolBackward` where it has one, else the pooled gradient is
 * scattered (0 where the pooled value is not positive) and {@link conv2dBackward} takes it.
 */
export function conv2dReluPoolBackward(
  dy: Tensor,
  values: Tensor,
  argmax: Tensor,
  x: Tensor,
  weight: Tensor,
  win: Window2d,
  needs: readonly [boolean, boolean, boolean],
): [Tensor | null, Tensor | null, Tensor | null] {
  const b = getBackend();
  const fused = b.fused?.conv2dReluPoolBackward;
  const outC = weight.shape[0];
  if (fused && dy.dtype === 'float32') {
    return convGradients(fused(dy._on(b), values._on(b), argmax._on(b), x._on(b), weight._on(b), win, outC, needs), x.shape, weight.shape);
  }
  const prev = setGradEnabled(false);
  try {
    return conv2dBackward(maxPool2dBackward(dy, values, argmax, true, [win.n, outC, win.outH, win.outW]), x, weight, win, needs);
  } finally {
    setGradEnabled(prev);
  }
}

/** A convolution backward kernel's gradients (input, weight, bias; null where not asked for) as tensors. */
function convGradients(
  [dx, dw, db]: [unknown, unknown, unknown],
  xShape: readonly number[],
  wShape: readonly number[],
): [Tensor | null, Tensor | null, Tensor | null] {
  return [
    dx === null ? null : make(dx, xShape.slice(), 'float32'),
    dw === null ? null : make(dw, wShape.slice(), 'float32'),
    db === null ? null : make(db, [wShape[0]], 'float32'),
  ];
}

/**
 * The gradient of max pooling for the gradient `dy` of its output `values`, from the flat
 * positions `argmax` of the maxima in the input of shape `shape`: each output's gradient added
 * at its maximum (where windows overlap and share one, the gradients add up); with `relu` (the
 * pooling read `relu(x)`), none where the pooled value is not positive.
 */
export function maxPool2dBackward(dy: Tensor, values: Tensor, argmax: Tensor, relu: boolean, shape: readonly number[]): Tensor {
  const g = relu ? reluBackward(dy, values) : dy;
  return reshape(addAlong(reshape(g, [g.size]), argmax, 0, [sizeOf(shape)]), shape.slice());
}

function conv2dDense(x: Tensor, weight: Tensor, bias: Tensor | null, opts: WindowOptions): Tensor {
  const [outC, inC, kh, kw] = weight.shape;
  const win = window2d('conv2d', x.shape, [kh, kw], opts);
  const K = inC * kh * kw;
  const P = win.outH * win.outW;
  const b = getBackend();
  const fused = b.fused?.conv2d;
  if (fused && b.fused?.conv2dBackward && x.dtype === 'float32' && weight.dtype === 'float32' && (!bias || bias.dtype === 'float32')) {
    // One kernel; the gradient is conv2dBackward's.
    const y = fused(x._on(b), weight._on(b), bias ? bias._on(b) : null, win, outC);
    const out = make(y, [win.n, outC, win.outH, win.outW], 'float32');
    return record('conv2d', bias ? [x, weight, bias] : [x, weight], out, { win });
  }
  const wide = im2colWide(x, [kh, kw], opts);
  let out = matmul(reshape(weight, [outC, K]), wide);
  if (bias) out = add(out, reshape(bias, [outC, 1]));
  // [outC, n*P] -> [n, outC, P]
  if (win.n > 1) out = transpose(reshape(out, [outC, win.n, P]), [1, 0, 2]);
  return reshape(out, [win.n, outC, win.outH, win.outW]);
}

/**
 * The gradients of {@link conv2d} with respect to its input, weight and bias for the
 * gradient `dy: [n, outC, outH, outW]` of its output, where `needs` asks for them (null
 * otherwise): `win` is the convolution's window (as {@link window2d} gives it for the input
 * and kernel). The backward pass of a fused convolution calls this; it uses the backend's
 * `conv2dBackward` kernel when there is one, else matrix products, `im2colWide` and `col2imWide`.
 */
export function conv2dBackward(
  dy: Tensor,
  x: Tensor,
  weight: Tensor,
  win: Window2d,
  needs: readonly [boolean, boolean, boolean] = [true, true, true],
): [Tensor | null, Tensor | null, Tensor | null] {
  checkTensor('conv2dBackward', dy, 'dy');
  checkTensor('conv2dBackward', x, 'x');
  checkTensor('conv2dBackward', weight, 'weight');
  if (weight.rank !== 4 || weight.shape[1] !== win.c || weight.shape[2] !== win.kh || weight.shape[3] !== win.kw) {
    throw new ShapeError(
      'conv2dBackward',
      `weight ${fmtShape(weight.shape)} does not match the window (expected [outC,${win.c},${win.kh},${win.kw}])`,
    );
  }
  const outC = weight.shape[0];
  const xShape = [win.n, win.c, win.h, win.w];
  if (x.size !== win.n * win.c * win.h * win.w) {
    throw new ShapeError('conv2dBackward', `input ${fmtShape(x.shape)} does not match the window (expected ${fmtShape(xShape)})`);
  }
  const yShape = [win.n, outC, win.outH, win.outW];
  if (dy.size !== win.n * outC * win.outH * win.outW) {
    throw new ShapeError('conv2dBackward', `dy ${fmtShape(dy.shape)} does not match the output ${fmtShape(yShape)}`);
  }
  const b = getBackend();
  const fused = b.fused?.conv2dBackward;
  const f32 = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : cast(t, 'float32'));
  if (fused) return convGradients(fused(f32(dy)._on(b), f32(x)._on(b), f32(weight)._on(b), win, outC, needs), xShape, weight.shape);
  const K = win.c * win.kh * win.kw;
  const P = win.outH * win.outW;
  const prev = setGradEnabled(false);
  try {
    // [n, outC, P] -> [outC, n*P], the layout of the forward product.
    const dyWide = reshape(transpose(reshape(f32(dy), [win.n, outC, P]), [1, 0, 2]), [outC, win.n * P]);
    const w2 = reshape(f32(weight), [outC, K]);
    const stride: [number, number] = [win.strideH, win.strideW];
    const padding: [number, number] = [win.padH, win.padW];
    const dx = needs[0] ? reshape(col2imWide(matmul(transpose(w2, [1, 0]), dyWide), win), xShape) : null;
    const dw = needs[1]
      ? reshape(
          matmul(dyWide, transpose(im2colWide(reshape(f32(x), xShape), [win.kh, win.kw], { stride, padding }), [1, 0])),
          weight.shape.slice(),
        )
      : null;
    const db = needs[2] ? sum(dyWide, 1) : null;
    return [dx, dw, db];
  } finally {
    setGradEnabled(prev);
  }
}

/** Options of {@link maxPool2d}, as PyTorch's `F.max_pool2d`. */
export interface MaxPool2dOptions extends WindowOptions {
  /** Spacing between window taps (default 1). */
  dilation?: number | [number, number];
  /** Round the output size up instead of down, so a partial window at the end counts (default false). */
  ceilMode?: boolean;
}

/** Options of {@link avgPool2d}, as PyTorch's `F.avg_pool2d`. */
export interface AvgPool2dOptions extends WindowOptions {
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead (default: the window's size). */
  divisorOverride?: number | null;
}

/**
 * PyTorch's output length of a window of `k` (dilation `d`, stride `s`, padding `p` each side) over
 * `size` positions, the convolutions' and (with `ceil`, pooling's ceilMode) the poolings'.
 */
export function windowOutputSize(size: number, k: number, s: number, p: number, d: number, ceil = false): number {
  const num = size + 2 * p - d * (k - 1) - 1;
  const out = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // The last window must start inside the input or its leading padding.
  return ceil && (out - 1) * s >= size + p ? out - 1 : out;
}

/** PyTorch's pooling output size along one axis, and the cells to add after the input so every window fits. */
function poolExtent(size: number, k: number, s: number, p: number, d: number, ceil: boolean): [out: number, extra: number] {
  const out = windowOutputSize(size, k, s, p, d, ceil);
  const extra = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p));
  return [out, extra];
}

/**
 * Whether `x` is one sample (`[c, h, w]`, or `[c, length]` with `rank` 2) rather than a batch: the
 * convolutions and poolings take it as PyTorch does, as a batch of one whose result loses the
 * batch axis again.
 */
export function unbatched(x: unknown, rank = 3): boolean {
  return x instanceof Tensor && x.rank === rank;
}

function poolGeometry(op: string, x: Tensor, kernel: number | [number, number], opts: MaxPool2dOptions) {
  if (x.rank !== 4) throw new ShapeError(op, `input must be [n, c, h, w] or one image [c, h, w], got ${fmtShape(x.shape)}`);
  const k = pair(op, 'kernelSize', kernel, 1);
  const st = pair(op, 'stride', opts.stride ?? k, 1);
  const pd = pair(op, 'padding', opts.padding ?? 0, 0);
  const dl = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const ceil = opts.ceilMode ?? false;
  if (typeof ceil !== 'boolean') throw new ArgumentError(op, `ceilMode must be true or false, got ${JSON.stringify(opts.ceilMode)}`);
  // As PyTorch: half the kernel itself, whatever the dilation.
  if (pd[0] * 2 > k[0] || pd[1] * 2 > k[1]) {
    throw new ArgumentError(op, `padding ${JSON.stringify(opts.padding)} must be at most half the kernel ${JSON.stringify(kernel)}`);
  }
  const [outH, extraH] = poolExtent(x.shape[2], k[0], st[0], pd[0], dl[0], ceil);
  const [outW, extraW] = poolExtent(x.shape[3], k[1], st[1], pd[1], dl[1], ceil);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      op,
      `kernel ${k[0]}x${k[1]} (padding ${pd[0]},${pd[1]}, dilation ${dl[0]},${dl[1]}) does not fit input ${fmtShape(x.shape)}`,
    );
  }
  return { k, st, pd, dl, outH, outW, extraH, extraW };
}

/**
 * 2-D max pooling over `[n, c, h, w]` (PyTorch's `F.max_pool2d`): `stride` defaults to the kernel
 * size; `padding` (implicit `-Infinity`, at most half the kernel), `dilation` and `ceilMode` as
 * PyTorch. The gradient goes to the maximum of each window (on exact ties, the first one with the
 * plain kernel; split evenly among them with dilation, where windows are gathered by strided slices).
 */
export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: MaxPool2dOptions = {}): Tensor {
  return maxPoolOf(x, kernel, opts, false);
}

/**
 * `maxPool2d(relu(x), kernel, opts)`, the same values and gradient, as one op where the backend
 * has the fused kernel (`fused.maxPool2dRelu`: the CPU backend pools `relu(x)` as it reads `x`,
 * and the gradient masks the pooled gradient where the maximum was 0 or less before the
 * scatter): neither the ReLU's output nor its full-size gradient is written. Elsewhere the two
 * ops. Internal: `Sequential` runs a `ReLU` followed by a `MaxPool2d` this way.
 */
export function reluMaxPool2d(x: Tensor, kernel: number | [number, number], opts: MaxPool2dOptions = {}): Tensor {
  return maxPoolOf(x, kernel, opts, true);
}

function maxPoolOf(x: Tensor, kernel: number | [number, number], opts: MaxPool2dOptions, withRelu: boolean): Tensor {
  checkTensor('maxPool2d', x);
  if (unbatched(x)) return squeeze(maxPoolOf(unsqueeze(x, 0), kernel, opts, withRelu), 0);
  const g = poolGeometry('maxPool2d', x, kernel, opts);
  const b = getBackend();
  const fused = withRelu ? b.fused?.maxPool2dRelu : b.fused?.maxPool2d;
  if (withRelu && !(fused && x.dtype === 'float32' && g.dl[0] === 1 && g.dl[1] === 1)) return maxPoolOf(relu(x), kernel, opts, false);
  const [n, c, h, w] = x.shape;
  // Cells added after the input so ceil-mode windows fit: -Infinity, so they never win.
  const xe =
    g.extraH || g.extraW
      ? pad(
          x,
          [
            [0, 0],
            [0, 0],
            [0, g.extraH],
            [0, g.extraW],
          ],
          -Infinity,
        )
      : x;
  const he = h + g.extraH;
  const we = w + g.extraW;
  if (g.dl[0] > 1 || g.dl[1] > 1) {
    const xp = pad(
      xe,
      [
        [0, 0],
        [0, 0],
        [g.pd[0], g.pd[0]],
        [g.pd[1], g.pd[1]],
      ],
      -Infinity,
    );
    const taps: Tensor[] = [];
    for (let i = 0; i < g.k[0]; i++) {
      for (let j = 0; j < g.k[1]; j++) {
        const r0 = i * g.dl[0];
        const c0 = j * g.dl[1];
        taps.push(index(xp, ':', ':', [r0, r0 + (g.outH - 1) * g.st[0] + 1, g.st[0]], [c0, c0 + (g.outW - 1) * g.st[1] + 1, g.st[1]]));
      }
    }
    return max(stack(taps, 2), 2);
  }
  const win = window2d('maxPool2d', [n * c, 1, he, we], g.k, { stride: g.st, padding: g.pd });
  if (fused && x.dtype === 'float32') {
    // One kernel for maxima and their positions; the gradient is a scatter-add to those positions.
    const [values, argmax] = fused(xe._on(b), win);
    const out = make(values, [n, c, win.outH, win.outW], 'float32');
    return record('maxPool2d', [xe], out, { relu: withRelu }, [make(argmax, [out.size], 'int32')]);
  }
  const cols = im2col(reshape(xe, [n * c, 1, he, we]), g.k, { stride: g.st, padding: g.pd }, -Infinity);
  return reshape(max(cols, 1), [n, c, win.outH, win.outW]);
}

/**
 * 2-D average pooling over `[n, c, h, w]` (PyTorch's `F.avg_pool2d`): `stride` defaults to the
 * kernel size; `padding` (zeros, at most half the kernel), `ceilMode`, `countIncludePad` (default
 * true: the padding counts in the divisor) and `divisorOverride` as PyTorch. Windows that ceil mode
 * adds past the padded input divide by their clipped size.
 */
export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: AvgPool2dOptions = {}): Tensor {
  checkTensor('avgPool2d', x);
  if (unbatched(x)) return squeeze(avgPool2d(unsqueeze(x, 0), kernel, opts), 0);
  if ('dilation' in opts) throw new ArgumentError('avgPool2d', 'average pooling has no dilation (as in PyTorch)');
  const g = poolGeometry('avgPool2d', x, kernel, opts);
  const includePad = opts.countIncludePad ?? true;
  if (typeof includePad !== 'boolean')
    throw new ArgumentError('avgPool2d', `countIncludePad must be true or false, got ${JSON.stringify(opts.countIncludePad)}`);
  const override = opts.divisorOverride ?? null;
  if (override !== null && (!Number.isFinite(override) || override === 0)) {
    throw new ArgumentError('avgPool2d', `divisorOverride must be a non-zero number, got ${JSON.stringify(opts.divisorOverride)}`);
  }
  const [n, c, h, w] = x.shape;
  const xe =
    g.extraH || g.extraW
      ? pad(x, [
          [0, 0],
          [0, 0],
          [0, g.extraH],
          [0, g.extraW],
        ])
      : x;
  const cols = im2col(reshape(xe, [n * c, 1, h + g.extraH, w + g.extraW]), g.k, { stride: g.st, padding: g.pd });
  const sums = sum(cols, 1);
  // The divisor of every output cell, as PyTorch computes it.
  const div_ = new Float32Array(g.outH * g.outW);
  for (let oh = 0; oh < g.outH; oh++) {
    for (let ow = 0; ow < g.outW; ow++) {
      const h0 = oh * g.st[0] - g.pd[0];
      const w0 = ow * g.st[1] - g.pd[1];
      const h1 = Math.min(h0 + g.k[0], h + g.pd[0]);
      const w1 = Math.min(w0 + g.k[1], w + g.pd[1]);
      const inside = (Math.min(h1, h) - Math.max(h0, 0)) * (Math.min(w1, w) - Math.max(w0, 0));
      div_[oh * g.outW + ow] = override ?? (includePad ? (h1 - h0) * (w1 - w0) : inside);
    }
  }
  const b = getBackend();
  const divisor = make(b.upload(div_, 'float32'), [g.outH * g.outW], 'float32');
  return reshape(div(sums, divisor), [n, c, g.outH, g.outW]);
}

/** The neural-network ops that are also `Tensor` methods (`x.softmax()`, `x.conv2d(w, b)`). */
export const nnMethods = { softmax, logSoftmax, logSumExp, oneHot, conv2d, maxPool2d, avgPool2d, im2col };
