import type { AttentionShape } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { record } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { random } from '../random.js';
import { Tensor } from '../tensor.js';
import { add, cast, mul, where } from './elementwise.js';
import { matmulT } from './matmul.js';
import { linear, softmax } from './nn.js';
import { narrow } from './movement.js';
import { checkTensor, make } from './util.js';
import { tensor } from './creation.js';

/** Options of {@link scaledDotProductAttention} (PyTorch's keyword arguments). */
export interface ScaledDotProductAttentionOptions {
  /**
   * A mask broadcastable to `[..., L, S]`: an int32 tensor where nonzero means
   * "may attend" (PyTorch's boolean mask, True = take part), or a float32
   * tensor added to the scores (use `-Infinity` to block).
   */
  attnMask?: Tensor | null;
  /** Dropout probability on the attention weights (applied whenever > 0, as PyTorch's function does). */
  dropoutP?: number;
  /** Mask out keys after each query (a lower-triangular `[L, S]` mask); not combinable with `attnMask`. */
  isCausal?: boolean;
  /** Multiplier of `q k^T`; `1 / sqrt(E)` by default. */
  scale?: number | null;
}

/** A constant int32 `[l, s]` tensor with ones on and below the diagonal (PyTorch's `tril(ones(L, S))`). */
function causalMask(l: number, s: number): Tensor {
  const m = new Int32Array(l * s);
  for (let i = 0; i < l; i++) for (let j = 0; j <= Math.min(i, s - 1); j++) m[i * s + j] = 1;
  return tensor(m, { shape: [l, s] });
}

/**
 * Attention (PyTorch's `torch.nn.functional.scaled_dot_product_attention`):
 * `softmax(q k^T * scale + mask) v` for `q: [..., L, E]`, `k: [..., S, E]`,
 * `v: [..., S, Ev]`, returning `[..., L, Ev]`; batch axes broadcast. Composed
 * of `matmul`, `where`, `softmax` and a dropout mask drawn from the generator
 * seeded by `manualSeed`, so autograd differentiates it. A row whose every key
 * is masked gives NaN, as in PyTorch. On backends with a fused attention kernel
 * (the CPU one), attention without `attnMask` and dropout, on float32 tensors with
 * the same batch axes, is that one kernel and one recorded op instead, with the
 * same values.
 *
 * @example
 * const y = scaledDotProductAttention(q, k, v, { isCausal: true });
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  checkTensor(op, q, 'q');
  checkTensor(op, k, 'k');
  checkTensor(op, v, 'v');
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) {
    throw new ShapeError(op, `q, k and v need at least 2 dimensions, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const e = q.shape[q.rank - 1];
  const l = q.shape[q.rank - 2];
  const s = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== e) {
    throw new ShapeError(op, `q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} must share the last dimension`);
  }
  if (v.shape[v.rank - 2] !== s) {
    throw new ShapeError(op, `k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must have the same number of keys (axis -2)`);
  }
  const batchAxes = [q, k, v].map((t) => t.shape.slice(0, -2));
  const longest = Math.max(...batchAxes.map((b) => b.length));
  for (let i = 1; i <= longest; i++) {
    const sizes = batchAxes.map((b) => (i <= b.length ? b[b.length - i] : 1)).filter((d) => d !== 1);
    if (sizes.some((d) => d !== sizes[0])) {
      throw new ShapeError(
        op,
        `the batch axes of q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} do not broadcast (axis ${-2 - i})`,
      );
    }
  }
  const { attnMask = null, dropoutP = 0, isCausal = false } = opts ?? {};
  if (typeof dropoutP !== 'number' || !(dropoutP >= 0 && dropoutP <= 1)) {
    throw new ArgumentError(op, `dropoutP must be a probability in [0, 1], got ${String(dropoutP)}`);
  }
  if (typeof isCausal !== 'boolean') throw new ArgumentError(op, `isCausal must be true or false, got ${String(isCausal)}`);
  if (isCausal && attnMask) throw new ArgumentError(op, 'give either attnMask or isCausal, not both (as PyTorch)');
  const scale = checkScale(op, opts?.scale ?? 1 / Math.sqrt(e));
  const ev = v.shape[v.rank - 1];
  const batch = q.shape.slice(0, -2);
  if (
    !attnMask &&
    dropoutP === 0 &&
    [k, v].every((t) => t.rank === q.rank && t.shape.slice(0, -2).every((d, i) => d === batch[i])) &&
    fusedAttentionFits(q, k, v)
  ) {
    // One kernel (and one recorded op) for the whole attention, on backends that have it.
    const n = batch.reduce((a, d) => a * d, 1);
    const out = fusedAttention(q.reshape([n, l, e]), k.reshape([n, s, e]), v.reshape([n, s, ev]), 1, scale, isCausal);
    return out.reshape([...batch, l, ev]);
  }
  let scores = mul(matmulT(q, k, false, true), scale);
  if (isCausal) {
    scores = where(causalMask(l, s), scores, -Infinity);
  } else if (attnMask) {
    checkTensor(op, attnMask, 'attnMask');
    const ms = attnMask.shape;
    const n = ms.length;
    if (n < 2 ? n === 1 && ms[0] !== s && ms[0] !== 1 : (ms[n - 1] !== s && ms[n - 1] !== 1) || (ms[n - 2] !== l && ms[n - 2] !== 1)) {
      throw new ShapeError(op, `attnMask ${fmtShape(ms)} does not broadcast to the scores [..., ${l}, ${s}]`);
    }
    if (attnMask.dtype === 'int32') scores = where(attnMask, scores, -Infinity);
    else if (attnMask.dtype === 'float32') scores = add(scores, attnMask);
    else throw new DTypeError(op, `attnMask must be int32 (nonzero = attend) or float32 (added), got ${String(attnMask.dtype)}`);
  }
  let weights = softmax(scores, -1);
  if (dropoutP > 0) {
    if (dropoutP === 1) weights = mul(weights, 0);
    else {
      const keep = 1 - dropoutP;
      const m = new Float32Array(weights.size);
      for (let i = 0; i < m.length; i++) m[i] = random() < keep ? 1 / keep : 0;
      weights = mul(weights, tensor(m, { shape: weights.shape }));
    }
  }
  return matmulT(weights, v, false, false);
}

/**
 * Scores a fused attention may hold for one batch entry (all its heads): past it (64 MiB of
 * float32), the composite's tensors instead of a kernel's working memory that stays allocated.
 */
const FUSED_SCORES_MAX = 1 << 24;

/** `scale` when it is a finite number, else an error naming `op`. */
function checkScale(op: string, scale: unknown): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new ArgumentError(op, `scale must be a finite number, got ${String(scale)}`);
  return scale;
}

/**
 * Whether the backend has the fused attention kernels (the packed pair when `packed`) and q, k, v
 * are float32 with no empty axis and scores of at most {@link FUSED_SCORES_MAX} per batch entry.
 */
function fusedAttentionFits(q: Tensor, k: Tensor, v: Tensor, heads = 1, packed = false): boolean {
  const f = getBackend().fused;
  return (
    heads * q.shape[q.rank - 2] * k.shape[k.rank - 2] <= FUSED_SCORES_MAX &&
    (packed
      ? f?.attentionPacked !== undefined && f.attentionPackedBackward !== undefined
      : f?.attention !== undefined && f.attentionBackward !== undefined) &&
    q.dtype === 'float32' &&
    k.dtype === 'float32' &&
    v.dtype === 'float32' &&
    q.size > 0 &&
    k.size > 0 &&
    v.size > 0
  );
}

/** The sizes of the fused kernels for `q: [n, l, heads*d]`, `k: [n, s, heads*d]`, `v: [n, s, heads*dv]`. */
function attentionShape(q: Tensor, k: Tensor, v: Tensor, heads: number): AttentionShape {
  const [n, l, e] = q.shape;
  return { n, heads, l, s: k.shape[1], d: e / heads, dv: v.shape[2] / heads };
}

/** The fused kernel on `q: [n, l, heads*d]`, `k: [n, s, heads*d]`, `v: [n, s, heads*dv]`: one recorded op. */
function fusedAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, scale: number, causal: boolean): Tensor {
  const be = getBackend();
  const z = attentionShape(q, k, v, heads);
  const [out, weights] = be.fused!.attention!(q._on(be), k._on(be), v._on(be), z, scale, causal);
  return record('attention', [q, k, v], make(out, [z.n, z.l, heads * z.dv], 'float32'), { heads, scale, causal }, [
    make(weights, [z.n, heads, z.l, z.s], 'float32'),
  ]);
}

/**
 * Multi-head attention with the heads side by side in the feature axis, as the projections of
 * `MultiheadAttention` give them: `q: [n, l, e]`, `k: [n, s, e]`, `v: [n, s, ev]`, head `h` being
 * the columns `h*e/heads ..` of q and k and `h*ev/heads ..` of v; each head attends as
 * {@link scaledDotProductAttention} (`scale` by default `1 / sqrt(e / heads)`, keys after each
 * query masked when `causal`), and the heads' outputs come back side by side, `[n, l, ev]`. On
 * backends with a fused attention kernel (the CPU one) this is one kernel and one recorded op, with
 * no copies to split the heads and merge them back; elsewhere it is reshape, transpose,
 * {@link scaledDotProductAttention} and back, with the same values. Internal (`MultiheadAttention`
 * calls it).
 */
export function attentionHeads(q: Tensor, k: Tensor, v: Tensor, heads: number, causal = false, scale: number | null = null): Tensor {
  const op = 'attention';
  checkTensor(op, q, 'q');
  checkTensor(op, k, 'k');
  checkTensor(op, v, 'v');
  if (!Number.isInteger(heads) || heads <= 0) throw new ArgumentError(op, `heads must be a positive integer, got ${String(heads)}`);
  const [n, l, e] = q.shape;
  const [, s] = k.shape;
  const ev = v.shape[2];
  if (
    q.rank !== 3 ||
    k.rank !== 3 ||
    v.rank !== 3 ||
    k.shape[0] !== n ||
    v.shape[0] !== n ||
    k.shape[2] !== e ||
    v.shape[1] !== s ||
    e % heads !== 0 ||
    ev % heads !== 0
  ) {
    throw new ShapeError(
      op,
      `expected q [n, l, e], k [n, s, e] and v [n, s, ev] with e and ev divisible by ${heads} heads, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`,
    );
  }
  const d = e / heads;
  const sc = checkScale(op, scale ?? 1 / Math.sqrt(d));
  if (fusedAttentionFits(q, k, v, heads)) return fusedAttention(q, k, v, heads, sc, causal);
  const split = (t: Tensor, len: number, w: number) => t.reshape([n, len, heads, w]).transpose([0, 2, 1, 3]);
  const out = scaledDotProductAttention(split(q, l, d), split(k, s, d), split(v, s, ev / heads), { isCausal: causal, scale: sc });
  return out.transpose([0, 2, 1, 3]).reshape([n, l, ev]);
}

let packing: 'auto' | 'never' = 'auto';

/**
 * For tests and measurements: whether {@link selfAttentionHeads} takes the packed kernel where the
 * backend has one (`'auto'`, the default) or always projects q, k and v one by one (`'never'`).
 */
export function setSelfAttentionPacking(mode: 'auto' | 'never'): void {
  packing = mode;
}

/**
 * Self-attention with its three projections: `x: [n, l, e]` projected by the row blocks of
 * `weight: [3e, e]` (q's rows, then k's, then v's: PyTorch's `in_proj_weight`) and `bias: [3e]` (or
 * null), then {@link attentionHeads} of `heads` heads, giving `[n, l, e]`. On backends with the
 * packed attention kernel (the CPU one), the three projections are one linear op whose
 * `[n, l, 3e]` output the kernel reads in place, and its gradient comes back in that layout: one
 * matrix product instead of three each way, and no copies of the weight's blocks or of q, k and v
 * (as PyTorch projects self-attention's input once). Elsewhere three linear ops on the weight's
 * row blocks. The same values either way, up to the order in which the input's gradient adds up
 * its three parts. Internal (`MultiheadAttention` calls it when query, key and value are one tensor).
 */
export function selfAttentionHeads(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  heads: number,
  causal = false,
  scale: number | null = null,
): Tensor {
  checkTensor('attention', x, 'x');
  checkTensor('attention', weight, 'weight');
  const [n, l, e] = x.shape;
  if (
    x.rank !== 3 ||
    weight.rank !== 2 ||
    weight.shape[0] !== 3 * e ||
    weight.shape[1] !== e ||
    !(Number.isInteger(heads) && heads > 0 && e % heads === 0)
  ) {
    throw new ShapeError(
      'attention',
      `expected x [n, l, e], weight [3e, e] and ${String(heads)} heads dividing e, got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`,
    );
  }
  // x as q, k and v for the fused kernels' conditions (float32, not empty, scores within bounds).
  if (packing === 'auto' && fusedAttentionFits(x, x, x, heads, true) && weight.dtype === 'float32' && bias?.dtype !== 'int32') {
    const sc = checkScale('attention', scale ?? 1 / Math.sqrt(e / heads));
    const qkv = linear(x, weight, bias);
    const be = getBackend();
    const [out, weights] = be.fused!.attentionPacked!(qkv._on(be), attentionShape(x, x, x, heads), sc, causal);
    return record('attentionPacked', [qkv], make(out, [n, l, e], 'float32'), { heads, scale: sc, causal }, [
      make(weights, [n, heads, l, l], 'float32'),
    ]);
  }
  const project = (i: number) => linear(x, narrow(weight, 0, i * e, e), bias === null ? null : narrow(bias, 0, i * e, e));
  return attentionHeads(project(0), project(1), project(2), heads, causal, scale);
}

/**
 * The gradient of the packed attention of {@link selfAttentionHeads} for the output gradient `dy`
 * (`[n, l, e]`) from the weights it saved, on the backend's kernel: `dqkv`, shaped as `qkv`
 * (`[n, l, 3e]`). Internal (the gradient rule in @bp/autograd); not itself differentiable.
 */
export function attentionPackedBackward(dy: Tensor, qkv: Tensor, weights: Tensor, heads: number, scale: number, causal: boolean): Tensor {
  const be = getBackend();
  const kernel = be.fused?.attentionPackedBackward;
  if (!kernel) throw new ArgumentError('attention', `backend ${be.name} has no fused attentionPackedBackward kernel`);
  // dy [n, l, e] has the sizes of q, k and v.
  const z = attentionShape(dy, dy, dy, heads);
  return make(kernel(f32(dy)._on(be), qkv._on(be), weights._on(be), z, scale, causal), qkv.shape.slice(), 'float32');
}

/**
 * The gradients of the fused attention for the output gradient `dy` (`[n, l, ev]`) from the
 * weights it saved, on the backend's kernel: `[dq, dk, dv]`. Internal (the gradient rule in
 * @bp/autograd); not itself differentiable.
 */
export function attentionBackward(
  dy: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  weights: Tensor,
  heads: number,
  scale: number,
  causal: boolean,
): [Tensor, Tensor, Tensor] {
  const be = getBackend();
  const kernel = be.fused?.attentionBackward;
  if (!kernel) throw new ArgumentError('attention', `backend ${be.name} has no fused attentionBackward kernel for a fused attention`);
  const g = f32(dy);
  const z = attentionShape(q, k, v, heads);
  const [dq, dk, dv] = kernel(g._on(be), q._on(be), k._on(be), v._on(be), weights._on(be), z, scale, causal);
  return [make(dq, q.shape.slice(), 'float32'), make(dk, k.shape.slice(), 'float32'), make(dv, v.shape.slice(), 'float32')];
}

/** `t` as float32 (a gradient may come as another dtype). */
const f32 = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : cast(t, 'float32'));

/** Attention as a `Tensor` method (`q.scaledDotProductAttention(k, v, opts)`). */
export const attentionMethods = { scaledDotProductAttention };
