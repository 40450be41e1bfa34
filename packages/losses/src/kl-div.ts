import { ArgumentError, type Tensor, eq, exp, where } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { checkBroadcastsTo } from './class-targets.js';
import { floatTensor, sameShape } from './validate.js';

/** Options of {@link klDivLoss} (PyTorch's keyword arguments). */
export interface KlDivOptions {
  /**
   * `'mean'` (over every element, PyTorch's default), `'batchmean'` (the sum
   * divided by the batch size: the true KL divergence per sample), `'sum'` or `'none'`.
   */
  reduction?: 'mean' | 'batchmean' | 'sum' | 'none';
  /** The target is given as log-probabilities (default false). */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence (PyTorch's `KLDivLoss`) with the input as
 * log-probabilities: pointwise `t (log t - input)`, with `0 log 0 = 0` and NaN
 * for a negative target (as PyTorch), or `exp(t) (t - input)` with
 * `logTarget`. Use `reduction: 'batchmean'` for the mathematical KL divergence
 * per sample.
 *
 * @example
 * klDivLoss(student.logSoftmax(-1), teacher.softmax(-1), { reduction: 'batchmean' });
 */
export function klDivLoss(input: Tensor, target: Tensor, opts?: KlDivOptions): Tensor {
  return composite([input, target], () => {
    const op = 'klDivLoss';
    const reduction = opts?.reduction ?? 'mean';
    if (!['mean', 'batchmean', 'sum', 'none'].includes(reduction)) {
      throw new ArgumentError(op, `reduction must be 'mean', 'batchmean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
    }
    const logTarget = opts?.logTarget ?? false;
    if (typeof logTarget !== 'boolean') throw new ArgumentError(op, `logTarget must be true or false, got ${JSON.stringify(logTarget)}`);
    const x = floatTensor(op, 'input', input);
    const t = floatTensor(op, 'target', target);
    if (t.rank === x.rank) sameShape(op, x, t);
    else checkBroadcastsTo(op, 'target', t, x.shape);
    let pointwise: Tensor;
    if (logTarget) {
      pointwise = exp(t).mul(t.sub(x));
    } else {
      // xlogy(t, t) - t x, as PyTorch: 0 where t is 0 (the log of 1 there keeps the untaken branch
      // finite), NaN where t is negative or NaN.
      const zero = eq(t, 0);
      pointwise = where(zero, 0, t.mul(where(zero, 1, t).log())).sub(t.mul(x));
    }
    if (reduction === 'none') return pointwise;
    if (reduction === 'sum') return pointwise.sum();
    if (reduction === 'batchmean') return pointwise.sum().div(x.rank === 0 ? 1 : x.shape[0]);
    return pointwise.mean();
  });
}
