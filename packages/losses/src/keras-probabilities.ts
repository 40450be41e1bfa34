import type { Tensor } from '@bp/tensor';

/** Keras' `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 - EPSILON]` before the log. */
export const EPSILON = 1e-7;

/**
 * What Keras does to predicted probabilities before taking the log: rescale
 * each row to sum to 1, clip to `[EPSILON, 1 - EPSILON]`, then log. The clip
 * keeps `log(0)` out; its gradient is zero where it clips, as in Keras.
 */
export function kerasLogProbabilities(probs: Tensor): Tensor {
  return probs
    .div(probs.sum(-1, true))
    .clamp(EPSILON, 1 - EPSILON)
    .log();
}
