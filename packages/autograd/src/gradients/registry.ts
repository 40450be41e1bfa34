import { ArgumentError, BpError, ShapeError, Tensor, fmtShape, type OpAttrs, type OpName } from '@bp/tensor';
import { closest, shapesEqual } from '@bp/tensor/internal';
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
/** Every op @bp/tensor records, those without a gradient (null in the table) too. */
const builtin = new Set<string>();
/** The names defined with `customOp`. */
const defined = new Set<string>();
/** The rules this package installed, so that registering one again restores it as it was. */
const installed = new Map<string, GradientRule>();

/** Installs a table of rules (every op of @bp/tensor's table is installed by this package). @internal */
export function installGradients(table: Partial<Record<string, GradientRule<never> | null>>): void {
  for (const [op, rule] of Object.entries(table)) {
    builtin.add(op);
    if (rule) {
      rules.set(op, rule as unknown as GradientRule);
      installed.set(op, rule as unknown as GradientRule);
    }
  }
}

/** Whether @bp/tensor records an op named `op`. @internal */
export function isBuiltinOp(op: string): boolean {
  return builtin.has(op);
}

/** Makes `op` a name {@link registerGradient} accepts (`customOp` defines it). @internal */
export function defineOpName(op: string): void {
  defined.add(op);
}

/**
 * Replaces the gradient rule of an op: one that @bp/tensor records (`'sigmoid'`, `'slice'`, ...:
 * {@link listGradients} lists those with a rule) or one defined with `customOp`. The rule gets the
 * gradient of the op's output and the recorded op (`{ inputs, output, attrs, saved }`) and returns
 * one gradient per input, each of that input's shape, or null where none flows:
 *
 * ```ts
 * registerGradient('exp', (dy, { output }) => [dy.mul(output)]);
 * ```
 *
 * `attrs` holds the op's settings (`sum`: `{ axes, keepDims }`), `saved` what its forward pass kept;
 * a number operand (`x.pow(2)`) is an input too, a 0-d tensor, whose gradient may be null. A rule
 * holds for the whole process; `registerGradient(op, null)` restores the op's own rule.
 *
 * A name no op has (a typo such as `'sigmod'`) throws an `ArgumentError` naming the closest op;
 * a new differentiable op is made with `customOp`. Every value the rule could read is checked for
 * changes in place before it runs, and what it returns is checked against the inputs' shapes.
 */
export function registerGradient(op: string, rule: GradientRule | null): void {
  if (typeof op !== 'string' || !(builtin.has(op) || defined.has(op))) {
    const near = typeof op === 'string' ? closest(op, [...builtin, ...defined]) : null;
    throw new ArgumentError(
      'registerGradient',
      `no op is named ${JSON.stringify(op)}${near === null ? '' : ` (did you mean '${near}'?)`}: a rule replaces the gradient of an op @bp/tensor records (listGradients() names them) or of one made with customOp`,
    );
  }
  if (rule === null) {
    // The op's own rule back (none, for an op of @bp/tensor that has none).
    if (!builtin.has(op)) {
      throw new ArgumentError(
        'registerGradient',
        `'${op}' was made with customOp and has no other rule to restore: give a rule, or call customOp again`,
      );
    }
    const own = installed.get(op);
    if (own) rules.set(op, own);
    else rules.delete(op);
    custom.delete(op);
    return;
  }
  if (typeof rule !== 'function')
    throw new ArgumentError(
      'registerGradient',
      `the rule for '${op}' must be a function (or null to restore the op's own), got ${typeof rule}`,
    );
  if (installed.get(op) === rule) {
    // The built-in rule given back: restored as installed, with what it reads known again.
    rules.set(op, rule);
    custom.delete(op);
    return;
  }
  rules.set(op, checkedRule(op, rule));
  custom.add(op);
}

/** `rule`, with what it returns checked: one gradient (or null) per input, each of its input's shape. */
function checkedRule(op: string, rule: GradientRule): GradientRule {
  return (dy, ctx) => {
    const gs = rule(dy, ctx);
    const n = ctx.inputs.length;
    if (!Array.isArray(gs) || gs.length !== n) {
      throw new BpError(
        op,
        `the gradient rule must return an array of ${n} gradient(s), one per input (null where none flows), got ${Array.isArray(gs) ? `${gs.length}` : typeof gs}`,
      );
    }
    gs.forEach((g, i) => {
      if (g === null || g === undefined) return;
      if (!(g instanceof Tensor)) throw new BpError(op, `the gradient rule returned ${typeof g} for input ${i}; expected a Tensor or null`);
      const want = ctx.inputs[i].shape;
      if (!shapesEqual(g.shape, want)) {
        throw new ShapeError(op, `the gradient rule returned ${fmtShape(g.shape)} for input ${i}, whose shape is ${fmtShape(want)}`);
      }
    });
    return gs;
  };
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
