/**
 * Importing @bp/losses makes its losses available by name to `compile` in
 * @bp/layers, which does not depend on this package: each name of
 * {@link LOSSES} goes into the shared table on `globalThis` under
 * `Symbol.for('@bp/training-registry')`, with what the loss expects as
 * predictions (see @bp/layers' `TrainingRegistry`).
 */
import { LOSSES, LOSS_INPUTS } from './registry.js';
import type { LossFn } from './reduction.js';

interface Registry {
  optimizers: Map<string, unknown>;
  losses: Map<string, { fn: LossFn; input: string }>;
}

const g = globalThis as unknown as Record<symbol, Registry | undefined>;
const table = (g[Symbol.for('@bp/training-registry')] ??= { optimizers: new Map(), losses: new Map() });
for (const [name, fn] of Object.entries(LOSSES)) table.losses.set(name, { fn, input: LOSS_INPUTS.get(fn) ?? 'values' });
