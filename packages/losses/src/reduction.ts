import { ArgumentError, type Tensor } from '@bp/tensor';

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
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) {
    throw new ArgumentError(
      loss,
      `options must be an object such as { reduction: 'sum' }, got ${typeof opts === 'string' ? JSON.stringify(opts) : opts === null ? 'null' : typeof opts}`,
    );
  }
  const r = opts?.reduction === undefined ? 'mean' : opts.reduction;
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
