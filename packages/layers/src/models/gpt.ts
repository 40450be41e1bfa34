import { withoutGraph } from '../no-grad.js';
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  type Tensor,
  arange,
  fmtShape,
  isTensor,
  matmulT,
  random,
  softmax,
  tensor,
} from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { normal, zeros } from '../initializers.js';
import { GELU } from '../layers/activations.js';
import { Dropout } from '../layers/dropout.js';
import { Embedding } from '../layers/embedding.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { Linear } from '../layers/linear.js';
import { MultiheadAttention } from '../layers/multihead-attention.js';
import { ModuleList } from '../layers/containers.js';
import { Module } from '../module.js';

/** The size of a {@link GPT}. */
export interface GPTConfig {
  /** Tokens in the vocabulary (characters, for a character-level model). */
  vocabSize: number;
  /** The longest context the model sees (position embeddings). */
  blockSize: number;
  /** Transformer blocks. */
  nLayer: number;
  /** Attention heads per block. */
  nHead: number;
  /** Model width; divisible by `nHead`. */
  nEmbd: number;
  /** Dropout after the embeddings, on attention weights and on each residual branch (default 0). */
  dropout?: number;
  /** Biases in the linear layers and LayerNorms (default true). */
  bias?: boolean;
  /** Share the token embedding with the output projection (default true). */
  tieWeights?: boolean;
}

/** Options of {@link GPT.generate}. */
export interface GenerateOptions {
  /**
   * Divides the logits before sampling: below 1 sharper, above 1 more random (default 1); a tiny
   * temperature (1e-6) samples the most likely token, as `topK: 1` does.
   */
  temperature?: number;
  /** Sample only among the `topK` most likely tokens (default: all). */
  topK?: number | null;
  /** Stop after this token (a names model's newline). */
  stopToken?: number | null;
}

/** The feed-forward half of a block: Linear(n, 4n), exact GELU (erf), Linear(4n, n), dropout. */
export class GPTMlp extends Module {
  /** `nEmbd -> 4 nEmbd`. */
  readonly c_fc: Linear;
  /** Exact GELU, `x Φ(x)` (PyTorch's `nn.GELU()`). */
  readonly gelu: GELU;
  /** `4 nEmbd -> nEmbd`. */
  readonly c_proj: Linear;
  /** Dropout on the output. */
  readonly dropout: Dropout;

  constructor(nEmbd: number, dropout: number, bias: boolean) {
    super();
    this.c_fc = this.registerModule('c_fc', new Linear(nEmbd, 4 * nEmbd, { bias }));
    this.gelu = this.registerModule('gelu', new GELU());
    this.c_proj = this.registerModule('c_proj', new Linear(4 * nEmbd, nEmbd, { bias }));
    this.dropout = this.registerModule('dropout', new Dropout(dropout));
  }

  override get layerType(): string {
    return 'GPTMlp';
  }

  override forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x))));
  }
}

/** One pre-LayerNorm transformer block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`. */
export class GPTBlock extends Module {
  /** Before attention. */
  readonly ln_1: LayerNorm;
  /** Causal self-attention (batch first). */
  readonly attn: MultiheadAttention;
  /** Dropout on the attention branch. */
  readonly resid_dropout: Dropout;
  /** Before the MLP. */
  readonly ln_2: LayerNorm;
  /** The feed-forward branch. */
  readonly mlp: GPTMlp;

  constructor(nEmbd: number, nHead: number, dropout: number, bias: boolean) {
    super();
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(nEmbd, { bias }));
    this.attn = this.registerModule('attn', new MultiheadAttention(nEmbd, nHead, { dropout, bias, batchFirst: true }));
    this.resid_dropout = this.registerModule('resid_dropout', new Dropout(dropout));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(nEmbd, { bias }));
    this.mlp = this.registerModule('mlp', new GPTMlp(nEmbd, dropout, bias));
  }

  override get layerType(): string {
    return 'GPTBlock';
  }

  override forward(x: Tensor): Tensor {
    const h = this.ln_1.forward(x);
    x = x.add(this.resid_dropout.forward(this.attn.forward(h, h, h, { isCausal: true })));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new ArgumentError('GPT', `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * A GPT-style language model (nanoGPT's layout): token and position
 * embeddings, `nLayer` pre-LayerNorm blocks of causal multi-head
 * self-attention and a GELU MLP, a final LayerNorm and a projection to the
 * vocabulary, optionally tied to the token embedding. Parameters are named
 * as a PyTorch module tree of the same shape would name them (`wte.weight`,
 * `h.0.attn.in_proj_weight`, `h.0.mlp.c_fc.bias`, `ln_f.weight`), so a
 * state dict saved as safetensors loads into the PyTorch twin in `bench/`.
 *
 * Initialisation follows GPT-2: N(0, 0.02) for linear weights and
 * embeddings, zero biases, and N(0, 0.02 / sqrt(2 nLayer)) for the
 * projections that end each residual branch.
 *
 * @example
 * const model = new GPT({ vocabSize: 27, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64 });
 * const logits = model.forward(idx); // idx: int32 [batch, time] -> [batch, time, 27]
 */
export class GPT extends Module {
  /** The resolved configuration. */
  readonly config: Required<GPTConfig>;
  /** Token embedding `[vocabSize, nEmbd]`. */
  readonly wte: Embedding;
  /** Position embedding `[blockSize, nEmbd]`. */
  readonly wpe: Embedding;
  /** Dropout after the embeddings. */
  readonly drop: Dropout;
  /** The transformer blocks. */
  readonly h: ModuleList;
  /** The final LayerNorm. */
  readonly ln_f: LayerNorm;
  /** The output projection, or null when tied to `wte`. */
  readonly lm_head: Linear | null;

  constructor(config: GPTConfig) {
    super();
    if (config === null || typeof config !== 'object') throw new ArgumentError('GPT', 'expected a config object');
    const c: Required<GPTConfig> = {
      vocabSize: positiveInt('vocabSize', config.vocabSize),
      blockSize: positiveInt('blockSize', config.blockSize),
      nLayer: positiveInt('nLayer', config.nLayer),
      nHead: positiveInt('nHead', config.nHead),
      nEmbd: positiveInt('nEmbd', config.nEmbd),
      dropout: config.dropout ?? 0,
      bias: config.bias ?? true,
      tieWeights: config.tieWeights ?? true,
    };
    if (c.nEmbd % c.nHead !== 0) throw new ArgumentError('GPT', `nEmbd ${c.nEmbd} must be divisible by nHead ${c.nHead}`);
    if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) {
      throw new ArgumentError('GPT', `dropout must be in [0, 1), got ${String(c.dropout)}`);
    }
    for (const k of ['bias', 'tieWeights'] as const) {
      if (typeof c[k] !== 'boolean') throw new ArgumentError('GPT', `${k} must be true or false, got ${JSON.stringify(c[k])}`);
    }
    this.config = c;
    this.wte = this.registerModule('wte', new Embedding(c.vocabSize, c.nEmbd));
    this.wpe = this.registerModule('wpe', new Embedding(c.blockSize, c.nEmbd));
    this.drop = this.registerModule('drop', new Dropout(c.dropout));
    this.h = this.registerModule(
      'h',
      new ModuleList(Array.from({ length: c.nLayer }, () => new GPTBlock(c.nEmbd, c.nHead, c.dropout, c.bias))),
    );
    this.ln_f = this.registerModule('ln_f', new LayerNorm(c.nEmbd, { bias: c.bias }));
    this.lm_head = c.tieWeights ? null : this.registerModule('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false }));
    this.initWeights();
  }

  override get layerType(): string {
    return 'GPT';
  }

  private initWeights(): void {
    const std = 0.02;
    const projStd = 0.02 / Math.sqrt(2 * this.config.nLayer);
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith('c_proj.weight') || name.endsWith('out_proj.weight')) normal(p, 0, projStd);
      else if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight') continue;
      else if (name.endsWith('bias')) zeros(p);
      else normal(p, 0, std);
    }
  }

  /** Logits `[batch, time, vocabSize]` for int32 token ids `[batch, time]` (time <= blockSize). */
  override forward(idx: Tensor): Tensor {
    if (!isTensor(idx))
      throw new ArgumentError(this.layerType, `input must be an int32 Tensor of token ids, got ${idx === null ? 'null' : typeof idx}`);
    if (idx.dtype !== 'int32') throw new DTypeError(this.layerType, `token ids must be int32, got ${idx.dtype} ${fmtShape(idx.shape)}`);
    if (idx.rank !== 2) throw new ShapeError(this.layerType, `token ids must be [batch, time], got ${fmtShape(idx.shape)}`);
    const T = idx.shape[1];
    if (T > this.config.blockSize) {
      throw new ShapeError(this.layerType, `sequence of length ${T} is longer than blockSize ${this.config.blockSize}`);
    }
    const pos = arange(0, T, 1, { dtype: 'int32' });
    let x = this.drop.forward(this.wte.forward(idx).add(this.wpe.forward(pos)));
    for (const block of this.h) x = block.forward(x);
    x = this.ln_f.forward(x);
    return this.lm_head ? this.lm_head.forward(x) : matmulT(x, this.wte.weight, false, true);
  }

  /**
   * Extends each row of `idx` (`[batch, time]` int32) by `maxNewTokens`
   * sampled tokens, feeding back at most the last `blockSize`; returns the
   * ids as arrays (a row stops after `stopToken`). Sampling draws from the generator seeded by `manualSeed`.
   * Runs in eval mode without gradients and restores the previous mode.
   */
  generate(idx: Tensor, maxNewTokens: number, options?: GenerateOptions | null): number[][] {
    const raw: unknown = options ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ArgumentError(
        'GPT.generate',
        `opts must be an options object, got ${Array.isArray(raw) ? 'an array' : `${typeof raw} ${String(raw)}`}`,
      );
    }
    checkOptions('GPT.generate', raw, ['temperature', 'topK', 'stopToken']);
    const { temperature = 1, topK = null, stopToken = null } = raw as GenerateOptions;
    if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
      throw new ArgumentError('GPT.generate', `temperature must be a finite number > 0, got ${String(temperature)}`);
    }
    if (topK !== null && !(Number.isInteger(topK) && topK >= 1))
      throw new ArgumentError('GPT.generate', `topK must be an integer >= 1, got ${String(topK)}`);
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
      throw new ArgumentError('GPT.generate', `maxNewTokens must be an integer >= 0, got ${maxNewTokens}`);
    if (!isTensor(idx) || idx.dtype !== 'int32' || idx.rank !== 2)
      throw new ArgumentError('GPT.generate', 'idx must be an int32 Tensor [batch, time]');
    if (idx.shape[1] === 0)
      throw new ArgumentError('GPT.generate', `idx ${fmtShape(idx.shape)} has no tokens: each row needs at least one to start from`);
    if (stopToken !== null && !(Number.isInteger(stopToken) && stopToken >= 0 && stopToken < this.config.vocabSize)) {
      throw new ArgumentError(
        'GPT.generate',
        `stopToken must be a token id from 0 to ${this.config.vocabSize - 1} (or null), got ${String(stopToken)}`,
      );
    }
    const wasTraining = this.training;
    this.eval();
    try {
      const [B, T0] = idx.shape;
      const flat = Array.from(idx.dataSync());
      const rows = Array.from({ length: B }, (_, b) => flat.slice(b * T0, (b + 1) * T0));
      const done = new Array<boolean>(B).fill(false);
      const ends = new Array<number>(B).fill(T0 + maxNewTokens);
      const V = this.config.vocabSize;
      for (let step = 0; step < maxNewTokens && !done.every(Boolean); step++) {
        const ctx = rows.map((r) => r.slice(-this.config.blockSize));
        const T = ctx[0].length;
        const probs = withoutGraph(() => {
          const logits = this.forward(tensor(Int32Array.from(ctx.flat()), { shape: [B, T] }));
          const last = logits.slice([0, T - 1, 0], [B, 1, V]).reshape([B, V]);
          // Shifted by each row's largest logit first, so a tiny temperature sharpens towards the
          // most likely token instead of overflowing float32 (the softmax's values are the same).
          // Below 1e-30 (which float32 would round towards 0) every other token's weight is 0 anyway.
          return softmax(last.sub(last.max(-1, true)).div(Math.max(temperature, 1e-30)), -1).dataSync();
        });
        for (let b = 0; b < B; b++) {
          if (done[b]) {
            // Keeps the batch rectangular; cut off below.
            rows[b].push(stopToken!);
            continue;
          }
          const p = Array.from(probs.subarray(b * V, (b + 1) * V));
          if (topK !== null && topK < V) {
            const kth = [...p].sort((x, y) => y - x)[topK - 1];
            for (let i = 0; i < V; i++) if (p[i] < kth) p[i] = 0;
          }
          const total = p.reduce((s, v) => s + v, 0);
          if (!(total > 0 && Number.isFinite(total))) {
            throw new ArgumentError(
              'GPT.generate',
              `the next-token probabilities of row ${b} are not finite (the logits hold NaN or infinities: the weights may have diverged)`,
            );
          }
          let u = random() * total;
          let next = V - 1;
          for (let i = 0; i < V; i++) {
            u -= p[i];
            if (u < 0) {
              next = i;
              break;
            }
          }
          rows[b].push(next);
          if (stopToken !== null && next === stopToken) {
            done[b] = true;
            ends[b] = rows[b].length;
          }
        }
      }
      return rows.map((r, b) => r.slice(0, ends[b]));
    } finally {
      this.train(wasTraining);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...this.config };
  }

  protected override extraRepr(): string {
    const c = this.config;
    return `vocab_size=${c.vocabSize}, block_size=${c.blockSize}, n_layer=${c.nLayer}, n_head=${c.nHead}, n_embd=${c.nEmbd}`;
  }
}
