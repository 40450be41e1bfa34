import { BpError, type Tensor } from '@bp/tensor';
import type { GradContext } from '../tape.js';

/** Turns the gradient of an op's output into gradients of its inputs (null: none flows). */
export type GradientRule = (dy: Tensor, ctx: GradContext) => (Tensor | null)[];

const rules = new Map<string, GradientRule>();

/** Registers the gradient of the op named `op` (also how a custom op becomes differentiable). */
export function registerGradient(op: string, rule: GradientRule): void {
  rules.set(op, rule);
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
