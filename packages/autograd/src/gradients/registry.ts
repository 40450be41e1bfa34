import { BpError, type OpAttrs, type OpName, type Tensor } from '@bp/tensor';
import type { GradContext } from '../tape.js';

/** Turns the gradient of an op's output into gradients of its inputs (null: none flows). */
export type GradientRule<K extends string = string> = (
  dy: Tensor,
  ctx: GradContext<K extends OpName ? OpAttrs[K] : Record<string, unknown>>,
) => (Tensor | null)[];

/**
 * Gradient rules for a set of recorded ops, one per op. `null` marks an op whose
 * output is never differentiated (an integer result: comparisons). A module of
 * rules is typed `GradientRules<keyof XAttrs>`, so an op without its rule is a
 * type error, not a run-time surprise.
 */
export type GradientRules<K extends OpName> = { [P in K]: GradientRule<P> | null };

const rules = new Map<string, GradientRule>();
/** Ops whose rule was registered through {@link registerGradient}: nothing is assumed about what it reads. */
const custom = new Set<string>();

/** Installs a table of rules (every op of @bp/tensor's table is installed by this package). @internal */
export function installGradients(table: Partial<Record<string, GradientRule<never> | null>>): void {
  for (const [op, rule] of Object.entries(table)) {
    if (rule) rules.set(op, rule as unknown as GradientRule);
  }
}

/**
 * Registers the gradient of a custom op named `op` (ops recorded by @bp/tensor
 * have theirs already; registering one of those names replaces its rule).
 */
export function registerGradient(op: string, rule: GradientRule): void {
  rules.set(op, rule);
  custom.add(op);
}

/** Whether `op`'s rule was registered by {@link registerGradient} (and may read any recorded value). @internal */
export function isCustomGradient(op: string): boolean {
  return custom.has(op);
}

/** The rule for `op`, or an error naming it. */
export function gradientRule(op: string): GradientRule {
  const r = rules.get(op);
  if (!r) throw new BpError('backward', `no gradient is registered for op '${op}'`);
  return r;
}

/** Names of the ops that have a gradient rule. */
export function listGradients(): string[] {
  return [...rules.keys()].sort();
}
