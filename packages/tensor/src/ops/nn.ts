import type { Window2d } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { record, setGradEnabled, type NoAttrs } from '../engine.js';
import { ArgumentError, DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { normAxis } from '../shape.js';
import { Tensor, view } from '../tensor.js';
import { add, cast, div, eq, exp, log, sub } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './movement.js';
import { max, sum } from './reduce.js';
import { checkTensor, make } from './util.js';

/** The recorded neural-network ops and what their gradient rules need. */
export interface NnAttrs {
  softmax: { axis: number };
  logSoftmax: { axis: number };
  im2col: { win: Window2d };
  col2im: { win: Window2d };
  im2colWide: { win: Window2d };
  col2imWide: { win: Window2d };
  conv2d: { win: Window2d };
  /** Saves the int32 flat position of each maximum (one tensor). */
  maxPool2d: NoAttrs;
}

function softmaxImpl(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor, got ${typeof x}`);
  if (x.rank === 0) throw new ShapeError(op, 'needs at least one dimension, got a scalar');
  const a = normAxis(op, axis, x.rank);
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const b = getBackend();
  const fused = b.fused?.[op];
  let out: Tensor;
  if (fused && a === x.rank - 1) {
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

/** Softmax along `axis` (default last): `exp(x - max) / sum(exp(x - max))`, stable for ±1e4. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl('softmax', x, axis);
}

/** Log-softmax along `axis` (default last): `x - logsumexp(x)`, stable for ±1e4. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl('logSoftmax', x, axis);
}

/** `log(sum(exp(x)))` along `axis`, computed stably. */
export function logSumExp(x: Tensor, axis = -1, keepDims = false): Tensor {
  checkTensor('logSumExp', x);
  const a = normAxis('logSumExp', axis, x.rank);
  const m = max(x, a, true);
  const mNoGrad = m.detach();
  const out = add(log(sum(exp(sub(x, mNoGrad)), a, true)), mNoGrad);
  return keepDims ? out : reshape(out, x.shape.filter((_, i) => i !== a));
}

/** One-hot float32 rows `[..., numClasses]` for int32 class ids. */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32') {
    throw new DTypeError('oneHot', `labels must be an int32 Tensor of class ids, got ${labels instanceof Tensor ? labels.dtype : typeof labels}`);
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0 || labels.size * numClasses > 2 ** 32) {
    throw new ArgumentError('oneHot', `numClasses must be a positive integer (at most ${2 ** 32} values in all), got ${numClasses}`);
  }
  const v = labels.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= numClasses) {
      throw new IndexError('oneHot', `label ${v[i]} at position ${i} is out of range for ${numClasses} classes`);
    }
  }
  const b = getBackend();
  const classes = make(b.upload(Int32Array.from({ length: numClasses }, (_, i) => i), 'int32'), [numClasses], 'int32');
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

/**
 * 2-D convolution (cross-correlation, as PyTorch) of `x: [n, inC, h, w]` with
 * `weight: [outC, inC, kh, kw]` and optional `bias: [outC]`, via im2col and one matmul.
 *
 * The columns of the whole batch are laid side by side, `[inC*kh*kw, n*outH*outW]`, so the
 * forward product and both gradient products (weight: summed over the batch inside the
 * product; input: one product for every image) are each one large matrix product that a
 * backend can split across threads, instead of `n` small ones and a reduction.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: WindowOptions = {}): Tensor {
  checkTensor('conv2d', x);
  checkTensor('conv2d', weight, 'weight');
  if (bias != null) checkTensor('conv2d', bias, 'bias');
  if (weight.rank !== 4) throw new ShapeError('conv2d', `weight must be [outC, inC, kH, kW], got ${fmtShape(weight.shape)}`);
  if (x.rank !== 4) throw new ShapeError('conv2d', `input must be NCHW of rank 4, got ${fmtShape(x.shape)}`);
  const [outC, inC, kh, kw] = weight.shape;
  if (x.shape[1] !== inC) {
    throw new ShapeError('conv2d', `input has ${x.shape[1]} channels but weight ${fmtShape(weight.shape)} expects ${inC}: input ${fmtShape(x.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) {
    throw new ShapeError('conv2d', `bias must be [${outC}], got ${fmtShape(bias.shape)}`);
  }
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
  dy: Tensor, x: Tensor, weight: Tensor, win: Window2d, needs: readonly [boolean, boolean, boolean] = [true, true, true],
): [Tensor | null, Tensor | null, Tensor | null] {
  checkTensor('conv2dBackward', dy, 'dy');
  checkTensor('conv2dBackward', x, 'x');
  checkTensor('conv2dBackward', weight, 'weight');
  if (weight.rank !== 4 || weight.shape[1] !== win.c || weight.shape[2] !== win.kh || weight.shape[3] !== win.kw) {
    throw new ShapeError('conv2dBackward', `weight ${fmtShape(weight.shape)} does not match the window (expected [outC,${win.c},${win.kh},${win.kw}])`);
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
  if (fused) {
    const [dx, dw, db] = fused(f32(dy)._on(b), f32(x)._on(b), f32(weight)._on(b), win, outC, needs);
    return [
      dx === null ? null : make(dx, xShape, 'float32'),
      dw === null ? null : make(dw, weight.shape.slice(), 'float32'),
      db === null ? null : make(db, [outC], 'float32'),
    ];
  }
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
      ? reshape(matmul(dyWide, transpose(im2colWide(reshape(f32(x), xShape), [win.kh, win.kw], { stride, padding }), [1, 0])), weight.shape.slice())
      : null;
    const db = needs[2] ? sum(dyWide, 1) : null;
    return [dx, dw, db];
  } finally {
    setGradEnabled(prev);
  }
}

/** 2-D max pooling over `[n, c, h, w]`; `stride` defaults to the kernel size. */
export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: WindowOptions = {}): Tensor {
  checkTensor('maxPool2d', x);
  if (x.rank !== 4) throw new ShapeError('maxPool2d', `input must be NCHW of rank 4, got ${fmtShape(x.shape)}`);
  const k = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const stride = opts.stride ?? kernel;
  const padding = opts.padding ?? 0;
  const pp = typeof padding === 'number' ? [padding, padding] : padding;
  if (pp[0] * 2 > k[0] || pp[1] * 2 > k[1]) {
    throw new ArgumentError('maxPool2d', `padding ${JSON.stringify(padding)} must be at most half the kernel ${JSON.stringify(kernel)}`);
  }
  const [n, c, h, w] = x.shape;
  const win = window2d('maxPool2d', [n * c, 1, h, w], kernel, { stride, padding });
  const b = getBackend();
  const fused = b.fused?.maxPool2d;
  if (fused && x.dtype === 'float32') {
    // One kernel for maxima and their positions; the gradient is a scatter-add to those positions.
    const [values, argmax] = fused(x._on(b), win);
    const out = make(values, [n, c, win.outH, win.outW], 'float32');
    return record('maxPool2d', [x], out, {}, [make(argmax, [out.size], 'int32')]);
  }
  const cols = im2col(reshape(x, [n * c, 1, h, w]), kernel, { stride, padding }, -Infinity);
  return reshape(max(cols, 1), [n, c, win.outH, win.outW]);
}

/** 2-D average pooling over `[n, c, h, w]` (padding counts as zeros, as PyTorch's default). */
export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: WindowOptions = {}): Tensor {
  checkTensor('avgPool2d', x);
  if (x.rank !== 4) throw new ShapeError('avgPool2d', `input must be NCHW of rank 4, got ${fmtShape(x.shape)}`);
  const stride = opts.stride ?? kernel;
  const [n, c, h, w] = x.shape;
  const win = window2d('avgPool2d', [n * c, 1, h, w], kernel, { stride, padding: opts.padding });
  const cols = im2col(reshape(x, [n * c, 1, h, w]), kernel, { stride, padding: opts.padding });
  const mean = div(sum(cols, 1), win.kh * win.kw);
  return reshape(mean, [n, c, win.outH, win.outW]);
}

/** The neural-network ops that are also `Tensor` methods (`x.softmax()`, `x.conv2d(w, b)`). */
export const nnMethods = { softmax, logSoftmax, logSumExp, oneHot, conv2d, maxPool2d, avgPool2d, im2col };
