import type { Tensor } from '@bp/tensor';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { floatTensor, sameShape } from './validate.js';

/**
 * Mean absolute error `|input - target|` (PyTorch's `L1Loss`, Keras' `'mae'`).
 * Its gradient at an exact match is 0, as in PyTorch.
 */
export function l1Loss(input: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  const reduction = readReduction('l1Loss', opts);
  const x = floatTensor('l1Loss', 'input', input);
  const y = floatTensor('l1Loss', 'target', target);
  sameShape('l1Loss', x, y);
  return reduce(x.sub(y).abs(), reduction);
}
