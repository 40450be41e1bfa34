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
  const outer = [left, refuse] as const;
  const start = Math.min(left, Math.max(0, budget));
  left = start;
  refuse = onExceed;
  try {
    return fn();
  } finally {
    // What an inner budget spent counts against the enclosing one too.
    [left, refuse] = [outer[0] - (start - left), outer[1]];
  }
}

/** Called by a layer about to create `n` parameter values it sized itself (see {@link withParameterBudget}). */
export function spendParameters(layer: string, n: number): void {
  if (n > left && refuse !== null) throw refuse(layer, n, left);
  left -= n;
}
