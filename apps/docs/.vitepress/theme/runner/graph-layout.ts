/**
 * Lays out a computation graph top to bottom for drawing: an op sits one row
 * below its latest input, a leaf one row above its first use, and nodes share
 * a row left to right in the order they were recorded. Top to bottom keeps a
 * deep graph inside the page's text column.
 */
import type { GraphData, GraphNode } from './protocol.js';

export const BOX_W = 200;
export const BOX_H = 70;
const GAP_X = 16;
const GAP_Y = 30;

/** A node with its box position. */
export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  col: number;
}

/** Positions for every node and the size of the whole drawing. */
export function layoutGraph(g: GraphData): { nodes: PlacedNode[]; width: number; height: number } {
  const col = new Map<number, number>();
  for (const n of g.nodes) col.set(n.id, n.op === null ? 0 : 1 + Math.max(0, ...n.inputs.map((i) => col.get(i) ?? 0)));
  // Pull each leaf next to its first consumer so parameters sit beside the op that uses them.
  for (const n of g.nodes) {
    if (n.op !== null) continue;
    const users = g.nodes.filter((u) => u.inputs.includes(n.id)).map((u) => col.get(u.id)!);
    if (users.length) col.set(n.id, Math.max(0, Math.min(...users) - 1));
  }
  // `col` is the depth (a row of the drawing); nodes of one depth sit side by side.
  const perDepth = new Map<number, number>();
  const placed = g.nodes.map((n) => {
    const d = col.get(n.id)!;
    const i = perDepth.get(d) ?? 0;
    perDepth.set(d, i + 1);
    return { ...n, col: d, x: 8 + i * (BOX_W + GAP_X), y: 8 + d * (BOX_H + GAP_Y) };
  });
  const depths = Math.max(...placed.map((p) => p.col)) + 1;
  const widest = Math.max(...perDepth.values());
  return { nodes: placed, width: 16 + widest * BOX_W + (widest - 1) * GAP_X, height: 16 + depths * BOX_H + (depths - 1) * GAP_Y };
}

/** The label of a node: its name, else its op, else what kind of leaf it is. */
export function nodeLabel(n: GraphNode): string {
  return n.name ?? (n.op ? n.op : n.requiresGrad ? 'parameter' : 'constant');
}

/** The steps of a walk through the graph: every op forward, then every gradient-carrying node backward. */
export function graphSteps(g: GraphData): { phase: 'forward' | 'backward'; id: number }[] {
  const fwd = g.nodes.filter((n) => n.op !== null).map((n) => ({ phase: 'forward' as const, id: n.id }));
  const bwd = g.nodes
    .slice()
    .reverse()
    .filter((n) => n.grad !== null)
    .map((n) => ({ phase: 'backward' as const, id: n.id }));
  return [...fwd, ...bwd];
}

/** How each op passes the gradient of its output to an input, for the step captions. */
export const LOCAL_RULES: Record<string, string> = {
  add: 'd(a+b)/da = 1: the gradient passes through unchanged (summed over broadcast axes)',
  sub: 'd(a-b)/da = 1, d(a-b)/db = -1',
  mul: 'd(a·b)/da = b',
  div: 'd(a/b)/da = 1/b, d(a/b)/db = -a/b²',
  matmul: 'd(A@B)/dA = G @ Bᵀ, d(A@B)/dB = Aᵀ @ G',
  matmulT: 'd(A@Bᵀ)/dA = G @ B, d(A@Bᵀ)/dB = Gᵀ @ A',
  sigmoid: 'dσ(z)/dz = σ(z)·(1-σ(z))',
  relu: 'd relu(z)/dz = 1 where z > 0, else 0',
  tanh: 'd tanh(z)/dz = 1 - tanh(z)²',
  pow: 'd(aⁿ)/da = n·aⁿ⁻¹',
  square: 'd(a²)/da = 2a',
  mean: 'd mean/dxᵢ = 1/n',
  sum: 'd sum/dxᵢ = 1',
  exp: 'd eˣ/dx = eˣ',
  log: 'd log x/dx = 1/x',
  transpose: 'the gradient is transposed back',
  reshape: 'the gradient is reshaped back',
  logSoftmax: 'd/dz = G - softmax(z)·ΣG',
  neg: 'd(-a)/da = -1',
};
