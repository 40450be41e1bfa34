/**
 * The values the command line accepts for its choice flags and arguments.
 * Kept apart from the code that uses them so parsing (and `--help`, and
 * usage errors) loads nothing of the training stack.
 */
import { InvalidArgumentError } from 'commander';

/** Dataset names accepted on the command line. */
export const DATASETS = ['xor', 'spirals', 'moons', 'mnist', 'fashion-mnist', 'names'] as const;
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

/** Edit distance between `a` and `b` (insertions, deletions, substitutions and swaps of neighbours). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The choice closest to `value` when it is a likely typo of it (at most a third of its letters off), else null. */
export function closestChoice(value: string, choices: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of choices) {
    const dist = distance(value.toLowerCase(), c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

/**
 * A commander value parser that accepts only `choices` and answers a near
 * miss with "Did you mean ...?" (set after `.choices(...)`, which keeps
 * listing them in `--help`).
 */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    const near = closestChoice(value, choices);
    throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.${near ? ` Did you mean ${near}?` : ''}`);
  };
}
