/**
 * @bp/losses: loss functions with PyTorch's semantics and Keras' names.
 * Each takes `(input, target, { reduction? })`, reduces by the mean unless
 * told otherwise, is built from @bp/tensor ops (so `loss.backward()` works
 * once @bp/autograd is imported) and stays finite for logits of ±1e4.
 *
 * @example
 * import { tensor } from '@bp/tensor';
 * import '@bp/autograd';
 * import { crossEntropyLoss } from '@bp/losses';
 * const logits = tensor([[2, 0.5, -1]], { requiresGrad: true });
 * const loss = crossEntropyLoss(logits, tensor([0], { dtype: 'int32' }));
 * loss.backward();
 *
 * @packageDocumentation
 */
export { mseLoss } from './mse.js';
export { l1Loss } from './l1.js';
export { huberLoss } from './huber.js';
export type { HuberOptions } from './huber.js';
export { bceLoss } from './bce.js';
export type { BceOptions } from './bce.js';
export { bceWithLogitsLoss } from './bce-with-logits.js';
export type { BceWithLogitsOptions } from './bce-with-logits.js';
export { crossEntropyLoss } from './cross-entropy.js';
export type { CrossEntropyOptions } from './cross-entropy.js';
export { nllLoss } from './nll.js';
export type { NllOptions } from './nll.js';
export { klDivLoss } from './kl-div.js';
export type { KlDivOptions } from './kl-div.js';
export { categoricalCrossentropy } from './categorical-crossentropy.js';
export { sparseCategoricalCrossentropy } from './sparse-categorical-crossentropy.js';
export { binaryCrossentropy } from './binary-crossentropy.js';
export { EPSILON } from './keras-probabilities.js';
export { getLoss, LOSSES, LOSS_INPUTS } from './registry.js';
// Makes every loss available by name to `compile` in @bp/layers.
import './register.js';
export type { LossFn, LossOptions, Reduction } from './reduction.js';
