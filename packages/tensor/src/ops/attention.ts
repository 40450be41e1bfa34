import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { random } from '../random.js';
import { Tensor } from '../tensor.js';
import { add, mul, where } from './elementwise.js';
import { matmulT } from './matmul.js';
import { softmax } from './nn.js';
import { checkTensor } from './util.js';
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
 * is masked gives NaN, as in PyTorch.
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
  const { attnMask = null, dropoutP = 0, isCausal = false } = opts ?? {};
  if (typeof dropoutP !== 'number' || !(dropoutP >= 0 && dropoutP <= 1)) {
    throw new ArgumentError(op, `dropoutP must be a probability in [0, 1], got ${String(dropoutP)}`);
  }
  if (typeof isCausal !== 'boolean') throw new ArgumentError(op, `isCausal must be true or false, got ${String(isCausal)}`);
  if (isCausal && attnMask) throw new ArgumentError(op, 'give either attnMask or isCausal, not both (as PyTorch)');
  const scale = opts?.scale ?? 1 / Math.sqrt(e);
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new ArgumentError(op, `scale must be a finite number, got ${String(scale)}`);
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

/** Attention as a `Tensor` method (`q.scaledDotProductAttention(k, v, opts)`). */
export const attentionMethods = { scaledDotProductAttention };
