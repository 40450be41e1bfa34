import type { Tensor } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { floatTensor, sameShape } from './validate.js';

/**
 * Mean squared error `(input - target)^2` (PyTorch's `MSELoss`, Keras' `'mse'`).
 *
 * @example
 * mseLoss(tensor([0.8]), tensor([1])).item(); // 0.04
 */
export function mseLoss(input: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  return composite([input, target], () => {
    const reduction = readReduction('mseLoss', opts);
    const x = floatTensor('mseLoss', 'input', input);
    const y = floatTensor('mseLoss', 'target', target);
    sameShape('mseLoss', x, y);
    return reduce(x.sub(y).square(), reduction);
  });
}
