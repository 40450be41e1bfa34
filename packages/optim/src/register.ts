/**
 * Importing @bp/optim makes its optimizers available by name to `compile` in
 * @bp/layers, which does not depend on this package: each name of
 * {@link OPTIMIZER_DEFAULTS} goes into the shared table on `globalThis` under
 * `Symbol.for('@bp/training-registry')`, as a factory that builds the
 * optimizer with those (Keras') defaults (see @bp/layers' `TrainingRegistry`).
 */
import type { Tensor } from '@bp/tensor';
import { OPTIMIZER_DEFAULTS, getOptimizer } from './registry.js';

interface Registry {
  optimizers: Map<string, (params: Tensor[]) => unknown>;
  losses: Map<string, unknown>;
}

const g = globalThis as unknown as Record<symbol, Registry | undefined>;
const table = (g[Symbol.for('@bp/training-registry')] ??= { optimizers: new Map(), losses: new Map() });
for (const name of Object.keys(OPTIMIZER_DEFAULTS)) table.optimizers.set(name, (params: Tensor[]) => getOptimizer(name, params));
