import { ArgumentError, NotAvailableError, type Tensor } from '@bp/tensor';
import { checkOptions, closest } from '@bp/tensor/internal';
import { type Metric, type MetricFn, forLogits, getMetric } from './metrics.js';
import { type LossInput, type RegisteredLoss, nameKey, trainingRegistry } from './registry.js';

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
  /**
   * An optimizer (`new Adam(model.parameters(), { lr: 1e-3 })`) or a name:
   * `'sgd'`, `'adam'`, `'adamw'`, `'rmsprop'`, `'adagrad'`, built with Keras'
   * defaults for that name. Names need `import '@bp/optim'` somewhere in the app.
   * Leave it out to `evaluate` alone (`fit` then asks for one).
   */
  optimizer?: OptimizerLike | OptimizerName;
  /**
   * A loss function `(pred, target) => Tensor` or the name of a @bp/losses
   * function: `'sparseCategoricalCrossentropy'`, `'categoricalCrossentropy'`,
   * `'crossEntropy'`, `'mse'`, `'binaryCrossentropy'`, ... in any of Keras'
   * spellings (`'sparse_categorical_crossentropy'`, `'SparseCategoricalCrossentropy'`).
   * Names need `import '@bp/losses'` somewhere in the app.
   */
  loss: Loss | string;
  /**
   * Quantities to track besides the loss: `'accuracy'` (`'acc'`),
   * `'sparse_categorical_accuracy'`, `'categorical_accuracy'`, `'binary_accuracy'`,
   * `'mse'`, `'mae'` (or their long Keras names), or functions.
   */
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

/**
 * Creates the optimizer named `name` over `params` with Keras' defaults for
 * that name (see @bp/optim's `OPTIMIZER_DEFAULTS`). The name resolves through
 * what @bp/optim registers when imported: without `import '@bp/optim'`
 * anywhere in the app, this throws a `NotAvailableError` saying so.
 */
export function optimizerByName(name: string, params: Tensor[]): OptimizerLike {
  const table = trainingRegistry().optimizers;
  const make = table.get(String(name).toLowerCase());
  if (make) return make(params);
  if (table.size === 0) {
    throw new NotAvailableError(
      'compile',
      `the optimizer '${name}' is created by @bp/optim, which is not loaded: add \`import '@bp/optim'\` (npm i @bp/optim), or pass an optimizer object`,
    );
  }
  const near = closest(name, [...table.keys()]);
  throw new ArgumentError(
    'compile',
    `unknown optimizer '${name}'${near === null ? '' : ` (did you mean '${near}'?)`}; use ${[...table.keys()].join(', ')}, or pass an optimizer object`,
  );
}

/** The registered loss for a name, spelling-insensitively (`'sparse_categorical_crossentropy'`, `'sparseCategoricalCrossentropy'`). */
function lossByName(name: string): RegisteredLoss {
  const table = trainingRegistry().losses;
  const exact = table.get(name);
  if (exact) return exact;
  const key = nameKey(name);
  for (const [n, entry] of table) if (nameKey(n) === key) return entry;
  if (table.size === 0) {
    throw new NotAvailableError(
      'compile',
      `the loss '${name}' is provided by @bp/losses, which is not loaded: add \`import '@bp/losses'\` (npm i @bp/losses), or pass a loss function`,
    );
  }
  const near = closest(name, [...table.keys()]);
  throw new ArgumentError(
    'compile',
    `unknown loss ${JSON.stringify(name)}${near === null ? '' : ` (did you mean '${near}'?)`}; valid names: ${[...table.keys()].join(', ')}`,
  );
}

/** The loss function for a name or function given to `compile`. */
export function resolveLoss(loss: Loss | string): Loss {
  return resolveLossEntry(loss).fn;
}

/** The loss and what it expects as predictions (`'values'` for an unregistered function). */
function resolveLossEntry(loss: Loss | string): RegisteredLoss {
  if (typeof loss === 'function') {
    for (const entry of trainingRegistry().losses.values()) if (entry.fn === loss) return entry;
    return { fn: loss, input: 'values' };
  }
  if (typeof loss !== 'string') throw new ArgumentError('compile', `loss must be a function or a loss name, got ${typeof loss}`);
  const { fn, input } = lossByName(loss);
  return { fn: (pred, target) => fn(pred, target), input };
}

/** The compiled training setup a `Sequential` keeps. @internal */
export interface Compiled {
  /** The optimizer, or null until `fit` creates a named one over the built model's parameters. */
  optimizer: OptimizerLike | null;
  optimizerName: OptimizerName | null;
  loss: Loss;
  lossName: string | null;
  /** How messages name the loss: its name, or the function's name. */
  lossLabel: string;
  /** What the loss expects as predictions (`'values'` for a function @bp/losses does not provide). */
  lossInput: LossInput;
  /** Whether the warning about a final Softmax before a from-logits loss was given for this compile. */
  warnedOutput: boolean;
  metrics: Metric[];
  metricNames: (string | null)[];
}

/** Validates `compile`'s arguments. @internal */
export function resolveCompile(args: CompileArgs): Compiled {
  if (args === null || typeof args !== 'object') throw new ArgumentError('compile', 'expected { optimizer, loss, metrics? }');
  // Keras' other compile arguments (loss_weights, run_eagerly...) and misspellings would otherwise be ignored without a word.
  checkOptions('compile', args, ['optimizer', 'loss', 'metrics']);
  const { optimizer, loss, metrics = [] } = args;
  let optimizerName: OptimizerName | null = null;
  let opt: OptimizerLike | null = null;
  if (optimizer === undefined) {
    // Evaluation alone: fit refuses to start without an optimizer.
  } else if (typeof optimizer === 'string') {
    const key = optimizer.toLowerCase();
    const table = trainingRegistry().optimizers;
    // Checked now, so a misspelt name or a missing `import '@bp/optim'` fails at compile, not at fit.
    if (!table.has(key)) optimizerByName(optimizer, []);
    optimizerName = key as OptimizerName;
  } else if (optimizer && typeof optimizer.step === 'function' && typeof optimizer.zeroGrad === 'function') {
    opt = optimizer;
  } else {
    throw new ArgumentError('compile', "optimizer must be an optimizer object (with step() and zeroGrad()) or a name such as 'adam'");
  }
  if (!Array.isArray(metrics)) throw new ArgumentError('compile', "metrics must be an array, e.g. ['accuracy']");
  const lossEntry = resolveLossEntry(loss);
  return {
    optimizer: opt,
    optimizerName,
    loss: lossEntry.fn,
    lossName: typeof loss === 'string' ? loss : null,
    lossLabel: typeof loss === 'string' ? `'${loss}'` : loss.name || 'function',
    lossInput: lossEntry.input,
    warnedOutput: false,
    // A loss that takes logits: accuracies threshold one output column at 0 (a probability of 0.5).
    metrics: metrics.map((m) => (lossEntry.input === 'logits' ? forLogits(getMetric(m)) : getMetric(m))),
    metricNames: metrics.map((m) => (typeof m === 'string' ? m : null)),
  };
}
