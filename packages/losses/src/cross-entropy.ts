import { ArgumentError, type Tensor } from '@bp/tensor';
import { pickLabels } from './pick.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkLabels, floatTensor } from './validate.js';

/** Options of {@link crossEntropyLoss}. */
export interface CrossEntropyOptions extends LossOptions {
  /**
   * Mixes the one-hot target with the uniform distribution (PyTorch's
   * `label_smoothing`): the target becomes `(1 - s) onehot + s / C`. 0 by default.
   */
  labelSmoothing?: number;
}

/**
 * Cross-entropy on raw scores (PyTorch's `CrossEntropyLoss`): `logSoftmax`
 * then negative log-likelihood, in one stable expression, for `[N, C]`
 * logits and int32 class ids `[N]`. Finite for logits of ±1e4. This is the
 * loss to train a classifier whose last layer has no softmax.
 *
 * @example
 * const loss = crossEntropyLoss(model.forward(x), labels);
 * loss.backward();
 */
export function crossEntropyLoss(logits: Tensor, labels: Tensor, opts?: CrossEntropyOptions): Tensor {
  const reduction = readReduction('crossEntropyLoss', opts);
  const s = opts?.labelSmoothing ?? 0;
  if (typeof s !== 'number' || !(s >= 0 && s <= 1)) {
    throw new ArgumentError('crossEntropyLoss', `labelSmoothing must be a number in [0, 1], got ${s}`);
  }
  const x = floatTensor('crossEntropyLoss', 'input', logits);
  const ids = checkLabels('crossEntropyLoss', x, labels);
  const logp = x.logSoftmax(-1);
  const nll = pickLabels(logp, ids).neg();
  if (s === 0) return reduce(nll, reduction);
  // PyTorch: (1 - s) * nll + s * mean over classes of -logp
  const smooth = logp.mean(-1).neg();
  return reduce(nll.mul(1 - s).add(smooth.mul(s)), reduction);
}
