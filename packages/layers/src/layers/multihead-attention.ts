import {
  ArgumentError,
  DTypeError,
  ShapeError,
  type Tensor,
  add,
  fmtShape,
  isTensor,
  linear,
  narrow,
  scaledDotProductAttention,
  tensor,
  where,
  zeros,
} from '@bp/tensor';
import { checkOptions, attentionHeads, selfAttentionHeads, shownValue } from '@bp/tensor/internal';
import { xavierUniform } from '../initializers.js';
import { Module } from '../module.js';
import { Linear } from './linear.js';

/** Constructor options of {@link MultiheadAttention} (PyTorch's defaults). */
export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Inputs and output are `[batch, seq, embed]` instead of `[seq, batch, embed]` (default false, as PyTorch). */
  batchFirst?: boolean;
}

/** Per-call options of {@link MultiheadAttention.forward} (PyTorch's keyword arguments). */
export interface MultiheadAttentionCallOptions {
  /**
   * `[L, S]` or `[batch * numHeads, L, S]`: an int32 mask where nonzero means
   * "may NOT attend" (PyTorch's boolean `attn_mask`, True = masked), or a
   * float32 mask added to the scores.
   */
  attnMask?: Tensor | null;
  /** `[batch, S]`: int32, nonzero marks keys to ignore (padding), or float32 added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** Apply a causal mask (each query attends to itself and earlier keys); combinable with the other masks. */
  isCausal?: boolean;
}

function toAdditive(op: string, name: string, m: Tensor): Tensor {
  if (m.dtype === 'int32') return where(m, -Infinity, 0);
  if (m.dtype === 'float32') return m;
  throw new DTypeError(op, `${name} must be int32 (nonzero = masked) or float32 (added), got ${String(m.dtype)} ${fmtShape(m.shape)}`);
}

/**
 * Multi-head attention (PyTorch's `nn.MultiheadAttention`):
 * `out_proj(concat_h(softmax(q_h k_h^T / sqrt(d)) v_h))` with the three input
 * projections stacked in `in_proj_weight` `[3 * embedDim, embedDim]` (and
 * `in_proj_bias` `[3 * embedDim]`) and the output projection `out_proj`, so
 * the state dict reads `in_proj_weight`, `in_proj_bias`, `out_proj.weight`,
 * `out_proj.bias` exactly as PyTorch's. `forward` returns the attention output
 * (PyTorch's first return value). Self-attention (the same tensor as query, key
 * and value) is projected once with the whole `in_proj_weight`, as PyTorch
 * does; on the CPU backend the attention kernel then reads q, k and v in place
 * from that `[N, L, 3 * embedDim]` output.
 *
 * @example
 * const mha = new MultiheadAttention(32, 4, { batchFirst: true });
 * const x = randn([2, 10, 32]); // [batch, seq, 32]
 * const y = mha.forward(x, x, x, { isCausal: true });
 * y.shape; // [2, 10, 32]
 */
export class MultiheadAttention extends Module {
  /** Model width. */
  readonly embedDim: number;
  /** Heads; `embedDim / numHeads` is each head's width. */
  readonly numHeads: number;
  /** Attention-weight dropout probability (training mode only). */
  readonly dropout: number;
  /** Whether the batch axis comes first. */
  readonly batchFirst: boolean;
  /** `[3 * embedDim, embedDim]`: the query, key and value projections stacked. */
  readonly inProjWeight: Tensor;
  /** `[3 * embedDim]`, or null without bias. */
  readonly inProjBias: Tensor | null;
  /** The output projection. */
  readonly outProj: Linear;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['dropout', 'bias', 'batchFirst']);
    for (const [k, v] of [
      ['embedDim', embedDim],
      ['numHeads', numHeads],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ArgumentError('MultiheadAttention', `${k} must be a positive integer, got ${v}`);
    }
    if (embedDim % numHeads !== 0) {
      throw new ArgumentError('MultiheadAttention', `embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    }
    const { dropout = 0, bias = true, batchFirst = false } = opts;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) {
      throw new ArgumentError('MultiheadAttention', `dropout must be a probability in [0, 1], got ${String(dropout)}`);
    }
    for (const [k, v] of [
      ['bias', bias],
      ['batchFirst', batchFirst],
    ] as const) {
      if (typeof v !== 'boolean') throw new ArgumentError('MultiheadAttention', `${k} must be true or false, got ${shownValue(v)}`);
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.dropout = dropout;
    this.batchFirst = batchFirst;
    // Registration order and draw order follow PyTorch: in_proj_weight, in_proj_bias, out_proj; then xavier on in_proj_weight.
    this.inProjWeight = this.registerParameter('in_proj_weight', zeros([3 * embedDim, embedDim]));
    this.inProjBias = this.registerParameter('in_proj_bias', bias ? zeros([3 * embedDim]) : null);
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias }));
    xavierUniform(this.inProjWeight);
    if (this.outProj.bias) this.outProj.bias.assign(zeros([embedDim]));
  }

  override get layerType(): string {
    return 'MultiheadAttention';
  }

  /**
   * Attends from `query` to `key`/`value` (self-attention when only `query` is
   * given): `[L, N, E]` (or `[N, L, E]` with `batchFirst`, or unbatched `[L, E]`) to the same layout.
   */
  override forward(query: Tensor, key: Tensor = query, value: Tensor = key, opts: MultiheadAttentionCallOptions = {}): Tensor {
    const op = this.layerType;
    const E = this.embedDim;
    for (const [name, t] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const) {
      if (!isTensor(t)) throw new ArgumentError(op, `${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
      if ((t.rank !== 2 && t.rank !== 3) || t.shape[t.rank - 1] !== E) {
        throw new ShapeError(op, `${name} must be [seq, ${E}] or 3-D with ${E} features last, got ${fmtShape(t.shape)}`);
      }
    }
    if (key.rank !== query.rank || value.rank !== query.rank) {
      throw new ShapeError(
        op,
        `query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must all be batched or all unbatched`,
      );
    }
    const unbatched = query.rank === 2;
    // To [N, L, E].
    const bf = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose([1, 0, 2]));
    const q0 = bf(query);
    const k0 = bf(key);
    const v0 = bf(value);
    const [N, L] = q0.shape;
    const S = k0.shape[1];
    if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
      throw new ShapeError(
        op,
        `query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} disagree on batch or sequence length`,
      );
    }
    const H = this.numHeads;
    const D = E / H;
    const { attnMask = null, keyPaddingMask = null, isCausal = false } = opts ?? {};
    const dropoutP = this.training ? this.dropout : 0;
    // Projection i (query, key, value) of x [N, len, E]: one linear op, the bias added in the
    // product's pass and both gradients in one call.
    const inProj = (x: Tensor, i: number) =>
      linear(x, narrow(this.inProjWeight, 0, i * E, E), this.inProjBias ? narrow(this.inProjBias, 0, i * E, E) : null);
    if (!attnMask && !keyPaddingMask && dropoutP === 0) {
      // The heads stay side by side in the projections' [N, L, E]: one attention op splits them
      // (one kernel on the CPU backend, no copies in and out of [N, H, L, D]). Self-attention (one
      // tensor as query, key and value) projects it once with the whole in_proj_weight, as PyTorch
      // does, where the backend's kernel reads q, k and v from that one [N, L, 3E] output.
      const attended =
        query === key && key === value
          ? selfAttentionHeads(q0, this.inProjWeight, this.inProjBias, H, Boolean(isCausal))
          : attentionHeads(inProj(q0, 0), inProj(k0, 1), inProj(v0, 2), H, Boolean(isCausal));
      const out = this.outProj.forward(attended);
      return unbatched ? out.reshape([L, E]) : this.batchFirst ? out : out.transpose([1, 0, 2]);
    }
    // [N, len, E] -> [N, H, len, D]
    const project = (x: Tensor, i: number, len: number) => inProj(x, i).reshape([N, len, H, D]).transpose([0, 2, 1, 3]);
    const q = project(q0, 0, L);
    const k = project(k0, 1, S);
    const v = project(v0, 2, S);
    let mask: Tensor | null = null;
    if (attnMask) {
      if (!isTensor(attnMask)) throw new ArgumentError(op, 'attnMask must be a Tensor');
      const ok =
        (attnMask.rank === 2 && attnMask.shape[0] === L && attnMask.shape[1] === S) ||
        (attnMask.rank === 3 && attnMask.shape[0] === N * H && attnMask.shape[1] === L && attnMask.shape[2] === S);
      if (!ok) throw new ShapeError(op, `attnMask must be [${L}, ${S}] or [${N * H}, ${L}, ${S}], got ${fmtShape(attnMask.shape)}`);
      const m = toAdditive(op, 'attnMask', attnMask);
      mask = attnMask.rank === 3 ? m.reshape([N, H, L, S]) : m;
    }
    if (keyPaddingMask) {
      if (!isTensor(keyPaddingMask)) throw new ArgumentError(op, 'keyPaddingMask must be a Tensor');
      if (keyPaddingMask.rank !== 2 || keyPaddingMask.shape[0] !== N || keyPaddingMask.shape[1] !== S) {
        throw new ShapeError(op, `keyPaddingMask must be [${N}, ${S}], got ${fmtShape(keyPaddingMask.shape)}`);
      }
      const m = toAdditive(op, 'keyPaddingMask', keyPaddingMask).reshape([N, 1, 1, S]);
      mask = mask ? add(mask, m) : m;
    }
    if (isCausal) {
      const c = new Float32Array(L * S);
      for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) c[i * S + j] = -Infinity;
      const m = tensor(c, { shape: [L, S] });
      mask = mask ? add(mask, m) : m;
    }
    const attended = scaledDotProductAttention(q, k, v, { attnMask: mask, dropoutP }); // [N, H, L, D]
    const merged = attended.transpose([0, 2, 1, 3]).reshape([N, L, E]);
    const out = this.outProj.forward(merged);
    return unbatched ? out.reshape([L, E]) : this.batchFirst ? out : out.transpose([1, 0, 2]);
  }

  override getConfig(): Record<string, unknown> {
    return {
      embedDim: this.embedDim,
      numHeads: this.numHeads,
      dropout: this.dropout,
      bias: this.inProjBias !== null,
      batchFirst: this.batchFirst,
    };
  }

  protected override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}, batch_first=${this.batchFirst}`;
  }
}
