/**
 * The recorded computation graph of a tensor as plain data for the page.
 * It follows `gradFn` (the op record @bp/autograd leaves on every op's output)
 * (op name, input tensors and attributes), the same links `backward()`
 * walks, so the drawing is the graph that was actually differentiated.
 */
import { gradFn, graphTensors } from '@bp/autograd';
import type { Tensor } from '@bp/tensor';
import { fmtNumber } from './format.js';
import type { GraphData, GraphNode } from './protocol.js';

/** Elements kept per tensor for the step captions' arithmetic. */
const MAX_DATA = 64;

function values(t: Tensor, max = 6): string {
  const flat = Array.from(t.dataSync());
  const shown = flat.slice(0, max).map(fmtNumber).join(', ');
  if (t.rank === 0) return shown;
  return `[${shown}${flat.length > max ? `, … ${flat.length - max} more` : ''}]`;
}

function numbers(t: Tensor): number[] {
  return Array.from(t.dataSync().subarray(0, MAX_DATA), Number);
}

/** Attributes that are plain values (matmul's transposition flags, reduction axes...). */
function plainAttrs(a: Record<string, unknown>): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  for (const [k, v] of Object.entries(a)) if (['boolean', 'number', 'string'].includes(typeof v)) out[k] = v as boolean | number | string;
  return out;
}

const UNARY: Record<string, string> = {
  sigmoid: 'σ',
  tanh: 'tanh',
  relu: 'relu',
  exp: 'exp',
  log: 'log',
  neg: '−',
  mean: 'mean',
  sum: 'sum',
  square: 'sq',
};
const INFIX: Record<string, string> = { add: ' + ', sub: ' − ', mul: ' · ', div: ' / ' };

function wrap(s: string): string {
  return /[ ]/.test(s) && !/^\(.*\)$/.test(s) && !s.startsWith('[') ? `(${s})` : s;
}

/**
 * An op written out with its inputs: `x @ W1ᵀ`, `a2 − y`, `σ(z1)`. The
 * inputs are labels or values, so the same call writes the formula and the
 * arithmetic of a step caption.
 */
export function formula(op: string, ins: readonly string[], attrs: Record<string, unknown> = {}): string {
  if (op === 'matmul') return `${wrap(ins[0])}${attrs.transA ? 'ᵀ' : ''} @ ${wrap(ins[1])}${attrs.transB ? 'ᵀ' : ''}`;
  if (op === 'linear') {
    const lin = `${wrap(ins[0])} @ ${wrap(ins[1])}ᵀ${ins.length > 2 ? ` + ${wrap(ins[2])}` : ''}`;
    return attrs.relu ? `relu(${lin})` : lin;
  }
  if (op in INFIX && ins.length === 2) return `${wrap(ins[0])}${INFIX[op]}${wrap(ins[1])}`;
  if (op === 'pow' && ins.length === 2) return `${wrap(ins[0])}^${wrap(ins[1])}`;
  if (op in UNARY && ins.length === 1) return `${UNARY[op]}(${ins[0]})`;
  return `${op}(${ins.join(', ')})`;
}

/**
 * Marks every intermediate tensor of `root`'s graph to keep its gradient
 * (`retainGrad()`, PyTorch's `retain_grad()`): by default only leaves keep one.
 * Call it before `backward()` to see every gradient in {@link graphData}.
 */
export function retainGrads(root: Tensor): void {
  for (const t of graphTensors(root)) if (!t.isLeaf) t.retainGrad();
}

/**
 * The graph behind `root` with values and (where kept) gradients. Nodes
 * without a name are labelled by their formula (`x @ W1ᵀ`), so two ops of
 * the same kind never share a label.
 */
export function graphData(root: Tensor, title: string): GraphData {
  const tensors = graphTensors(root);
  const labels = new Map<number, string>();
  const nodes: GraphNode[] = tensors.map((t) => {
    const node = gradFn(t);
    const attrs = node ? plainAttrs(node.attrs) : {};
    let label = t.name ?? null;
    if (!label) {
      if (node)
        label = formula(
          node.op,
          node.inputs.map((x) => labels.get(x.id) ?? '?'),
          attrs,
        );
      else label = t.size === 1 && !t.requiresGrad ? fmtNumber(t.dataSync()[0]) : t.requiresGrad ? 'parameter' : 'constant';
    }
    labels.set(t.id, label);
    return {
      id: t.id,
      op: node ? node.op : null,
      name: t.name ?? null,
      label,
      attrs,
      shape: t.shape.slice(),
      value: values(t),
      data: numbers(t),
      grad: t.grad ? values(t.grad) : null,
      gradData: t.grad ? numbers(t.grad) : null,
      inputs: node ? node.inputs.map((x) => x.id) : [],
      requiresGrad: t.requiresGrad,
    };
  });
  return { title, root: root.id, nodes };
}

/**
 * After an optimizer step: the new values of the graph's parameters (the
 * leaves that have a gradient, updated in place by the step) and the loss
 * of a new forward pass, for the last steps of the drawing.
 */
export function graphUpdate(
  root: Tensor,
  lr: number,
  lossAfter: number,
): { lr: number; params: { id: number; after: number[] }[]; lossAfter: number } {
  const params = graphTensors(root)
    .filter((t) => t.isLeaf && t.requiresGrad && t.grad)
    .map((t) => ({ id: t.id, after: numbers(t) }));
  return { lr, params, lossAfter };
}
