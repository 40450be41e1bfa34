import { ArgumentError } from '@bp/tensor';
import { bceWithLogitsLoss } from './bce-with-logits.js';
import { bceLoss } from './bce.js';
import { binaryCrossentropy } from './binary-crossentropy.js';
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
 * Lookups ignore case, `_` and `-`, so `'MeanSquaredError'` and
 * `'SPARSE_CATEGORICAL_CROSSENTROPY'` find the same functions.
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
  binaryCrossentropy,
  mse: mseLoss,
  mean_squared_error: mseLoss,
  mae: l1Loss,
  mean_absolute_error: l1Loss,
  l1: l1Loss,
  huber: huberLoss,
  huber_loss: huberLoss,
  binary_crossentropy: binaryCrossentropy,
  bce: bceLoss,
  bce_with_logits: bceWithLogitsLoss,
  cross_entropy: crossEntropyLoss,
  nll: nllLoss,
  categorical_crossentropy: categoricalCrossentropy,
  sparse_categorical_crossentropy: sparseCategoricalCrossentropy,
  meanSquaredError: mseLoss,
  meanAbsoluteError: l1Loss,
});

/**
 * What each loss expects as predictions: `'logits'` (it applies the softmax
 * or sigmoid itself), `'probabilities'` (a final `Softmax` or `Sigmoid`),
 * `'logProbabilities'` (a final `LogSoftmax`) or `'values'` (anything).
 * `compile` reads it to warn about a `Softmax` layer followed by a loss that
 * applies the softmax again.
 */
export const LOSS_INPUTS: ReadonlyMap<LossFn, 'logits' | 'probabilities' | 'logProbabilities' | 'values'> = new Map<
  LossFn,
  'logits' | 'probabilities' | 'logProbabilities' | 'values'
>([
  [mseLoss, 'values'],
  [l1Loss, 'values'],
  [huberLoss, 'values'],
  [bceLoss, 'probabilities'],
  [bceWithLogitsLoss, 'logits'],
  [crossEntropyLoss, 'logits'],
  [nllLoss, 'logProbabilities'],
  [klDivLoss as LossFn, 'logProbabilities'],
  [categoricalCrossentropy, 'probabilities'],
  [sparseCategoricalCrossentropy, 'probabilities'],
  [binaryCrossentropy, 'probabilities'],
]);

/** Spelling-insensitive key: case, `_` and `-` ignored. */
const keyOf = (name: string): string => name.toLowerCase().replace(/[_\-\s]/g, '');

const BY_KEY: ReadonlyMap<string, LossFn> = new Map(Object.entries(LOSSES).map(([name, fn]) => [keyOf(name), fn]));

/**
 * The loss function for a name, as `compile({ loss: 'sparse_categorical_crossentropy' })`
 * needs it (case, `_` and `-` do not matter: `'SparseCategoricalCrossentropy'`
 * works too); a function is returned unchanged. An unknown name throws an
 * `ArgumentError` listing the valid ones.
 *
 * @example
 * const loss = getLoss('mse');
 * loss(pred, target).item();
 */
export function getLoss(nameOrFn: string | LossFn): LossFn {
  if (typeof nameOrFn === 'function') return nameOrFn;
  const fn = typeof nameOrFn === 'string' ? BY_KEY.get(keyOf(nameOrFn)) : undefined;
  if (fn) return fn;
  throw new ArgumentError('getLoss', `unknown loss ${JSON.stringify(nameOrFn)}; valid names: ${Object.keys(LOSSES).join(', ')}`);
}
