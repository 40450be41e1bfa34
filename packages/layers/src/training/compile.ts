import { getLoss, type LossFn } from '@bp/losses';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '@bp/optim';
import { ArgumentError, type Tensor } from '@bp/tensor';
import { type Metric, type MetricFn, getMetric } from './metrics.js';

/** What `compile` needs of an optimizer: any @bp/optim optimizer fits. */
export interface OptimizerLike {
  step(): unknown;
  zeroGrad(): void;
}

/** Optimizers `compile` can create by name, with Keras' default learning rates. */
export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

/** A loss function `(pred, target) => scalar`. */
export type Loss = (pred: Tensor, target: Tensor) => Tensor;

/** Arguments of `Sequential.compile` (Keras' `compile`). */
export interface CompileArgs {
  /** An optimizer (`new Adam(model.parameters(), { lr: 1e-3 })`) or a name: `'sgd'`, `'adam'`, `'adamw'`, `'rmsprop'`, `'adagrad'`. */
  optimizer: OptimizerLike | OptimizerName;
  /**
   * A loss function `(pred, target) => Tensor` or the name of a @bp/losses
   * function: `'sparseCategoricalCrossentropy'`, `'categoricalCrossentropy'`,
   * `'crossEntropy'`, `'mse'`, `'binaryCrossentropy'`, ... (Keras' snake-case
   * names work too).
   */
  loss: Loss | string;
  /** Quantities to track besides the loss: `'accuracy'`, `'mse'`, `'mae'`, or functions. */
  metrics?: (string | MetricFn | Metric)[];
}

/** Keras' default learning rates for optimizers given by name. */
export const DEFAULT_LEARNING_RATES: Readonly<Record<OptimizerName, number>> = Object.freeze({
  sgd: 0.01,
  adam: 0.001,
  adamw: 0.001,
  rmsprop: 0.001,
  adagrad: 0.001,
});

/** Creates the optimizer named `name` over `params` with its default learning rate. */
export function optimizerByName(name: string, params: Tensor[]): OptimizerLike {
  const key = name.toLowerCase();
  switch (key) {
    case 'sgd':
      return new SGD(params, { lr: DEFAULT_LEARNING_RATES.sgd });
    case 'adam':
      return new Adam(params, { lr: DEFAULT_LEARNING_RATES.adam });
    case 'adamw':
      return new AdamW(params, { lr: DEFAULT_LEARNING_RATES.adamw });
    case 'rmsprop':
      return new RMSprop(params, { lr: DEFAULT_LEARNING_RATES.rmsprop });
    case 'adagrad':
      return new Adagrad(params, { lr: DEFAULT_LEARNING_RATES.adagrad });
    default:
      throw new ArgumentError('compile', `unknown optimizer '${name}'; use sgd, adam, adamw, rmsprop or adagrad, or pass an optimizer object`);
  }
}

/** The camel-case Keras spellings, on top of the names @bp/losses knows. */
const LOSS_ALIASES: Readonly<Record<string, string>> = {
  crossEntropy: 'crossEntropyLoss',
  binaryCrossentropy: 'bceLoss',
  binaryCrossEntropy: 'bceLoss',
  bceWithLogits: 'bceWithLogitsLoss',
  meanSquaredError: 'mseLoss',
  meanAbsoluteError: 'l1Loss',
  nll: 'nllLoss',
  huber: 'huberLoss',
};

/** The loss function for a name or function given to `compile`. */
export function resolveLoss(loss: Loss | string): Loss {
  if (typeof loss === 'function') return loss;
  if (typeof loss !== 'string') throw new ArgumentError('compile', `loss must be a function or a loss name, got ${typeof loss}`);
  const fn: LossFn = getLoss(Object.hasOwn(LOSS_ALIASES, loss) ? LOSS_ALIASES[loss] : loss);
  return (pred, target) => fn(pred, target);
}

/** The compiled training setup a `Sequential` keeps. @internal */
export interface Compiled {
  /** The optimizer, or null until `fit` creates a named one over the built model's parameters. */
  optimizer: OptimizerLike | null;
  optimizerName: OptimizerName | null;
  loss: Loss;
  lossName: string | null;
  metrics: Metric[];
  metricNames: (string | null)[];
}

/** Validates `compile`'s arguments. @internal */
export function resolveCompile(args: CompileArgs): Compiled {
  if (args === null || typeof args !== 'object') throw new ArgumentError('compile', 'expected { optimizer, loss, metrics? }');
  const { optimizer, loss, metrics = [] } = args;
  let optimizerName: OptimizerName | null = null;
  let opt: OptimizerLike | null = null;
  if (typeof optimizer === 'string') {
    const key = optimizer.toLowerCase();
    if (!(key in DEFAULT_LEARNING_RATES)) {
      throw new ArgumentError('compile', `unknown optimizer '${optimizer}'; use sgd, adam, adamw, rmsprop or adagrad, or pass an optimizer object`);
    }
    optimizerName = key as OptimizerName;
  } else if (optimizer && typeof optimizer.step === 'function' && typeof optimizer.zeroGrad === 'function') {
    opt = optimizer;
  } else {
    throw new ArgumentError('compile', 'optimizer must be an optimizer object (with step() and zeroGrad()) or a name such as \'adam\'');
  }
  if (!Array.isArray(metrics)) throw new ArgumentError('compile', 'metrics must be an array, e.g. [\'accuracy\']');
  return {
    optimizer: opt,
    optimizerName,
    loss: resolveLoss(loss),
    lossName: typeof loss === 'string' ? loss : null,
    metrics: metrics.map(getMetric),
    metricNames: metrics.map((m) => (typeof m === 'string' ? m : null)),
  };
}
