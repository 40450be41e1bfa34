import type { Window2d } from '../backend/backend.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { getBackend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';
import { MAX_ELEMENTS } from './creation.js';
import { add, cast } from './elementwise.js';
import { matmul, matmulT } from './matmul.js';
import { concat, hostIndices, narrow, pad, reshape, squeeze, takeAlong, transpose, unsqueeze } from './movement.js';
import { col2imWide, conv2d, dilateKernel, unbatched, type ConvOptions } from './nn.js';
import { max } from './reduce.js';
import { checkTensor, make } from './util.js';

// Convolutions and pools composed from conv2d, col2im, matrix products and gathers: no
// gradient rules of their own.

function intPair(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ArgumentError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

function intOne(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(op, `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Options of {@link conv1d}: PyTorch's `stride`, `padding` (a number, `'same'` or `'valid'`), `dilation`, `groups`. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/**
 * 1-D convolution (PyTorch's `F.conv1d`) of `x: [n, inC, length]` with
 * `weight: [outC, inC / groups, k]` and optional `bias: [outC]`: a 2-D convolution over a
 * height of 1, with the same options. One unbatched sample `[inC, length]` gives `[outC, length']`.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  checkTensor('conv1d', x);
  checkTensor('conv1d', weight, 'weight');
  if (unbatched(x, 2)) return squeeze(conv1d(unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.rank !== 3)
    throw new ShapeError('conv1d', `input must be [n, channels, length] or one sample [channels, length], got ${fmtShape(x.shape)}`);
  if (weight.rank !== 3) throw new ShapeError('conv1d', `weight must be [outC, inC/groups, k], got ${fmtShape(weight.shape)}`);
  const stride = intOne('conv1d', 'stride', opts.stride ?? 1, 1);
  const dilation = intOne('conv1d', 'dilation', opts.dilation ?? 1, 1);
  const p = opts.padding ?? 0;
  if (typeof p === 'number') intOne('conv1d', 'padding', p, 0);
  else if (p !== 'same' && p !== 'valid')
    throw new ArgumentError('conv1d', `padding must be a number, 'same' or 'valid', got ${JSON.stringify(p)}`);
  const [n, c, l] = x.shape;
  const [o, i, k] = weight.shape;
  // The checks conv2d makes, in the 1-D shapes the caller gave (conv2d would name its own 4-D ones).
  const groups = intOne('conv1d', 'groups', opts.groups ?? 1, 1);
  if (c !== i * groups) {
    throw new ShapeError(
      'conv1d',
      `input has ${c} channels but weight ${fmtShape(weight.shape)} expects ${i * groups}${groups > 1 ? ` (${groups} groups)` : ''}: input ${fmtShape(x.shape)}`,
    );
  }
  if (o % groups !== 0)
    throw new ShapeError('conv1d', `weight ${fmtShape(weight.shape)} has ${o} output channels, not divisible by ${groups} groups`);
  if (bias != null) {
    checkTensor('conv1d', bias, 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== o) throw new ShapeError('conv1d', `bias must be [${o}], got ${fmtShape(bias.shape)}`);
  }
  if (p === 'same' && stride !== 1) throw new ArgumentError('conv1d', `padding 'same' needs stride 1, got ${stride}`);
  const padded = l + 2 * (typeof p === 'number' ? p : 0);
  if (p !== 'same' && (k - 1) * dilation + 1 > padded) {
    throw new ShapeError(
      'conv1d',
      `kernel ${k} (padding ${typeof p === 'number' ? p : 0}, dilation ${dilation}) does not fit input ${fmtShape(x.shape)}`,
    );
  }
  const padding: ConvOptions['padding'] = typeof p === 'number' ? [0, p] : p;
  const out = conv2d(reshape(x, [n, c, 1, l]), reshape(weight, [o, i, 1, k]), bias, {
    stride: [1, stride],
    padding,
    dilation: [1, dilation],
    groups: opts.groups,
  });
  return reshape(out, [n, o, out.shape[3]]);
}

/** Options of {@link convTranspose2d}, as PyTorch's `F.conv_transpose2d`. */
export interface ConvTranspose2dOptions {
  stride?: number | [number, number];
  /** Input-side padding as PyTorch's: the output shrinks by `2 * padding` (default 0). */
  padding?: number | [number, number];
  /** Extra rows/columns added after the output (below the stride or the dilation). Default 0. */
  outputPadding?: number | [number, number];
  /** Channel groups (default 1). */
  groups?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | [number, number];
}

/**
 * Transposed 2-D convolution (PyTorch's `F.conv_transpose2d`, the gradient of `conv2d` with
 * respect to its input) of `x: [n, inC, h, w]` with `weight: [inC, outC / groups, kh, kw]` and
 * optional `bias: [outC]`. The output is
 * `(h - 1) * stride - 2 * padding + dilation * (kh - 1) + outputPadding + 1` high (likewise wide).
 * Runs as one matrix product and a col2im per group.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  checkTensor(op, x);
  checkTensor(op, weight, 'weight');
  if (bias != null) checkTensor(op, bias, 'bias');
  if (unbatched(x)) return squeeze(convTranspose2d(unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.rank !== 4) throw new ShapeError(op, `input must be [n, c, h, w] or one image [c, h, w], got ${fmtShape(x.shape)}`);
  if (weight.rank !== 4) throw new ShapeError(op, `weight must be [inC, outC/groups, kH, kW], got ${fmtShape(weight.shape)}`);
  const groups = intOne(op, 'groups', opts.groups ?? 1, 1);
  const [inC, outPerGroup, kh0, kw0] = weight.shape;
  if (x.shape[1] !== inC) {
    throw new ShapeError(
      op,
      `input has ${x.shape[1]} channels but weight ${fmtShape(weight.shape)} expects ${inC}: input ${fmtShape(x.shape)}`,
    );
  }
  if (inC % groups !== 0) throw new ShapeError(op, `${inC} input channels are not divisible by ${groups} groups`);
  const outC = outPerGroup * groups;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) throw new ShapeError(op, `bias must be [${outC}], got ${fmtShape(bias.shape)}`);
  const [sh, sw] = intPair(op, 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = intPair(op, 'padding', opts.padding ?? 0, 0);
  const [oph, opw] = intPair(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  const [dh, dw] = intPair(op, 'dilation', opts.dilation ?? 1, 1);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new ArgumentError(
      op,
      `outputPadding ${JSON.stringify(opts.outputPadding)} must be smaller than the stride or the dilation (stride ${sh},${sw}, dilation ${dh},${dw})`,
    );
  }
  const w = dilateKernel(weight, dh, dw);
  const kh = w.shape[2];
  const kw = w.shape[3];
  const [n, , h, wd] = x.shape;
  const outH = (h - 1) * sh - 2 * ph + kh + oph;
  const outW = (wd - 1) * sw - 2 * pw + kw + opw;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      op,
      `input ${fmtShape(x.shape)} with kernel ${kh0}x${kw0}, stride ${sh},${sw}, padding ${ph},${pw} gives an empty output ${outH}x${outW}`,
    );
  }
  // col2im writes the whole canvas every input pixel reaches, (h - 1) * stride + k rows (no padding);
  // outputPadding adds zero rows below it, and padding then crops that many rows from each side. With
  // padding, some of the rows outputPadding adds are canvas rows the crop would have dropped, so they
  // hold sums, not zeros (outputPadding can reach the stride where the dilation is larger).
  const canvasH = (h - 1) * sh + kh;
  const canvasW = (wd - 1) * sw + kw;
  const inG = inC / groups;
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const xg = groups === 1 ? xf : narrow(xf, 1, g * inG, inG);
    const wg = groups === 1 ? w : narrow(w, 0, g * inG, inG);
    const K = outPerGroup * kh * kw;
    // [inG, n*h*w]: the input pixels as columns, batch side by side.
    const cols = matmulT(reshape(wg, [inG, K]), reshape(transpose(xg, [1, 0, 2, 3]), [inG, n * h * wd]), true, false);
    const win: Window2d = {
      n,
      c: outPerGroup,
      h: canvasH,
      w: canvasW,
      kh,
      kw,
      strideH: sh,
      strideW: sw,
      padH: 0,
      padW: 0,
      outH: h,
      outW: wd,
    };
    outs.push(col2imWide(cols, win));
  }
  let out = groups === 1 ? outs[0] : concat(outs, 1);
  if (ph !== 0 || pw !== 0 || oph !== 0 || opw !== 0)
    out = pad(out, [
      [0, 0],
      [0, 0],
      [-ph, oph - ph],
      [-pw, opw - pw],
    ]);
  if (bias) out = add(out, reshape(bias, [1, outC, 1, 1]));
  return out;
}

/** The adaptive-pooling windows of one axis, as PyTorch: `[floor(i*in/out), ceil((i+1)*in/out))`. */
function adaptiveWindows(inSize: number, outSize: number): [number, number][] {
  return Array.from({ length: outSize }, (_, i) => [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)]);
}

function adaptiveArgs(op: string, x: Tensor, outputSize: number | [number | null, number | null]): [number, number] {
  checkTensor(op, x);
  if (x.rank !== 3 && x.rank !== 4) throw new ShapeError(op, `input must be [n, c, h, w] or [c, h, w], got ${fmtShape(x.shape)}`);
  const h = x.shape[x.rank - 2];
  const w = x.shape[x.rank - 1];
  const raw = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(raw) || raw.length !== 2 || raw.some((d) => d !== null && (!Number.isInteger(d) || d < 1))) {
    throw new ArgumentError(
      op,
      `outputSize must be a positive integer or a pair (null keeps the input size), got ${JSON.stringify(outputSize)}`,
    );
  }
  if (h === 0 || w === 0) throw new ShapeError(op, `input ${fmtShape(x.shape)} has an empty spatial axis`);
  const oh = raw[0] ?? h;
  const ow = raw[1] ?? w;
  const outShape = [...x.shape.slice(0, -2), oh, ow];
  // Refused before any window is built: the windows of an axis alone take out * in numbers.
  if (outShape.reduce((a, d) => a * d, 1) > MAX_ELEMENTS || oh * h > MAX_ELEMENTS || ow * w > MAX_ELEMENTS) {
    throw new ShapeError(
      op,
      `outputSize ${JSON.stringify(outputSize)} on ${fmtShape(x.shape)} gives ${fmtShape(outShape)}, more than the ${MAX_ELEMENTS} elements a tensor can hold`,
    );
  }
  return [oh, ow];
}

/**
 * Adaptive 2-D average pooling (PyTorch's `F.adaptive_avg_pool2d`) of `[n, c, h, w]` or
 * `[c, h, w]` to `outputSize` (a number, or `[oh, ow]` where null keeps that axis): output cell
 * `i` averages rows `floor(i*h/oh)` to `ceil((i+1)*h/oh)`, likewise columns. Runs as two matrix
 * products with the averaging matrices.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  const [oh, ow] = adaptiveArgs('adaptiveAvgPool2d', x, outputSize);
  const h = x.shape[x.rank - 2];
  const w = x.shape[x.rank - 1];
  const averaging = (inSize: number, outSize: number, transposed: boolean): Tensor => {
    const m = new Float32Array(outSize * inSize);
    adaptiveWindows(inSize, outSize).forEach(([a, b], i) => {
      for (let j = a; j < b; j++) m[transposed ? j * outSize + i : i * inSize + j] = 1 / (b - a);
    });
    const b = getBackend();
    return make(b.upload(m, 'float32'), transposed ? [inSize, outSize] : [outSize, inSize], 'float32');
  };
  return matmul(matmul(averaging(h, oh, false), x), averaging(w, ow, true));
}

/**
 * Adaptive 2-D max pooling (PyTorch's `F.adaptive_max_pool2d`, values only) of `[n, c, h, w]` or
 * `[c, h, w]`, with the windows of {@link adaptiveAvgPool2d}. Each window is read in row-major
 * order, and the gradient goes to its maximum, on exact ties to the first in that order, as in
 * PyTorch.
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  const [oh, ow] = adaptiveArgs('adaptiveMaxPool2d', x, outputSize);
  const h = x.shape[x.rank - 2];
  const w = x.shape[x.rank - 1];
  const rows = adaptiveWindows(h, oh);
  const cols = adaptiveWindows(w, ow);
  const span = Math.max(...rows.map(([a, b]) => b - a)) * Math.max(...cols.map(([a, b]) => b - a));
  const lead = x.shape.slice(0, -2);
  const count = lead.reduce((a, d) => a * d, 1) * oh * ow * span;
  if (count > MAX_ELEMENTS) {
    throw new ShapeError(
      'adaptiveMaxPool2d',
      `outputSize ${JSON.stringify(outputSize)} on ${fmtShape(x.shape)} reads windows of up to ${span} values for each of ${oh * ow} outputs: ${count} values, more than the ${MAX_ELEMENTS} elements a tensor can hold`,
    );
  }
  // Each output's window as positions in the flattened h*w plane, row by row (so the first of equal
  // maxima is PyTorch's); a shorter window reads a -Infinity cell appended after the plane.
  const plane = h * w;
  const idx = new Int32Array(oh * ow * span).fill(plane);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let k = (i * ow + j) * span;
      for (let r = rows[i][0]; r < rows[i][1]; r++) for (let q = cols[j][0]; q < cols[j][1]; q++) idx[k++] = r * w + q;
    }
  }
  const flat = reshape(x, [...lead, plane]);
  const padded = pad(
    flat,
    flat.shape.map((_, i) => [0, i === flat.rank - 1 ? 1 : 0] as [number, number]),
    -Infinity,
  );
  const windows = takeAlong(padded, hostIndices(idx, [oh * ow, span]), flat.rank - 1);
  return reshape(max(windows, flat.rank), [...lead, oh, ow]);
}

/** The convolution and pooling ops that are also `Tensor` methods. */
export const convMethods = { conv1d, convTranspose2d, adaptiveAvgPool2d, adaptiveMaxPool2d };
