import type { Tensor } from '@bp/tensor';

/**
 * What a loss given to `compile` expects as predictions, so that `compile`
 * can tell a model ending in `Softmax` from one that outputs logits:
 * - `'logits'`: raw scores; the loss applies the softmax or sigmoid itself (`crossEntropyLoss`, `bceWithLogitsLoss`);
 * - `'probabilities'`: outputs of a final `Softmax` or `Sigmoid` (`sparseCategoricalCrossentropy`, `bceLoss`);
 * - `'logProbabilities'`: outputs of a final `LogSoftmax` (`nllLoss`);
 * - `'values'`: any numbers (`mseLoss`, `l1Loss`, `huberLoss`).
 */
export type LossInput = 'logits' | 'probabilities' | 'logProbabilities' | 'values';

/** A loss as a provider registers it: the function and what it expects as predictions. */
export interface RegisteredLoss {
  fn: (pred: Tensor, target: Tensor) => Tensor;
  input: LossInput;
}

/** Builds a named optimizer over `params` with the provider's defaults for that name. */
export type OptimizerFactory = (params: Tensor[]) => { step(): unknown; zeroGrad(): void };

/**
 * The table `compile` resolves optimizer and loss names through. @bp/layers
 * does not import @bp/optim or @bp/losses (a model that is only loaded and run
 * needs neither); instead, importing @bp/optim fills `optimizers` and importing
 * @bp/losses fills `losses`, the way importing a backend registers it.
 *
 * The table lives on `globalThis` under `Symbol.for('@bp/training-registry')`,
 * so the providers fill it without depending on @bp/layers, and two copies of a
 * package in one app still share it. Keys are names as users write them
 * (`'adam'`, `'sparse_categorical_crossentropy'`, `'crossEntropy'`).
 */
export interface TrainingRegistry {
  optimizers: Map<string, OptimizerFactory>;
  losses: Map<string, RegisteredLoss>;
}

/** The global key of {@link TrainingRegistry}. */
export const TRAINING_REGISTRY_KEY = Symbol.for('@bp/training-registry');

/** The shared registry, created empty on first use. */
export function trainingRegistry(): TrainingRegistry {
  const g = globalThis as unknown as Record<symbol, TrainingRegistry | undefined>;
  return (g[TRAINING_REGISTRY_KEY] ??= { optimizers: new Map(), losses: new Map() });
}

/** Spelling-insensitive key: `'sparse_categorical_crossentropy'`, `'SparseCategoricalCrossentropy'` and `'sparseCategoricalCrossentropy'` meet. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, '');
}
