/**
 * The recorded computation graph of a tensor as plain data for the page.
 * It follows the `_node` links that @bp/autograd leaves on every op's output
 * (op name and input tensors), the same links `backward()` walks, so the
 * drawing is the graph that was actually differentiated.
 */
import { graphTensors, type Node } from '@bp/autograd';
import type { Tensor } from '@bp/tensor';
import { fmtNumber } from './format.js';
import type { GraphData } from './protocol.js';

function values(t: Tensor, max = 6): string {
  const flat = Array.from(t.dataSync());
  const shown = flat.slice(0, max).map(fmtNumber).join(', ');
  if (t.rank === 0) return shown;
  return `[${shown}${flat.length > max ? `, … ${flat.length - max} more` : ''}]`;
}

/**
 * Marks every intermediate tensor of `root`'s graph to keep its gradient
 * (`retainGrad()`, PyTorch's `retain_grad()`): by default only leaves keep one.
 * Call it before `backward()` to see every gradient in {@link graphData}.
 */
export function retainGrads(root: Tensor): void {
  for (const t of graphTensors(root)) if (!t.isLeaf) t.retainGrad();
}

/** The graph behind `root` with values and (where kept) gradients. */
export function graphData(root: Tensor, title: string): GraphData {
  const tensors = graphTensors(root);
  return {
    title,
    root: root.id,
    nodes: tensors.map((t) => {
      const node = t._node as Node | null;
      return {
        id: t.id,
        op: node ? node.op : null,
        name: t.name ?? null,
        shape: t.shape.slice(),
        value: values(t),
        grad: t.grad ? values(t.grad) : null,
        inputs: node ? node.inputs.map((x) => x.id) : [],
        requiresGrad: t.requiresGrad,
      };
    }),
  };
}
