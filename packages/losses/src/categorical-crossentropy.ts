import { ShapeError, fmtShape, type Tensor } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { kerasLogProbabilities } from './keras-probabilities.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkProbabilities, floatTensor, hostChecks, nanUnless, probabilitiesOk, sameShape } from './validate.js';

/**
 * Keras' `categorical_crossentropy`: `-sum(target * log(probs))` over the last
 * axis, for predicted probabilities (the output of a softmax) and one-hot (or
 * soft) targets of the same shape `[N, C]`. As in Keras, each row of `probs` is
 * rescaled to sum to 1 and clipped to `[1e-7, 1 - 1e-7]` first.
 *
 * @example
 * categoricalCrossentropy(tensor([[0.8, 0.2]]), tensor([[1, 0]])).item(); // 0.223
 */
export function categoricalCrossentropy(probs: Tensor, oneHot: Tensor, opts?: LossOptions): Tensor {
  return composite([probs, oneHot], () => {
    const reduction = readReduction('categoricalCrossentropy', opts);
    const p = floatTensor('categoricalCrossentropy', 'input', probs);
    const y = floatTensor('categoricalCrossentropy', 'target', oneHot);
    if (p.rank < 1) throw new ShapeError('categoricalCrossentropy', `input must have a class axis, got ${fmtShape(p.shape)}`);
    sameShape('categoricalCrossentropy', p, y);
    checkProbabilities('categoricalCrossentropy', 'input', p, '; for logits use crossEntropyLoss');
    // One-hot or soft targets: a negative or larger-than-1 entry makes the loss meaningless (negative, say).
    checkProbabilities('categoricalCrossentropy', 'target', y, '');
    const out = reduce(y.mul(kerasLogProbabilities(p)).sum(-1).neg(), reduction);
    return hostChecks() ? out : nanUnless(out, probabilitiesOk(p).mul(probabilitiesOk(y)));
  });
}
