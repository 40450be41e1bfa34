/**
 * The tape and the reverse loop. Every recorded op leaves a node on its
 * output naming the op, its inputs and the attributes its gradient rule needs;
 * `backward` sorts the graph topologically and walks it once in reverse,
 * applying the chain rule: each node turns the gradient of its output into
 * gradients of its inputs, which add up where a tensor is used twice.
 */
import {
  ArgumentError, BpError, ShapeError, Tensor, fmtShape, onesLike, setGradEnabled, setOpObserver, add, type AutogradHooks,
  type OpAttrs, type OpName,
} from '@bp/tensor';
import { gradientRule } from './gradients/registry.js';

/** What a gradient rule sees of the op it differentiates. */
export interface GradContext<A = Record<string, unknown>> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  /** The op's attributes, typed per op (`{ axes, keepDims }` for `sum`). */
  readonly attrs: A;
  /** Tensors the op saved for its backward besides inputs and output (maxPool2d's argmax). */
  readonly saved: readonly Tensor[];
}

/** The record of one op on the tape, attached to its output (see `gradFn`). */
export interface Node<K extends OpName = OpName> extends GradContext<OpAttrs[K]> {
  readonly op: K;
}

/** Called with every gradient computed during backward (used by `detectAnomaly`). */
type GradObserver = (op: string, grads: readonly (Tensor | null)[], node: Node) => void;
let gradObserver: GradObserver | null = null;

/** @internal */
export function setGradObserver(fn: GradObserver | null): GradObserver | null {
  const prev = gradObserver;
  gradObserver = fn;
  return prev;
}

function recordOp<K extends OpName>(op: K, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs[K], saved: readonly Tensor[]): void {
  if (output.dtype !== 'float32') return; // integer results (comparisons, argmax) carry no gradient
  const node: Node<K> = { op, inputs: inputs.slice(), output, attrs, saved };
  output._node = node;
  output.requiresGrad = true;
}

/** Tensors reachable from `root` through recorded nodes, inputs before outputs. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const node = t._node as Node | null;
    if (node && i < node.inputs.length) {
      top[1]++;
      const inp = node.inputs[i];
      if (inp.requiresGrad && !seen.has(inp.id)) {
        seen.add(inp.id);
        stack.push([inp, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

function runBackward(root: Tensor, seed?: Tensor): void {
  if (!(root instanceof Tensor)) throw new ArgumentError('backward', 'called on something that is not a Tensor');
  if (!root.requiresGrad) {
    throw new BpError(
      'backward',
      `this tensor ${fmtShape(root.shape)} does not require grad: no input of the computation had requiresGrad: true (or it ran inside noGrad)`,
    );
  }
  let g0: Tensor;
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new ShapeError(
        'backward',
        `a gradient can be created implicitly only for one-element outputs, got ${fmtShape(root.shape)}; pass backward(grad) or reduce first (e.g. loss.mean())`,
      );
    }
    g0 = onesLike(root);
  } else {
    if (!(seed instanceof Tensor) || seed.size !== root.size) {
      throw new ShapeError(
        'backward',
        `grad ${seed instanceof Tensor ? fmtShape(seed.shape) : typeof seed} does not match the output ${fmtShape(root.shape)}`,
      );
    }
    g0 = seed.shape.length === root.shape.length ? seed : seed.reshape(root.shape);
  }
  const prev = setGradEnabled(false);
  try {
    const order = topoOrder(root);
    const grads = new Map<number, Tensor>([[root.id, g0]]);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t.id);
      if (!g) continue;
      grads.delete(t.id);
      const node = t._node as Node | null;
      if (!node || t._retainGrad) {
        // A leaf (or a non-leaf asked to keep its gradient): accumulate into .grad.
        t.grad = t.grad ? add(t.grad, g) : g.detach();
        if (!node) continue;
      }
      const rule = gradientRule(node.op);
      // While anomalies are watched, the ops inside a rule stay unobserved: a bad gradient is
      // reported against the op being differentiated, not against the div or mul computing it.
      const prevObserver = gradObserver ? setOpObserver(null) : null;
      let inGrads: (Tensor | null)[];
      try {
        inGrads = rule(g, node as GradContext);
      } finally {
        if (gradObserver) setOpObserver(prevObserver);
      }
      if (gradObserver) gradObserver(node.op, inGrads, node);
      for (let j = 0; j < node.inputs.length; j++) {
        const inp = node.inputs[j];
        const ig = inGrads[j];
        if (!ig || !inp.requiresGrad) continue;
        const have = grads.get(inp.id);
        grads.set(inp.id, have ? add(have, ig) : ig);
      }
    }
  } finally {
    setGradEnabled(prev);
  }
}

/** The hooks @bp/tensor calls once this package is imported. */
export const hooks: AutogradHooks = { record: recordOp, backward: runBackward };
