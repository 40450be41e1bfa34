import type { Tensor } from '@bp/tensor';
import { probabilityNll, composite } from '@bp/tensor/internal';
import { EPSILON } from './keras-probabilities.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkLabels, checkProbabilities, floatTensor, hostChecks, nanUnless, probabilitiesOk } from './validate.js';

/**
 * Keras' `sparse_categorical_crossentropy`: `-log(probs[i, labels[i]])` for
 * predicted probabilities `[N, C]` (the output of a softmax) and int32 class
 * ids `[N]` (or Keras' `[N, 1]`). As in Keras, each row of `probs` is
 * rescaled to sum to 1 and clipped to `[1e-7, 1 - 1e-7]` first.
 */
export function sparseCategoricalCrossentropy(probs: Tensor, labels: Tensor, opts?: LossOptions): Tensor {
  return composite([probs, labels], () => {
    const reduction = readReduction('sparseCategoricalCrossentropy', opts);
    const p = floatTensor('sparseCategoricalCrossentropy', 'input', probs);
    const ids = checkLabels('sparseCategoricalCrossentropy', p, labels);
    checkProbabilities('sparseCategoricalCrossentropy', 'input', p, '; for logits use crossEntropyLoss');
    // One op forward and one backward where the backend has the fused kernels (the composite's
    // rescale, clip, log and pick otherwise).
    const out = reduce(probabilityNll(p, ids, { eps: EPSILON }), reduction);
    return hostChecks() ? out : nanUnless(out, probabilitiesOk(p));
  });
}
