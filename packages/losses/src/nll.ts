import { ArgumentError, Tensor } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { classLabels, classWeights, toRows, weightedNll } from './class-targets.js';
import { readReduction, type LossOptions } from './reduction.js';
import { floatTensor } from './validate.js';

/** Options of {@link nllLoss} (PyTorch's keyword arguments). */
export interface NllOptions extends LossOptions {
  /** A weight per class `[C]`; the mean then divides by the weights taken. */
  weight?: Tensor;
  /** Class id whose positions add nothing and are left out of the mean (default -100). */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood on log-probabilities (PyTorch's `NLLLoss`):
 * `-weight[y] * logProbs[y]`, for `[N, C]`, `[N, C, d1, ...]` or `[C]` input
 * and int32 class ids `[N, d1, ...]`. Pair it with `logSoftmax`;
 * `crossEntropyLoss` does both in one step. The mean divides by the sum of
 * the weights taken, leaving out positions labelled `ignoreIndex`.
 */
export function nllLoss(logProbs: Tensor, labels: Tensor, opts?: NllOptions): Tensor {
  return composite([logProbs, labels, opts?.weight], () => {
    const op = 'nllLoss';
    const reduction = readReduction(op, opts);
    const ignoreIndex = opts?.ignoreIndex ?? -100;
    if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(op, `ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
    const lp = floatTensor(op, 'input', logProbs);
    if (!(labels instanceof Tensor))
      throw new ArgumentError(op, `labels must be an int32 Tensor of class ids, got ${labels === null ? 'null' : typeof labels}`);
    const r = toRows(op, lp);
    const weights = classWeights(op, opts?.weight, r.c);
    const ids = classLabels(op, r, lp, labels, ignoreIndex);
    return weightedNll(r.rows, ids, weights, ignoreIndex, reduction, r.outShape);
  });
}
