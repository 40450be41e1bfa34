import { ArgumentError, fmtShape } from '@bp/tensor';

/**
 * A bound on the parameter values that layers sized by their first input (a `Linear` with
 * `inFeatures: null`, a `Dense` without `inputShape`) may create while a loader builds a model
 * from a description: such a layer's size is not in the description, so the loader's check of
 * the declared sizes cannot see it, and a file of a hundred bytes could otherwise have it
 * allocate gigabytes. Outside {@link withParameterBudget} there is no bound.
 */
let left = Infinity;
let refuse: ((layer: string, need: number, left: number) => Error) | null = null;

/**
 * Runs `fn` (building a model from a description) with at most `budget` parameter values
 * created by layers that size themselves at their first input; a layer that would go past it
 * throws `onExceed(layer, need, left)` before allocating anything. `fromMemory` and `load`
 * build within what the weights hold; pair it with {@link checkArchitectureSize} for the rest.
 *
 * @example
 * const declared = checkArchitectureSize(json, 1e8, 'model.json');
 * const model = withParameterBudget(1e8 - declared, (layer, need) => new Error(`${layer}: ${need} values`), () =>
 *   layerFromConfig(json),
 * );
 */
export function withParameterBudget<T>(budget: number, onExceed: (layer: string, need: number, left: number) => Error, fn: () => T): T {
  const outer = [left, refuse, outputsLeft] as const;
  const start = Math.min(left, Math.max(0, budget));
  const outputsStart = Math.min(outputsLeft, MAX_BUILD_OUTPUT_VALUES);
  left = start;
  refuse = onExceed;
  outputsLeft = outputsStart;
  try {
    return fn();
  } finally {
    // What an inner budget spent counts against the enclosing one too.
    [left, refuse, outputsLeft] = [outer[0] - (start - left), outer[1], outer[2] - (outputsStart - outputsLeft)];
  }
}

/**
 * The most values per sample that the outputs of window layers (convolutions, poolings) may add up
 * to while a model builds within {@link withParameterBudget} (256 MB of float32): building passes
 * one sample through the model, and a few bytes of settings (a padding of 1024 six layers in a
 * row, an adaptive pooling to 20000x20000) would otherwise make it compute gigabytes.
 */
export const MAX_BUILD_OUTPUT_VALUES = 2 ** 26;
let outputsLeft = Infinity;

/**
 * Called by a window layer before it computes its output: within {@link withParameterBudget},
 * `shape()` (the output's shape per sample, no batch axis) is asked for and counted, throwing when
 * the build pass's outputs would pass {@link MAX_BUILD_OUTPUT_VALUES}; elsewhere nothing is computed.
 */
export function spendOutput(layer: string, shape: () => readonly number[]): void {
  if (outputsLeft === Infinity) return;
  const dims = shape();
  const n = dims.reduce((p, d) => p * Math.max(0, d), 1);
  if (!(n <= outputsLeft)) {
    throw new ArgumentError(
      layer,
      `an output of ${fmtShape(dims)} per sample (${n} values) takes building past the ${MAX_BUILD_OUTPUT_VALUES} values a loaded model may compute`,
    );
  }
  outputsLeft -= n;
}

/** Called by a layer about to create `n` parameter values it sized itself (see {@link withParameterBudget}). */
export function spendParameters(layer: string, n: number): void {
  if (n > left && refuse !== null) throw refuse(layer, n, left);
  left -= n;
}
