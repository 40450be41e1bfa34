import { type Tensor, gt, where } from '@bp/tensor';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkProbabilities, floatTensor, sameShape } from './validate.js';

/**
 * `log(p)` clamped below at -100 as PyTorch's `BCELoss` does, so a
 * probability of exactly 0 or 1 gives a finite loss. The inner `where` keeps
 * `log` away from 0, so the gradient there is 0 rather than `0 / 0`.
 */
function clampedLog(p: Tensor): Tensor {
  const pos = gt(p, 0);
  return where(pos, p.where(p, 1).log().maximum(-100), -100);
}

/**
 * Binary cross-entropy on probabilities (PyTorch's `BCELoss`, Keras'
 * `'binary_crossentropy'`): `-(y log p + (1 - y) log(1 - p))`, each log
 * clamped at -100 as PyTorch does. `input` must hold probabilities in
 * `[0, 1]` (apply `sigmoid` first, or use {@link bceWithLogitsLoss}, which
 * is more stable).
 *
 * @example
 * bceLoss(tensor([0.8]), tensor([1])).item(); // 0.2231 = -log(0.8)
 */
export function bceLoss(input: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  const reduction = readReduction('bceLoss', opts);
  const p = floatTensor('bceLoss', 'input', input);
  const y = floatTensor('bceLoss', 'target', target);
  sameShape('bceLoss', p, y);
  checkProbabilities('bceLoss', 'input', p, '; for logits use bceWithLogitsLoss');
  checkProbabilities('bceLoss', 'target', y, '');
  const pos = y.mul(clampedLog(p));
  const neg = y.neg().add(1).mul(clampedLog(p.neg().add(1)));
  return reduce(pos.add(neg).neg(), reduction);
}
