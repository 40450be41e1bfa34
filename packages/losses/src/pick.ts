import { gather, tensor, type Tensor, type TypedArray } from '@bp/tensor';

/**
 * `scores[i, labels[i]]` for every row of `[N, C]` scores, as `[N]`. One
 * gather on the flattened scores (whose gradient is one scatter-add) costs
 * less than multiplying by a one-hot mask and summing.
 */
export function pickLabels(scores: Tensor, labels: TypedArray): Tensor {
  const [n, c] = scores.shape;
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) flat[i] = i * c + labels[i];
  return gather(scores.reshape([n * c]), tensor(flat, { dtype: 'int32', shape: [n] }));
}
