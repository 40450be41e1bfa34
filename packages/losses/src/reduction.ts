import { ArgumentError, add, div, eq, where, type Tensor } from '@bp/tensor';

/**
 * How a loss turns per-element (or per-sample) values into its result:
 * `'mean'` (the default) averages them, `'sum'` adds them up and `'none'`
 * returns them unreduced.
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options every loss accepts. */
export interface LossOptions {
  /** How to reduce the per-element losses; `'mean'` by default. */
  reduction?: Reduction;
}

/**
 * The signature shared by every loss: `(input, target, opts?) => loss`. This
 * is what `compile({ loss })` accepts when given a function.
 */
export type LossFn = (input: Tensor, target: Tensor, opts?: LossOptions) => Tensor;

/** Validates `opts.reduction` early, so a typo fails before any work is done. */
export function readReduction(loss: string, opts: LossOptions | undefined): Reduction {
  const r = opts?.reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new ArgumentError(loss, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  }
  return r;
}

/** Applies a reduction to the unreduced losses. */
export function reduce(values: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return values;
  return reduction === 'sum' ? values.sum() : values.mean();
}

/**
 * `sum / count` for a mean over the positions (or weights) a loss kept, as PyTorch's: NaN when
 * `count` is 0 (every label ignored), but with a gradient of 0 then, not NaN (PyTorch's NLL
 * backward skips ignored rows), so one batch of nothing but padding leaves the parameters as they
 * are. `count` is a host number or a one-value tensor on the backend.
 */
export function meanOverKept(sum: Tensor, count: number | Tensor): Tensor {
  if (typeof count === 'number') return count === 0 ? add(sum.mul(0), Number.NaN) : div(sum, count);
  const none = eq(count, 0);
  return add(div(sum, where(none, 1, count)), where(none, Number.NaN, 0));
}
