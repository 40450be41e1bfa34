import { arange, gather, lt, ge, tensor, where, type Tensor, type TypedArray } from '@bp/tensor';

/** Int32 0/1 per label: whether it names one of `c` classes (computed on the backend). */
export function labelInRange(labels: Tensor, c: number): Tensor {
  return ge(labels, 0).mul(lt(labels, c));
}

/**
 * `flat[i] = i * c + labels[i]` (0 where a label is out of range) as an int32 `[n]`
 * tensor, built on the backend from a labels tensor or on the host from values.
 */
export function flatLabelIndices(labels: TypedArray | Tensor, n: number, c: number, inRange?: Tensor): Tensor {
  if (!(labels instanceof Float32Array || labels instanceof Int32Array)) {
    const ok = inRange ?? labelInRange(labels, c);
    return arange(0, n * c, c, { dtype: 'int32' }).add(where(ok, labels, 0));
  }
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) flat[i] = i * c + labels[i];
  return tensor(flat, { dtype: 'int32', shape: [n] });
}

/**
 * `scores[i, labels[i]]` for every row of `[N, C]` scores, as `[N]`. One
 * gather on the flattened scores (whose gradient is one scatter-add) costs
 * less than multiplying by a one-hot mask and summing. `labels` are checked
 * host values, or an int32 `[N]` tensor that stays on the backend: a row whose
 * label is out of range then gives NaN (nothing is read back).
 */
export function pickLabels(scores: Tensor, labels: TypedArray | Tensor): Tensor {
  const [n, c] = scores.shape;
  if (labels instanceof Float32Array || labels instanceof Int32Array) {
    return gather(scores.reshape([n * c]), flatLabelIndices(labels, n, c));
  }
  const ok = labelInRange(labels, c);
  const picked = gather(scores.reshape([n * c]), flatLabelIndices(labels, n, c, ok));
  return where(ok, picked, Number.NaN);
}
