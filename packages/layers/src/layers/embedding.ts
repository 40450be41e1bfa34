import {
  ArgumentError,
  DTypeError,
  IndexError,
  type Tensor,
  fmtShape,
  gather,
  getBackend,
  isTensor,
  randn,
  tensor,
  valueChecksOn,
  where,
} from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { Module } from '../module.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /**
   * A row that stays as it is: initialised to zeros and never receiving a
   * gradient (PyTorch's `padding_idx`); negative counts from the end.
   */
  paddingIdx?: number | null;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (PyTorch's
 * `nn.Embedding`): an int32 tensor of ids `[...]` becomes `[..., embeddingDim]`.
 * `weight` is `[numEmbeddings, embeddingDim]`, drawn from N(0, 1) as PyTorch
 * does, with the `paddingIdx` row zeroed.
 *
 * @example
 * const emb = new Embedding(65, 32);
 * emb.forward(tensor([[1, 2, 3]], { dtype: 'int32' })); // [1, 3, 32]
 */
export class Embedding extends Module {
  /** How many ids the table holds. */
  readonly numEmbeddings: number;
  /** The size of each vector. */
  readonly embeddingDim: number;
  /** The row that is never trained (non-negative), or null. */
  readonly paddingIdx: number | null;
  /** `[numEmbeddings, embeddingDim]`. */
  readonly weight: Tensor;
  private readonly trainable: Tensor | null;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['paddingIdx']);
    for (const [k, v] of [
      ['numEmbeddings', numEmbeddings],
      ['embeddingDim', embeddingDim],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ArgumentError('Embedding', `${k} must be a positive integer, got ${v}`);
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new ArgumentError('Embedding', `paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${pad}`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    let w = randn([numEmbeddings, embeddingDim]);
    if (pad !== null) {
      const v = w.dataSync().slice();
      v.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
      w = tensor(v, { shape: [numEmbeddings, embeddingDim] });
    }
    this.weight = this.registerParameter('weight', w);
    // 1 for rows that learn, 0 for the padding row: where(mask, w, w.detach()) has w's values and no gradient there.
    if (pad !== null) {
      const m = new Int32Array(numEmbeddings).fill(1);
      m[pad] = 0;
      this.trainable = tensor(m, { shape: [numEmbeddings, 1] });
    } else {
      this.trainable = null;
    }
  }

  override get layerType(): string {
    return 'Embedding';
  }

  override forward(ids: Tensor): Tensor {
    if (!isTensor(ids))
      throw new ArgumentError(this.layerType, `input must be an int32 Tensor of ids, got ${ids === null ? 'null' : typeof ids}`);
    if (ids.dtype !== 'int32') throw new DTypeError(this.layerType, `ids must be int32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
    const flat = ids.reshape([ids.size]);
    // The range check reads the ids back: only where that is free or asked for (setDebugChecks).
    if (valueChecksOn(getBackend())) {
      const v = flat.dataSync();
      for (let i = 0; i < v.length; i++) {
        if (v[i] < 0 || v[i] >= this.numEmbeddings) {
          throw new IndexError(
            this.layerType,
            `id ${v[i]} at position ${i} of ${fmtShape(ids.shape)} is out of range for ${this.numEmbeddings} embeddings`,
          );
        }
      }
    }
    const table = this.trainable ? where(this.trainable, this.weight, this.weight.detach()) : this.weight;
    return gather(table, flat, 0).reshape([...ids.shape, this.embeddingDim]);
  }

  override getConfig(): Record<string, unknown> {
    return { numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim, paddingIdx: this.paddingIdx };
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
