import { ArgumentError, ShapeError, type Tensor, fmtShape } from '@bp/tensor';
import { nameKey } from './registry.js';

/**
 * A quantity tracked during `fit` and `evaluate`. `batchTotal` returns the
 * *sum* over the batch's samples as a one-element tensor; the loop adds these
 * up on the backend and divides by the sample count once per epoch, so no
 * value is read back per batch.
 */
export interface Metric {
  /** The key in logs and history (`accuracy`, `val_accuracy`...). */
  readonly name: string;
  batchTotal(pred: Tensor, target: Tensor): Tensor;
}

/** A custom metric function: the mean over the batch, as a one-element tensor. */
export type MetricFn = (pred: Tensor, target: Tensor) => Tensor;

/**
 * The share of correct predictions in each sample, summed over the batch (a scalar): the number of
 * correct samples when each sample has one prediction.
 * - several output columns: the arg-max class against int32 labels `[n]` or one-hot rows `[n, classes]`
 *   (float32 or int32);
 *   a sequence's outputs `[n, t, classes]` against labels `[n, t]` count each position (as Keras:
 *   the accuracy is the share of correct positions);
 * - one output column (`[n]` or `[n, 1]`): the prediction thresholded at `threshold` (default 0.5;
 *   0 for logits) against 0/1 targets.
 */
export function correctCount(pred: Tensor, target: Tensor, threshold = 0.5): Tensor {
  const n = pred.shape[0];
  const cols = pred.rank >= 2 ? pred.size / n : 1;
  if (cols === 1 && pred.rank <= 2) {
    if (target.size !== n) {
      throw new ShapeError(
        'accuracy',
        `one output column ${fmtShape(pred.shape)} needs one target per sample, got ${fmtShape(target.shape)}`,
      );
    }
    const p = pred.reshape([n]).gt(threshold);
    const t = target.dtype === 'int32' ? target.reshape([n]) : target.reshape([n]).gt(0.5);
    return p.eq(t).sum();
  }
  const predicted = pred.argmax(-1);
  let labels: Tensor;
  if (target.rank === pred.rank && target.shape[target.rank - 1] === pred.shape[pred.rank - 1]) {
    // One-hot (or soft) rows, float32 or int32 alike (Keras reads a [n, classes] target as categorical).
    labels = target.argmax(-1);
  } else if (target.size === predicted.size) {
    labels = target.dtype === 'int32' ? target.reshape(predicted.shape) : target.reshape(predicted.shape).cast('int32');
  } else {
    throw new ShapeError(
      'accuracy',
      `targets ${fmtShape(target.shape)} match neither class ids for predictions ${fmtShape(pred.shape)} nor one-hot rows`,
    );
  }
  return perSample(predicted.eq(labels), n);
}

/**
 * The hits of a batch of `n` samples summed per sample's share: their count when there is one per
 * sample (exact, in int32), else their mean times `n` (several positions a sample, as a sequence's).
 */
function perSample(hits: Tensor, n: number): Tensor {
  return hits.size === n ? hits.sum() : hits.cast('float32').mean().mul(n);
}

/** Fraction of correct predictions (see {@link correctCount} for how outputs are read). */
export const accuracy: Metric = { name: 'accuracy', batchTotal: (pred, target) => correctCount(pred, target) };

/**
 * The accuracies for a model whose loss takes logits (`bceWithLogitsLoss`): one output column is
 * thresholded at 0, where the sigmoid is 0.5, instead of at 0.5. Other metrics are returned as they are.
 */
export function forLogits(m: Metric): Metric {
  if (m === accuracy) return { name: 'accuracy', batchTotal: (pred, target) => correctCount(pred, target, 0) };
  if (m === binaryAccuracy) return binaryAccuracyAt(0);
  return m;
}

function perSampleMean(name: string, f: (d: Tensor) => Tensor): Metric {
  return {
    name,
    batchTotal(pred, target) {
      if (pred.size !== target.size) {
        throw new ShapeError(name, `predictions ${fmtShape(pred.shape)} and targets ${fmtShape(target.shape)} differ in size`);
      }
      const d = pred.sub(target.reshape(pred.shape));
      // Mean over each sample's values, summed over the batch: the batch size times the overall mean.
      return f(d).mean().mul(pred.shape[0]);
    },
  };
}

/** Mean squared error, averaged over samples. */
export const meanSquaredError: Metric = perSampleMean('mse', (d) => d.square());
/** Mean absolute error, averaged over samples. */
export const meanAbsoluteError: Metric = perSampleMean('mae', (d) => d.abs());

/**
 * Keras' `binary_accuracy`: each output thresholded at 0.5 (at 0 with a loss that takes logits)
 * against 0/1 targets of the same size, averaged over each sample's outputs.
 */
export const binaryAccuracy: Metric = binaryAccuracyAt(0.5);

function binaryAccuracyAt(threshold: number): Metric {
  return {
    name: 'binary_accuracy',
    batchTotal(pred, target) {
      if (pred.rank === 0 || pred.size !== target.size) {
        throw new ShapeError('binary_accuracy', `predictions ${fmtShape(pred.shape)} and targets ${fmtShape(target.shape)} differ in size`);
      }
      const t = target.reshape(pred.shape);
      const hits = pred
        .gt(threshold)
        .eq(t.dtype === 'int32' ? t : t.gt(0.5))
        .cast('float32');
      return hits.mean().mul(pred.shape[0]);
    },
  };
}

/** Arg-max class per sample, for the categorical accuracies. */
function predictedClasses(name: string, pred: Tensor): Tensor {
  if (pred.rank < 2) throw new ShapeError(name, `needs one row of class scores per sample, got predictions ${fmtShape(pred.shape)}`);
  return pred.argmax(-1);
}

/** Keras' `categorical_accuracy`: the arg-max class against the arg-max of one-hot (or soft) target rows (a sequence's: the share of correct positions). */
export const categoricalAccuracy: Metric = {
  name: 'categorical_accuracy',
  batchTotal(pred, target) {
    const predicted = predictedClasses('categorical_accuracy', pred);
    if (fmtShape(target.shape) !== fmtShape(pred.shape)) {
      throw new ShapeError(
        'categorical_accuracy',
        `needs one-hot targets shaped like the predictions ${fmtShape(pred.shape)}, got ${fmtShape(target.shape)}; for class ids use 'sparse_categorical_accuracy'`,
      );
    }
    return perSample(predicted.eq(target.argmax(-1)), pred.shape[0]);
  },
};

/**
 * Keras' `sparse_categorical_accuracy`: the arg-max class against class ids (`[n]` or `[n, 1]`, int32
 * or float; a sequence's `[n, t]` against outputs `[n, t, classes]`: the share of correct positions).
 */
export const sparseCategoricalAccuracy: Metric = {
  name: 'sparse_categorical_accuracy',
  batchTotal(pred, target) {
    const predicted = predictedClasses('sparse_categorical_accuracy', pred);
    if (target.size !== predicted.size) {
      throw new ShapeError(
        'sparse_categorical_accuracy',
        `needs one class id per row of scores for predictions ${fmtShape(pred.shape)}, got targets ${fmtShape(target.shape)}; for one-hot rows use 'categorical_accuracy'`,
      );
    }
    const labels = target.reshape(predicted.shape);
    return perSample(predicted.eq(labels.dtype === 'int32' ? labels : labels.cast('int32')), pred.shape[0]);
  },
};

/** The metrics by spelling-insensitive name (case, `_` and `-` ignored). */
const METRICS: ReadonlyMap<string, Metric> = new Map([
  ['accuracy', accuracy],
  ['acc', accuracy],
  ['binaryaccuracy', binaryAccuracy],
  ['categoricalaccuracy', categoricalAccuracy],
  ['sparsecategoricalaccuracy', sparseCategoricalAccuracy],
  ['mse', meanSquaredError],
  ['meansquarederror', meanSquaredError],
  ['mae', meanAbsoluteError],
  ['meanabsoluteerror', meanAbsoluteError],
]);

/**
 * The metric for a Keras name or a function (named after the function) or a
 * {@link Metric} object. Names, in Keras' snake case or tfjs' camel case:
 * `'accuracy'`/`'acc'` (reads the outputs as {@link correctCount} does),
 * `'binary_accuracy'`, `'categorical_accuracy'`, `'sparse_categorical_accuracy'`,
 * `'mse'`/`'mean_squared_error'`, `'mae'`/`'mean_absolute_error'`.
 */
export function getMetric(m: string | MetricFn | Metric): Metric {
  if (typeof m === 'function') {
    const name = m.name || 'metric';
    return { name, batchTotal: (pred, target) => m(pred, target).mul(pred.shape[0]) };
  }
  if (m !== null && typeof m === 'object' && typeof m.batchTotal === 'function' && typeof m.name === 'string') return m;
  const found = typeof m === 'string' ? METRICS.get(nameKey(m)) : undefined;
  if (found) return found;
  throw new ArgumentError(
    'compile',
    `unknown metric ${JSON.stringify(m)}; use 'accuracy' ('acc'), 'binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy', ` +
      "'mse' ('mean_squared_error'), 'mae' ('mean_absolute_error') or a function (pred, target) => Tensor",
  );
}
