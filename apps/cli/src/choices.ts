/**
 * The values the command line accepts for its choice flags and arguments.
 * Kept apart from the code that uses them so parsing (and `--help`, and
 * usage errors) loads nothing of the training stack.
 */

/** Dataset names accepted on the command line. */
export const DATASETS = ['xor', 'spirals', 'moons', 'mnist', 'fashion-mnist'] as const;
/** A dataset name. */
export type DatasetName = (typeof DATASETS)[number];

/** Whether `name` is one of {@link DATASETS}. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASETS as readonly string[]).includes(name);
}

/** Optimizers `bp train --optimizer` accepts. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;
/** Losses `bp train --loss` accepts. */
export const LOSSES = ['cross-entropy', 'mse'] as const;
/** Backends `--backend` accepts. */
export const BACKENDS = ['cpu', 'gpu'] as const;
/** Output formats of `bp explain --graph`. */
export const GRAPH_FORMATS = ['mermaid', 'dot'] as const;
/** A graph output format. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
