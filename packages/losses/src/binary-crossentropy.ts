import type { Tensor } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { EPSILON } from './keras-probabilities.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { hostChecks, nanUnless, probabilitiesOk, probabilityPair } from './validate.js';

/**
 * Keras' `binary_crossentropy` on probabilities (the output of a sigmoid), what
 * `compile({ loss: 'binary_crossentropy' })` uses: the probabilities are clipped to
 * `[1e-7, 1 - 1e-7]` (the clip's gradient is zero where it clips), then
 * `-(y log p + (1 - y) log(1 - p))` is averaged over the last axis, each sample's loss
 * (a 0-d or 1-d input is one value per sample), and reduced over the samples. Inside
 * the clip it equals {@link bceLoss}, PyTorch's `BCELoss`; a probability of exactly 0 or 1
 * costs `-log(1e-7)` ≈ 16.1 here and 100 there (PyTorch clamps the log at -100).
 *
 * @example
 * binaryCrossentropy(tensor([[0.9], [0.2]]), tensor([[1], [0]])).item(); // 0.164
 */
export function binaryCrossentropy(probs: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  return composite([probs, target], () => {
    const reduction = readReduction('binaryCrossentropy', opts);
    const [p, y] = probabilityPair('binaryCrossentropy', probs, target);
    const c = p.clamp(EPSILON, 1 - EPSILON);
    const each = y
      .mul(c.log())
      .add(y.neg().add(1).mul(c.neg().add(1).log()))
      .neg();
    const perSample = each.rank >= 2 ? each.mean(-1) : each;
    const out = reduce(perSample, reduction);
    // Without host checks, an input or target outside [0, 1] makes the loss NaN instead of an error.
    return hostChecks() ? out : nanUnless(out, probabilitiesOk(p).mul(probabilitiesOk(y)));
  });
}
