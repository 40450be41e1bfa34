import type { Tensor } from '@bp/tensor';
import { pickLabels } from './pick.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkLabels, floatTensor } from './validate.js';

/**
 * Negative log-likelihood (PyTorch's `NLLLoss`): `-logProbs[i, labels[i]]`
 * for `[N, C]` log-probabilities (the output of `logSoftmax`) and int32
 * class ids `[N]`. `'none'` gives the `[N]` per-sample losses.
 */
export function nllLoss(logProbs: Tensor, labels: Tensor, opts?: LossOptions): Tensor {
  const reduction = readReduction('nllLoss', opts);
  const lp = floatTensor('nllLoss', 'input', logProbs);
  const ids = checkLabels('nllLoss', lp, labels);
  return reduce(pickLabels(lp, ids).neg(), reduction);
}
