import { ArgumentError, type Tensor } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { floatTensor, sameShape } from './validate.js';

/** Options of {@link huberLoss}. */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear; 1 by default (PyTorch and Keras agree). */
  delta?: number;
}

/**
 * Huber loss (PyTorch's `HuberLoss`): `0.5 d^2` where `|d| < delta`, else
 * `delta (|d| - 0.5 delta)`, with `d = input - target`. Quadratic near zero,
 * linear for outliers.
 */
export function huberLoss(input: Tensor, target: Tensor, opts?: HuberOptions): Tensor {
  return composite([input, target], () => {
    const reduction = readReduction('huberLoss', opts);
    const delta = opts?.delta ?? 1;
    if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) {
      throw new ArgumentError('huberLoss', `delta must be a positive finite number, got ${delta}`);
    }
    const x = floatTensor('huberLoss', 'input', input);
    const y = floatTensor('huberLoss', 'target', target);
    sameShape('huberLoss', x, y);
    // With q = min(|d|, delta): 0.5 q^2 + delta (|d| - q) is both branches at once,
    // and its gradient is d inside and delta * sign(d) outside, as PyTorch's.
    const a = x.sub(y).abs();
    const q = a.minimum(delta);
    return reduce(q.square().mul(0.5).add(a.sub(q).mul(delta)), reduction);
  });
}
