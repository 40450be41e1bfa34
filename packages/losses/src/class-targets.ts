import {
  ArgumentError,
  DTypeError,
  IndexError,
  ShapeError,
  Tensor,
  broadcastShapes,
  fmtShape,
  gather,
  tensor,
  where,
  type TypedArray,
} from '@bp/tensor';
import { meanOverKept, nllTerms, shapesEqual } from '@bp/tensor/internal';
import { hostChecks } from './validate.js';
import type { Reduction } from './reduction.js';

/** Scores `[N, C, d1, ...]` (or `[C]`) viewed as rows `[M, C]`, with the shape of a per-element loss. */
export interface ClassRows {
  /** `[M, C]`: the class axis last. */
  rows: Tensor;
  /** Classes. */
  c: number;
  /** `[N, d1, ...]`, or `[]` for unbatched input. */
  outShape: number[];
}

/** Moves the class axis (1, or 0 for a 1-D input) last and flattens the rest: PyTorch's `[N, C, d...]` layout. */
export function toRows(loss: string, x: Tensor): ClassRows {
  if (x.rank === 0) throw new ShapeError(loss, `input must be [batch, classes] or [batch, classes, d1, ...], got ${fmtShape(x.shape)}`);
  if (x.rank === 1) return { rows: x.reshape([1, x.shape[0]]), c: x.shape[0], outShape: [] };
  const c = x.shape[1];
  const outShape = [x.shape[0], ...x.shape.slice(2)];
  if (x.rank === 2) return { rows: x, c, outShape };
  const perm = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  return { rows: x.transpose(perm).reshape([-1, c]), c, outShape };
}

/**
 * Class weights `[C]` (PyTorch's `weight`), checked: as numbers where reading them back is
 * free ({@link hostChecks}), else as a float32 tensor left on the backend.
 */
export function classWeights(loss: string, weight: Tensor | undefined, c: number): Float32Array | Tensor | null {
  if (weight === undefined || weight === null) return null;
  if (!(weight instanceof Tensor)) throw new ArgumentError(loss, `weight must be a Tensor of ${c} class weights, got ${typeof weight}`);
  if (weight.rank !== 1 || weight.shape[0] !== c)
    throw new ShapeError(loss, `weight must be [${c}] (one per class), got ${fmtShape(weight.shape)}`);
  return hostChecks() ? Float32Array.from(weight.dataSync()) : weight.dtype === 'float32' ? weight : weight.cast('float32');
}

/**
 * Int32 class ids of `outShape` (or `[N, 1]` for 2-D input, as before), each in [0, C) or
 * equal to `ignoreIndex`: checked host values where reading them back is free
 * ({@link hostChecks}), else the labels as a flat int32 tensor checked on the backend
 * (see {@link deviceNll}).
 */
export function classLabels(loss: string, r: ClassRows, input: Tensor, labels: Tensor, ignoreIndex: number): TypedArray | Tensor {
  // crossEntropyLoss also takes class probabilities of the input's shape; nllLoss takes ids only.
  const probabilities = loss === 'crossEntropyLoss';
  if (labels.dtype !== 'int32') {
    throw new DTypeError(
      loss,
      `labels must be int32 class ids, got ${labels.dtype} ${fmtShape(labels.shape)}; use tensor(ids, { dtype: 'int32' })` +
        (probabilities ? ` (or give probabilities of the input's shape ${fmtShape(input.shape)})` : ''),
    );
  }
  const ls = labels.shape;
  const want = r.outShape;
  const same = ls.length === want.length && ls.every((d, i) => d === want[i]);
  const column = input.rank === 2 && ls.length === 2 && ls[0] === want[0] && ls[1] === 1;
  if (!same && !column) {
    // Labels of the input's own shape are one-hot rows given as int32: say how either form is written.
    const oneHot = shapesEqual(ls, input.shape);
    throw new ShapeError(
      loss,
      `labels ${fmtShape(ls)} do not match input ${fmtShape(input.shape)}: expected ${fmtShape(want)}` +
        (oneHot
          ? `; for one-hot labels pass the class ids (labels.argmax(1)) as int32 ${fmtShape(want)}` +
            (probabilities ? `, or the one-hot rows as float32 probabilities (labels.cast('float32'))` : '')
          : ''),
    );
  }
  if (!hostChecks()) return labels.reshape([labels.size]);
  const v = labels.dataSync();
  for (let i = 0; i < v.length; i++) {
    if ((v[i] < 0 || v[i] >= r.c) && v[i] !== ignoreIndex) {
      throw new IndexError(
        loss,
        `label ${v[i]} at position ${i} is out of range for ${r.c} classes (valid: 0..${r.c - 1}, or ignoreIndex ${ignoreIndex})`,
      );
    }
  }
  return v;
}

/**
 * The per-row weight of each target (`weight[y]`, 1 without weights, 0 where ignored) and their
 * sum, and which rows are kept (int32 1, 0 where ignored) and how many.
 */
export function targetWeights(
  labels: TypedArray,
  weights: Float32Array | null,
  ignoreIndex: number,
): { w: Float32Array; total: number; anyIgnored: boolean; keep: Int32Array; kept: number } {
  const w = new Float32Array(labels.length);
  const keep = new Int32Array(labels.length);
  let total = 0;
  let kept = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === ignoreIndex) continue;
    keep[i] = 1;
    kept++;
    w[i] = weights ? weights[labels[i]] : 1;
    total += w[i];
  }
  return { w, total, anyIgnored: kept < labels.length, keep, kept };
}

/** {@link targetWeights}' `keep` as an int32 `[M]` tensor, a `where` mask. */
export function keptRows(keep: Int32Array): Tensor {
  return tensor(keep, { shape: [keep.length], dtype: 'int32' });
}

/**
 * PyTorch's `nll_loss` on rows `[M, C]` of log-probabilities: `-weight[y] * lp[y]`
 * per row (0 where ignored); the mean divides by the sum of the weights taken.
 */
export function weightedNll(
  logp: Tensor,
  labels: TypedArray | Tensor,
  weights: Float32Array | Tensor | null,
  ignoreIndex: number,
  reduction: Reduction,
  outShape: number[],
): Tensor {
  if (labels instanceof Tensor || weights instanceof Tensor) {
    return deviceNll(logp, labels as Tensor, weights as Tensor | null, ignoreIndex, reduction, outShape).loss;
  }
  const [m, c] = logp.shape;
  const flat = new Int32Array(m);
  for (let i = 0; i < m; i++) flat[i] = i * c + (labels[i] === ignoreIndex ? 0 : labels[i]);
  const { w, total, anyIgnored, keep } = targetWeights(labels, weights, ignoreIndex);
  let picked = gather(logp.reshape([m * c]), tensor(flat, { shape: [m] })).neg();
  // Ignored rows are 0 whatever their log-probabilities hold (-Infinity or NaN times a weight of 0 is NaN).
  if (anyIgnored) picked = where(keptRows(keep), picked, 0);
  const per = weights || anyIgnored ? picked.mul(tensor(w, { shape: [m] })) : picked;
  if (reduction === 'none') return per.reshape(outShape);
  if (reduction === 'sum') return per.sum();
  return meanOverKept(per.sum(), total);
}

/** Throws unless `t` broadcasts to `shape` without changing it. */
export function checkBroadcastsTo(loss: string, what: string, t: Tensor, shape: number[]): void {
  let out: number[] | null;
  try {
    out = broadcastShapes(loss, t.shape, shape);
  } catch {
    out = null;
  }
  if (out === null || out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
    throw new ShapeError(loss, `${what} ${fmtShape(t.shape)} does not broadcast to the input ${fmtShape(shape)}`);
  }
}

/** What {@link deviceNll} computes besides the loss, for label smoothing. */
export interface DeviceNll {
  loss: Tensor;
  /** Float32 `[M]`: 0 where the label is `ignoreIndex`, else 1. */
  keep: Tensor;
  /** Float32 `[M]`: the weight taken per row (`weight[y]`, 1 without weights, 0 where ignored). */
  w: Tensor;
  /** Int32 0/1 `[M]`: the label is in range or ignored. */
  ok: Tensor;
}

/**
 * {@link weightedNll} with the labels (int32 `[M]`) and weights left on the backend: nothing
 * is read back. A label that is neither in `[0, C)` nor `ignoreIndex` makes its row NaN
 * (and so a mean or sum NaN), the device-side form of the `IndexError` the host check throws.
 */
export function deviceNll(
  logp: Tensor,
  labels: Tensor,
  weights: Tensor | null,
  ignoreIndex: number,
  reduction: Reduction,
  outShape: number[],
): DeviceNll {
  const { picked, inRange, ok, keep } = nllTerms(logp, labels, ignoreIndex);
  const w = weights ? gather(weights, where(inRange, labels, 0)).mul(keep) : keep;
  const per = where(ok, picked.mul(w), Number.NaN);
  let loss: Tensor;
  if (reduction === 'none') loss = per.reshape(outShape);
  else if (reduction === 'sum') loss = per.sum();
  else loss = meanOverKept(per.sum(), w.sum());
  return { loss, keep, w, ok };
}
