import { ArgumentError } from '@bp/tensor';
import { bceWithLogitsLoss } from './bce-with-logits.js';
import { bceLoss } from './bce.js';
import { categoricalCrossentropy } from './categorical-crossentropy.js';
import { crossEntropyLoss } from './cross-entropy.js';
import { huberLoss } from './huber.js';
import { klDivLoss } from './kl-div.js';
import { l1Loss } from './l1.js';
import { mseLoss } from './mse.js';
import { nllLoss } from './nll.js';
import type { LossFn } from './reduction.js';
import { sparseCategoricalCrossentropy } from './sparse-categorical-crossentropy.js';

/**
 * Every name {@link getLoss} understands: bp's own function names, the Keras
 * strings people pass to `compile` (`'mse'`, `'sparse_categorical_crossentropy'`...)
 * and Keras' camel-case class spellings (`'meanSquaredError'`, `'binaryCrossentropy'`).
 */
export const LOSSES: Readonly<Record<string, LossFn>> = Object.freeze({
  mseLoss,
  l1Loss,
  huberLoss,
  bceLoss,
  bceWithLogitsLoss,
  crossEntropyLoss,
  nllLoss,
  klDivLoss: klDivLoss as LossFn,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  mse: mseLoss,
  mean_squared_error: mseLoss,
  mae: l1Loss,
  mean_absolute_error: l1Loss,
  l1: l1Loss,
  huber: huberLoss,
  binary_crossentropy: bceLoss,
  bce: bceLoss,
  bce_with_logits: bceWithLogitsLoss,
  cross_entropy: crossEntropyLoss,
  nll: nllLoss,
  categorical_crossentropy: categoricalCrossentropy,
  sparse_categorical_crossentropy: sparseCategoricalCrossentropy,
  meanSquaredError: mseLoss,
  meanAbsoluteError: l1Loss,
  binaryCrossentropy: bceLoss,
});

/**
 * The loss function for a name, as `compile({ loss: 'sparse_categorical_crossentropy' })`
 * needs it; a function is returned unchanged. An unknown name throws an
 * `ArgumentError` listing the valid ones.
 *
 * @example
 * const loss = getLoss('mse');
 * loss(pred, target).item();
 */
export function getLoss(nameOrFn: string | LossFn): LossFn {
  if (typeof nameOrFn === 'function') return nameOrFn;
  if (typeof nameOrFn === 'string' && Object.hasOwn(LOSSES, nameOrFn)) return LOSSES[nameOrFn];
  throw new ArgumentError('getLoss', `unknown loss ${JSON.stringify(nameOrFn)}; valid names: ${Object.keys(LOSSES).join(', ')}`);
}
