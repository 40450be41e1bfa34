/**
 * The tape and the reverse loop. Every recorded op leaves a node on its
 * output naming the op, its inputs and the attributes its gradient rule needs;
 * `backward` sorts the graph topologically and walks it once in reverse,
 * applying the chain rule: each node turns the gradient of its output into
 * gradients of its inputs, which add up where a tensor is used twice.
 */
import {
  ArgumentError,
  BpError,
  ShapeError,
  Tensor,
  fmtShape,
  onesLike,
  setGradEnabled,
  add,
  concat,
  keep,
  tidy,
  zeros,
  type BackwardOptions,
  type OpAttrs,
  type OpName,
} from '@bp/tensor';
import { ownsStorage, setOpObserver, type AutogradHooks } from '@bp/tensor/internal';
import { movementGradients } from './gradients/movement.js';
import { gradientRule, isCustomGradient } from './gradients/registry.js';

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
  /** Storage versions of the inputs, the output and the saved tensors when the op was recorded. */
  readonly versions: readonly number[];
  /** True once a backward pass without `retainGraph` has released the graph. */
  released: boolean;
}

/**
 * Ops whose gradient needs none of the recorded values (only shapes and the incoming
 * gradient): changing their inputs afterwards is harmless, and they can be walked
 * again after the graph was released, as in PyTorch.
 */
const VALUE_FREE: ReadonlySet<string> = new Set([
  'add',
  'sub',
  'neg',
  'reshape',
  'transpose',
  'broadcastTo',
  'slice',
  'pad',
  'concat',
  'sum',
  'cast',
  'identity',
  'im2col',
  'col2im',
  'im2colWide',
  'col2imWide',
  'floor',
  'ceil',
  'round',
  'sign',
  'step',
]);

/** Which recorded values a gradient rule reads: the positions of the inputs, and the output or not. */
interface Reads {
  readonly inputs: readonly number[] | 'all';
  readonly output: boolean;
}

const OUTPUT_ONLY: Reads = { inputs: [], output: true };
const INPUTS_ONLY: Reads = { inputs: 'all', output: false };

/**
 * What the built-in rules of ops outside {@link VALUE_FREE} read, where it is not every input and
 * the output: only those are checked for a change in place before backward (as PyTorch checks only
 * what an op saved). `exp` differentiates from its output, so `y = x.exp()` may be followed by a
 * change to `x`; `mul` from its inputs, so its output may change. Any other op, and any op whose rule
 * was replaced with `registerGradient`, has every input and its output checked. The saved tensors
 * (pooling's argmax, layer norm's statistics) are always checked.
 */
const READS: ReadonlyMap<string, Reads> = new Map<string, Reads>([
  ...['exp', 'sqrt', 'sigmoid', 'tanh', 'reciprocal', 'expm1', 'tan', 'rsqrt', 'exp2', 'softmax', 'logSoftmax'].map(
    (op): [string, Reads] => [op, OUTPUT_ONLY],
  ),
  ...[
    'mul',
    'maximum',
    'minimum',
    'log',
    'square',
    'abs',
    'relu',
    'log1p',
    'sin',
    'cos',
    'asin',
    'acos',
    'atan',
    'sinh',
    'cosh',
    'asinh',
    'acosh',
    'atanh',
    'erf',
    'gelu',
    'geluGrad',
    'log2',
    'log10',
    'matmul',
    'conv2d',
    'layerNorm',
    'attention',
    'attentionPacked',
    'softmaxCrossEntropy',
    'probabilityNll',
  ].map((op): [string, Reads] => [op, INPUTS_ONLY]),
  // where reads its condition (the branches only for their shapes); gather and scatterAdd their indices.
  ['where', { inputs: [0], output: false }],
  ['gather', { inputs: [1], output: false }],
  ['scatterAdd', { inputs: [1], output: false }],
  // Pooling routes the gradient by its output and saved positions; the input only gives the shape.
  ['maxPool2d', OUTPUT_ONLY],
]);

/**
 * Whether a rule that reads `reads` (undefined: everything) of a node with `n` inputs reads the
 * value recorded at position `i` of its versions (inputs, output, saved).
 */
function readsValue(reads: Reads | undefined, n: number, i: number): boolean {
  if (reads === undefined) return true;
  if (i < n) return reads.inputs === 'all' || reads.inputs.includes(i);
  return i > n || reads.output;
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
  const versions: number[] = [];
  for (const t of inputs) versions.push(t.version);
  versions.push(output.version);
  for (const t of saved) versions.push(t.version);
  const node: Node<K> = { op, inputs: inputs.slice(), output, attrs, saved: saved.slice(), versions, released: false };
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

/** Throws when the graph was released or a value the rule needs was changed in place since recording. */
function checkNode(node: Node): void {
  const custom = isCustomGradient(node.op);
  if (VALUE_FREE.has(node.op) && !custom) return;
  if (node.released) {
    throw new BpError(
      'backward',
      `trying to backward through the graph a second time (op '${node.op}'): its saved values were released after the ` +
        'first backward; pass backward({ retainGraph: true }) the first time to walk it again, or recompute the forward pass',
    );
  }
  const all = [...node.inputs, node.output, ...node.saved];
  const reads = custom ? undefined : READS.get(node.op);
  for (let i = 0; i < all.length; i++) {
    const t = all[i];
    if (!readsValue(reads, node.inputs.length, i)) continue;
    if (t.isDisposed) {
      throw new BpError(
        'backward',
        `a tensor needed for the gradient of '${node.op}' (${t.dtype} ${fmtShape(t.shape)}) was disposed before backward`,
      );
    }
    if (t.version !== node.versions[i]) {
      const which = i < node.inputs.length ? `input ${i}` : i === node.inputs.length ? 'its output' : 'a saved tensor';
      throw new BpError(
        'backward',
        `a tensor needed for the gradient of '${node.op}' (${which}, ${t.dtype} ${fmtShape(t.shape)}) was modified by an ` +
          `in-place operation (assign, an optimizer step) after the op was recorded: it is at version ${t.version}, ` +
          `expected ${node.versions[i]}. Run the update after backward(), or recompute the forward pass`,
      );
    }
  }
}

/** Adds `g` into `t.grad` (in place, as PyTorch accumulates), or makes it `t.grad`; kept out of `tidy`. */
function accumulate(t: Tensor, g: Tensor): void {
  if (t.grad && !t.grad.isDisposed) {
    const sum = add(t.grad, g);
    t.grad.assign(sum);
    sum.dispose();
    return;
  }
  // The gradient must own its storage, since later backward passes add into it in place.
  t.grad = keep(g.clone());
}

/** The gradient of one slice of a tensor, kept apart until the tensor's own gradient is needed. */
interface SlicePiece {
  /** The slice's node (`attrs.begin`: where it starts in its base). */
  readonly node: Node<'slice'>;
  /** The gradient of the slice (owned by the backward pass). */
  readonly g: Tensor;
}

/** The built-in gradient of slice: `dy` zero-padded back to the base's shape. */
const padSlice = movementGradients.slice!;

/**
 * The axis along which every piece spans the whole base except on that one axis, with no two
 * pieces overlapping there; -1 when there is none.
 */
function tileAxis(shape: readonly number[], pieces: readonly SlicePiece[]): number {
  for (let a = 0; a < shape.length; a++) {
    const whole = pieces.every((p) => p.g.shape.every((d, i) => i === a || (p.node.attrs.begin[i] === 0 && d === shape[i])));
    if (!whole) continue;
    const spans = pieces.map((p) => [p.node.attrs.begin[a], p.node.attrs.begin[a] + p.g.shape[a]]).sort((x, y) => x[0] - y[0]);
    if (spans.every((s, j) => j === 0 || s[0] >= spans[j - 1][1])) return a;
    return -1;
  }
  return -1;
}

/**
 * The gradient of a tensor of `shape` from the gradients of its slices (and `dense`, what reached
 * it otherwise): slices side by side along one axis (the chunks of a packed projection, the
 * gates of a recurrent cell) are joined with one concat, zeros filling the gaps, instead of one
 * zero-padded copy of the whole tensor per slice and an add per copy; overlapping slices are
 * padded and added in the order they arrived. Consumes the pieces and `dense`.
 */
function joinSlices(shape: readonly number[], pieces: readonly SlicePiece[], dense: Tensor | undefined): Tensor {
  const joined = tidy(() => {
    const a = tileAxis(shape, pieces);
    if (a < 0) {
      const padded = (p: SlicePiece) => padSlice(p.g, p.node)[0]!;
      let sum = padded(pieces[0]);
      for (let j = 1; j < pieces.length; j++) sum = add(sum, padded(pieces[j]));
      return sum;
    }
    const parts: Tensor[] = [];
    let at = 0;
    const gap = (to: number) => {
      const s = shape.slice();
      s[a] = to - at;
      parts.push(zeros(s, { dtype: pieces[0].g.dtype }));
    };
    for (const p of pieces.slice().sort((x, y) => x.node.attrs.begin[a] - y.node.attrs.begin[a])) {
      if (p.node.attrs.begin[a] > at) gap(p.node.attrs.begin[a]);
      parts.push(p.g);
      at = p.node.attrs.begin[a] + p.g.shape[a];
    }
    if (at < shape[a]) gap(shape[a]);
    return concat(parts, a);
  });
  for (const p of pieces) if (p.g !== joined) p.g.dispose();
  if (dense === undefined) return joined;
  const sum = add(dense, joined);
  dense.dispose();
  joined.dispose();
  return sum;
}

/**
 * The tensors of `order` (inputs before outputs) from which one of `targets` is reachable through
 * recorded nodes, the targets included: the part of the graph a gradient with respect to them needs.
 */
function leadingTo(order: readonly Tensor[], targets: ReadonlySet<Tensor>): Set<number> {
  const needed = new Set<number>();
  for (const t of order) {
    const node = t._node as Node | null;
    if (targets.has(t) || (node !== null && node.inputs.some((x) => needed.has(x.id)))) needed.add(t.id);
  }
  return needed;
}

/**
 * The backward pass of `grad` and `valueAndGrad` (PyTorch's `torch.autograd.grad`): only the part of
 * the graph that leads to `targets` is walked (and released), and gradients accumulate into the
 * `.grad` of the targets alone, never into other tensors the function closed over.
 * @internal
 */
export function backwardTo(root: Tensor, targets: readonly Tensor[]): void {
  // Leaves only: the walk stops at a target, so one target upstream of another would get nothing.
  runBackward(root, undefined, {}, new Set(targets));
}

function runBackward(root: Tensor, seed?: Tensor, opts: BackwardOptions = {}, targets: ReadonlySet<Tensor> | null = null): void {
  if (!(root instanceof Tensor)) throw new ArgumentError('backward', 'called on something that is not a Tensor');
  if (opts === null || typeof opts !== 'object')
    throw new ArgumentError('backward', `options must be an object such as { retainGraph: true }, got ${typeof opts}`);
  if (!root.requiresGrad) {
    throw new BpError(
      'backward',
      `this tensor ${fmtShape(root.shape)} does not require grad: no input of the computation had requiresGrad: true, it ran inside noGrad, or it came only through ops without a gradient (detach, comparisons, argmax, int32 results)`,
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
    if (seed instanceof Tensor && seed.isDisposed) throw new BpError('backward', `the gradient ${fmtShape(seed.shape)} was disposed`);
    // As PyTorch: the gradient has the output's shape exactly (same-size shapes such as [3, 2]
    // for a [2, 3] output, or [1] for a 0-d one, are refused, not reshaped).
    if (!(seed instanceof Tensor) || seed.shape.length !== root.shape.length || seed.shape.some((d, i) => d !== root.shape[i])) {
      throw new ShapeError(
        'backward',
        `grad ${seed instanceof Tensor ? fmtShape(seed.shape) : typeof seed} does not match the output ${fmtShape(root.shape)}`,
      );
    }
    // A view: the pass disposes what it holds, never the caller's tensor. An int32 gradient is
    // cast to the output's float32, as PyTorch casts it (else .grad would come out int32).
    g0 = seed.dtype === 'float32' ? seed.detach() : seed.detach().cast('float32');
  }
  const retain = opts.retainGraph === true;
  const prev = setGradEnabled(false);
  const visited: Node[] = [];
  try {
    let order = topoOrder(root);
    const needed = targets === null ? null : leadingTo(order, targets);
    if (needed !== null) order = order.filter((t) => needed.has(t.id));
    for (const t of order) {
      const node = t._node as Node | null;
      if (node) checkNode(node);
    }
    // Each entry owns its tensor: an object is never in two entries, so disposing one is safe.
    const grads = new Map<number, Tensor>([[root.id, g0]]);
    // Gradients of slices (the built-in rule only), by the id of the sliced tensor: joined when its gradient is needed.
    const pieces = new Map<number, SlicePiece[]>();
    const sliceRule = gradientRule('slice') === padSlice;
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      let g = grads.get(t.id);
      const ps = pieces.get(t.id);
      if (ps) {
        pieces.delete(t.id);
        g = joinSlices(t.shape, ps, g);
      }
      if (!g) continue;
      grads.delete(t.id);
      const node = t._node as Node | null;
      if (targets !== null) {
        if (targets.has(t)) {
          // A target of grad(): its gradient is the result.
          accumulate(t, g);
          g.dispose();
          continue;
        }
        if (!node) {
          // Outside grad()'s targets, leaves keep their .grad as it was.
          g.dispose();
          continue;
        }
      } else if (!node || t._retainGrad) {
        // A leaf (or a non-leaf asked to keep its gradient): accumulate into .grad.
        if (!node && !(t.grad && !t.grad.isDisposed) && ownsStorage(g)) {
          // The pass made this gradient and nothing else sees its storage: it becomes .grad
          // as it is, sparing a copy (later passes add into it in place).
          t.grad = keep(g);
          continue;
        }
        accumulate(t, g);
        if (!node) {
          g.dispose();
          continue;
        }
      }
      visited.push(node);
      if (node.op === 'slice' && sliceRule && !gradObserver) {
        const base = node.inputs[0];
        if (!base.requiresGrad) g.dispose();
        else {
          const list = pieces.get(base.id) ?? [];
          list.push({ node: node as Node<'slice'>, g });
          pieces.set(base.id, list);
        }
        continue;
      }
      const rule = gradientRule(node.op);
      // While anomalies are watched, the ops inside a rule stay unobserved: a bad gradient is
      // reported against the op being differentiated, not against the div or mul computing it.
      const prevObserver = gradObserver ? setOpObserver(null) : null;
      let inGrads: (Tensor | null)[];
      try {
        // The rule's temporaries are released as soon as it returns.
        inGrads = tidy(() => rule(g, node as GradContext));
      } finally {
        if (gradObserver) setOpObserver(prevObserver);
      }
      if (gradObserver) gradObserver(node.op, inGrads, node);
      const made = new Set<Tensor>([g]);
      for (let j = 0; j < node.inputs.length; j++) {
        const inp = node.inputs[j];
        const ig = inGrads[j];
        if (!ig) continue;
        // A rule may hand back a recorded tensor itself (custom rules do): never dispose those.
        if (ig !== g && !node.inputs.includes(ig) && ig !== node.output && !node.saved.includes(ig)) made.add(ig);
        if (!inp.requiresGrad) continue;
        // grad(): no gradient flows into the part of the graph that leads to none of its targets.
        if (needed !== null && !needed.has(inp.id)) continue;
        const have = grads.get(inp.id);
        if (have) {
          grads.set(inp.id, add(have, ig));
          have.dispose();
        } else {
          grads.set(inp.id, ig.detach());
        }
      }
      for (const x of made) x.dispose();
    }
    for (const x of grads.values()) x.dispose();
    for (const list of pieces.values()) for (const p of list) p.g.dispose();
  } finally {
    setGradEnabled(prev);
    if (!retain) {
      for (const node of visited) {
        node.released = true;
        (node as { saved: readonly Tensor[] }).saved = [];
      }
    }
  }
}

/** The hooks @bp/tensor calls once this package is imported. */
export const hooks: AutogradHooks = { record: recordOp, backward: runBackward };
