import type { Tensor } from '@bp/tensor';
import type { Node } from './tape.js';

/**
 * Every tensor in the recorded graph of `root`, each after the inputs it was
 * computed from and `root` last: the graph `backward()` walks, for drawing or
 * inspecting it. Leaves (parameters, inputs, constants) come first; tensors
 * created under `noGrad` or from tensors without `requiresGrad` have no record
 * and appear as leaves.
 *
 * @example
 * const w = tensor([0.5], { requiresGrad: true });
 * const y = w.mul(3).sigmoid();
 * graphTensors(y).length; // 4: w, the constant 3, w * 3, y
 */
export function graphTensors(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const visit = (t: Tensor): void => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    const node = t._node as Node | null;
    if (node) for (const input of node.inputs) visit(input);
    order.push(t);
  };
  visit(root);
  return order;
}

/**
 * The recorded op that produced `t` (PyTorch's `grad_fn`): its name, inputs, output,
 * attributes and saved tensors, or null for a leaf and for a tensor computed without
 * recording (inside `noGrad`, or from inputs that need no gradient).
 *
 * @example
 * const w = tensor([0.5], { requiresGrad: true });
 * gradFn(w.mul(3))?.op; // 'mul'
 * gradFn(w); // null
 */
export function gradFn(t: Tensor): Node | null {
  return (t._node as Node | null) ?? null;
}
