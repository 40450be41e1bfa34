/**
 * Lays out a computation graph for drawing and writes the captions of its
 * step-by-step walk. Depth (an op one step after its latest input, a leaf
 * just before its first use) runs left to right and wraps into bands that
 * snake back and forth, so a deep graph fits one screen; nodes of one depth
 * stack vertically. `perBand` follows the width available (4 on a laptop
 * screen, 2 on a phone).
 */
import { fmtNumber } from './format.js';
import { formula } from './graph-data.js';
import type { GraphData, GraphNode } from './protocol.js';

export const BOX_W = 150;
export const BOX_H = 54;
const GAP_X = 34;
const GAP_Y = 10;
const BAND_GAP = 34;
const PAD = 8;
/** Room at each side for the edges that turn from one band into the next. */
const SIDE = 30;

/** A node with its box position. */
export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  /** Depth: the drawing's column before wrapping. */
  col: number;
  band: number;
}

/** How many depths fit side by side in `width` pixels (at least 2). */
export function bandsFor(width: number): number {
  return Math.max(2, Math.min(6, Math.floor((width - 2 * (PAD + SIDE) + GAP_X) / (BOX_W + GAP_X))));
}

/**
 * An unnamed scalar constant (the 2 of `pow(2)`, the n of a mean): drawn
 * inside its consumer's label (`(a2 − y)^2`) rather than as a box of its own.
 */
export function foldedConstant(n: GraphNode): boolean {
  return n.op === null && !n.requiresGrad && n.name === null && n.data.length === 1 && n.shape.every((d) => d === 1);
}

/** Positions for every node (folded constants left out) and the size of the whole drawing. */
export function layoutGraph(full: GraphData, perBand = 4): { nodes: PlacedNode[]; width: number; height: number } {
  const g = { ...full, nodes: full.nodes.filter((n) => !foldedConstant(n)) };
  const depth = new Map<number, number>();
  for (const n of g.nodes) depth.set(n.id, n.op === null ? 0 : 1 + Math.max(0, ...n.inputs.map((i) => depth.get(i) ?? 0)));
  // Pull each leaf next to its first consumer so parameters sit beside the op that uses them.
  for (const n of g.nodes) {
    if (n.op !== null) continue;
    const users = g.nodes.filter((u) => u.inputs.includes(n.id)).map((u) => depth.get(u.id)!);
    if (users.length) depth.set(n.id, Math.max(0, Math.min(...users) - 1));
  }
  const maxDepth = Math.max(0, ...depth.values());
  const bands = Math.floor(maxDepth / perBand) + 1;
  const stack = new Map<number, number>();
  const rowsInBand = new Array<number>(bands).fill(1);
  const slot = g.nodes.map((n) => {
    const d = depth.get(n.id)!;
    const i = stack.get(d) ?? 0;
    stack.set(d, i + 1);
    const band = Math.floor(d / perBand);
    rowsInBand[band] = Math.max(rowsInBand[band], i + 1);
    return { d, i, band };
  });
  // Narrow drawings (a phone) have many bands: closer together.
  const bandGap = perBand <= 2 ? BAND_GAP - 12 : BAND_GAP;
  const bandTop: number[] = [];
  let top = PAD;
  for (let b = 0; b < bands; b++) {
    bandTop.push(top);
    top += rowsInBand[b] * BOX_H + (rowsInBand[b] - 1) * GAP_Y + bandGap;
  }
  const cols = Math.min(perBand, maxDepth + 1);
  const nodes = g.nodes.map((n, k) => {
    const { d, i, band } = slot[k];
    const pos = d % perBand;
    // Odd bands run right to left, so the last op of a band sits above the first of the next.
    const colInBand = band % 2 === 0 ? pos : cols - 1 - pos;
    return { ...n, col: d, band, x: PAD + SIDE + colInBand * (BOX_W + GAP_X), y: bandTop[band] + i * (BOX_H + GAP_Y) };
  });
  return { nodes, width: 2 * (PAD + SIDE) + cols * BOX_W + (cols - 1) * GAP_X, height: top - bandGap + PAD };
}

/** The SVG path of an edge from `from`'s box to `to`'s (side to side within a band, bottom to top between bands). */
export function edgePath(from: PlacedNode, to: PlacedNode, offset = 0): string {
  if (from.band === to.band && from.x !== to.x) {
    const rightward = to.x > from.x;
    const x1 = rightward ? from.x + BOX_W : from.x;
    const x2 = rightward ? to.x : to.x + BOX_W;
    const y1 = from.y + BOX_H / 2 + offset;
    const y2 = to.y + BOX_H / 2 + offset;
    const mx = (x1 + x2) / 2;
    return `M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}`;
  }
  if (from.band !== to.band && from.x === to.x) {
    // The turn of the snake: out of the band's end on its outer side, into the next band on the same side.
    const right = Math.min(from.band, to.band) % 2 === 0;
    const xs = right ? from.x + BOX_W : from.x;
    const bend = right ? SIDE - 4 : -(SIDE - 4);
    const y1 = from.y + BOX_H / 2 + offset;
    const y2 = to.y + BOX_H / 2 + offset;
    return `M${xs} ${y1} C${xs + bend} ${y1} ${xs + bend} ${y2} ${xs} ${y2}`;
  }
  const down = to.y > from.y;
  const x1 = from.x + BOX_W / 2 + offset;
  const x2 = to.x + BOX_W / 2 + offset;
  const y1 = down ? from.y + BOX_H : from.y;
  const y2 = down ? to.y : to.y + BOX_H;
  const my = (y1 + y2) / 2;
  return `M${x1} ${y1} C${x1} ${my} ${x2} ${my} ${x2} ${y2}`;
}

/** The label of a node: its name, else its formula, else what kind of leaf it is. */
export function nodeLabel(n: GraphNode): string {
  return n.label ?? n.name ?? (n.op ? n.op : n.requiresGrad ? 'parameter' : 'constant');
}

/** One step of the walk through the graph. */
export type GraphStep = { phase: 'forward' | 'backward'; id: number } | { phase: 'update'; id: number } | { phase: 'after'; id: number };

/**
 * The steps of a walk through the graph: every op forward, every
 * gradient-carrying node backward, then (when the graph has an update) each
 * parameter's SGD step and the loss of the next forward pass.
 */
export function graphSteps(g: GraphData): GraphStep[] {
  const fwd = g.nodes.filter((n) => n.op !== null).map((n) => ({ phase: 'forward' as const, id: n.id }));
  const bwd = g.nodes
    .slice()
    .reverse()
    .filter((n) => n.grad !== null)
    .map((n) => ({ phase: 'backward' as const, id: n.id }));
  const upd = g.update
    ? [...g.update.params.map((p) => ({ phase: 'update' as const, id: p.id })), { phase: 'after' as const, id: g.root }]
    : [];
  return [...fwd, ...bwd, ...upd];
}

/** Numbers as a caption writes them: a scalar, `[a, b]`, or rows `[[a, b], [c, d]]`. */
export function fmtData(data: readonly number[], shape: readonly number[]): string {
  const f = (v: number) => fmtNumber(v);
  if (shape.length === 0 || data.length === 1) return f(data[0]);
  if (shape.length === 2 && shape[0] > 1) {
    const [r, c] = shape;
    const rows: string[] = [];
    for (let i = 0; i < r; i++)
      rows.push(
        `[${data
          .slice(i * c, i * c + c)
          .map(f)
          .join(', ')}]`,
      );
    return `[${rows.join(', ')}]`;
  }
  return `[${data.map(f).join(', ')}]`;
}

/** How each op passes the gradient G of its output to input `k`, as a rule. */
export function localRule(op: string, k: number, attrs: Record<string, unknown> = {}): string {
  switch (op) {
    case 'add':
      return 'd(a+b)/d· = 1: G passes through (summed over broadcast axes)';
    case 'sub':
      return k === 0 ? 'd(a−b)/da = 1' : 'd(a−b)/db = −1';
    case 'mul':
      return k === 0 ? 'd(a·b)/da = b' : 'd(a·b)/db = a';
    case 'div':
      return k === 0 ? 'd(a/b)/da = 1/b' : 'd(a/b)/db = −a/b²';
    case 'pow':
      return k === 0 ? 'd(aⁿ)/da = n·aⁿ⁻¹' : 'd(aⁿ)/dn = aⁿ·ln a';
    case 'sigmoid':
      return 'dσ(z)/dz = σ(z)·(1 − σ(z))';
    case 'relu':
      return 'd relu(z)/dz = 1 where z > 0, else 0';
    case 'tanh':
      return 'd tanh(z)/dz = 1 − tanh(z)²';
    case 'mean':
      return 'd mean/dxᵢ = 1/n';
    case 'sum':
      return 'd sum/dxᵢ = 1';
    case 'exp':
      return 'd eˣ/dx = eˣ';
    case 'log':
      return 'd log x/dx = 1/x';
    case 'neg':
      return 'd(−a)/da = −1';
    case 'matmul': {
      const tA = !!attrs.transA;
      const tB = !!attrs.transB;
      if (k === 0)
        return !tA && !tB
          ? 'for C = A @ B: dL/dA = G @ Bᵀ'
          : !tA && tB
            ? 'for C = A @ Bᵀ: dL/dA = G @ B'
            : tA && !tB
              ? 'for C = Aᵀ @ B: dL/dA = B @ Gᵀ'
              : 'for C = Aᵀ @ Bᵀ: dL/dA = Bᵀ @ Gᵀ';
      return !tA && !tB
        ? 'for C = A @ B: dL/dB = Aᵀ @ G'
        : !tA && tB
          ? 'for C = A @ Bᵀ: dL/dB = Gᵀ @ A'
          : tA && !tB
            ? 'for C = Aᵀ @ B: dL/dB = A @ G'
            : 'for C = Aᵀ @ Bᵀ: dL/dB = Gᵀ @ Aᵀ';
    }
    case 'linear': {
      const g = attrs.relu ? 'G masked where the output is 0' : 'G';
      return k === 0
        ? `for y = x @ Wᵀ + b: dL/dx = ${g} @ W`
        : k === 1
          ? `for y = x @ Wᵀ + b: dL/dW = (${g})ᵀ @ x`
          : `for y = x @ Wᵀ + b: dL/db = ${g} summed over rows`;
    }
    case 'transpose':
      return 'the gradient is transposed back';
    case 'reshape':
      return 'the gradient is reshaped back';
    case 'logSoftmax':
      return 'd/dz = G − softmax(z)·ΣG';
    default:
      return 'its gradient rule';
  }
}

/**
 * One chain-rule term of a backward step with its numbers: how the gradient
 * G of `u` (an op that used `n` as input `k`) reaches `n`, multiplied out.
 */
export function chainTerm(u: GraphNode, k: number, byId: ReadonlyMap<number, GraphNode>): string {
  const G = fmtData(u.gradData ?? [], u.shape);
  const ins = u.inputs.map((i) => byId.get(i)!);
  const v = (m: GraphNode) => fmtData(m.data, m.shape);
  const L = (m: GraphNode) => nodeLabel(m);
  const head = `∂L/∂${L(u)} = ${G}`;
  switch (u.op) {
    case 'add':
      return `${head}, passed through unchanged${ins[k].data.length < u.data.length ? ' and summed over the broadcast axis' : ''}`;
    case 'sub':
      return k === 0 ? `${head}, passed through (×1)` : `−1 · ${G}`;
    case 'mul':
      return `${G} ⊙ ${v(ins[1 - k])}  (G times ${L(ins[1 - k])})`;
    case 'pow': {
      if (k !== 0 || ins[1].data.length !== 1) break;
      const n = ins[1].data[0];
      const local = ins[0].data.map((a) => n * a ** (n - 1));
      return `${G} ⊙ ${fmtNumber(n)}·${wrapData(v(ins[0]))}^${fmtNumber(n - 1)} = ${G} ⊙ ${fmtData(local, ins[0].shape)}`;
    }
    case 'sigmoid': {
      const s = u.data;
      return `${G} ⊙ σ(1 − σ) = ${G} ⊙ ${fmtData(
        s.map((x) => x * (1 - x)),
        u.shape,
      )}  (σ = ${fmtData(s, u.shape)})`;
    }
    case 'tanh':
      return `${G} ⊙ (1 − tanh²) = ${G} ⊙ ${fmtData(
        u.data.map((t) => 1 - t * t),
        u.shape,
      )}`;
    case 'relu':
      return `${G} ⊙ ${fmtData(
        ins[0].data.map((z) => (z > 0 ? 1 : 0)),
        ins[0].shape,
      )}  (1 where the input > 0)`;
    case 'mean':
      return `${G} · 1/${ins[0].data.length} for each element`;
    case 'sum':
      return `${G} for each element`;
    case 'matmul': {
      const tB = !!u.attrs.transB;
      const tA = !!u.attrs.transA;
      if (!tA && tB) return k === 0 ? `G @ ${L(ins[1])} = ${G} @ ${v(ins[1])}` : `Gᵀ @ ${L(ins[0])} = ${G}ᵀ @ ${v(ins[0])}`;
      if (!tA && !tB) return k === 0 ? `G @ ${L(ins[1])}ᵀ = ${G} @ ${v(ins[1])}ᵀ` : `${L(ins[0])}ᵀ @ G = ${v(ins[0])}ᵀ @ ${G}`;
      break;
    }
  }
  return `${head} through ${u.op} (${localRule(u.op ?? '', k, u.attrs)})`;
}

function wrapData(s: string): string {
  return s.startsWith('[') ? s : `(${s})`;
}

/** The forward step of `n` with its numbers: `z1 = x @ W1ᵀ + b1 = [0.25, 0.4] + [0.35, 0.35] = [0.6, 0.75]`. */
export function forwardCaption(n: GraphNode, byId: ReadonlyMap<number, GraphNode>): string {
  const ins = n.inputs.map((i) => byId.get(i)!);
  const op = n.op ?? '';
  const withLabels = formula(op, ins.map(nodeLabel), n.attrs);
  const withValues = formula(
    op,
    ins.map((m) => fmtData(m.data, m.shape)),
    n.attrs,
  );
  const label = nodeLabel(n);
  const lhs = label === withLabels ? label : `${label} = ${withLabels}`;
  return `${lhs} = ${withValues} = ${fmtData(n.data, n.shape)}`;
}

/** The backward step of `n`: every term of the chain rule multiplied out, and the gradient. */
export function backwardCaption(n: GraphNode, g: GraphData, byId: ReadonlyMap<number, GraphNode>): string {
  if (n.id === g.root)
    return `Backward starts at the output: ∂L/∂L = 1. Each step now multiplies the gradient arriving from above by one local derivative (the chain rule).`;
  const terms: string[] = [];
  for (const u of g.nodes) {
    if (u.gradData === null) continue;
    u.inputs.forEach((i, k) => {
      if (i === n.id) terms.push(chainTerm(u, k, byId));
    });
  }
  const label = nodeLabel(n);
  const sum = terms.length > 1 ? `${terms.map((t) => `(${t})`).join(' + ')}` : (terms[0] ?? '');
  return `∂L/∂${label} = ${sum} = ${fmtData(n.gradData ?? [], n.shape)}`;
}

/** The SGD step of one parameter: `W1 ← W1 − lr·∂L/∂W1 = … − 0.5 · … = …`. */
export function updateCaption(n: GraphNode, lr: number, after: readonly number[]): string {
  const L = nodeLabel(n);
  return `SGD step: ${L} ← ${L} − ${fmtNumber(lr)} · ∂L/∂${L} = ${fmtData(n.data, n.shape)} − ${fmtNumber(lr)} · ${fmtData(n.gradData ?? [], n.shape)} = ${fmtData(after, n.shape)}`;
}

/** The closing step: the same forward pass with the updated parameters. */
export function afterCaption(before: number, after: number): string {
  const change = after < before ? 'lower: the step went downhill' : after > before ? 'higher: the step was too large' : 'unchanged';
  return `Forward again with the new parameters: L = ${fmtNumber(before)} → ${fmtNumber(after)} (${change}). Training repeats this loop: forward, backward, step.`;
}
