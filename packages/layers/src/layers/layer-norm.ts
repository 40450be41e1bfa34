import { ArgumentError, type Tensor, isTensor, layerNorm, ones, zeros } from '@bp/tensor';
import { checkOptions, shownValue } from '@bp/tensor/internal';
import { Module } from '../module.js';

/** Options of {@link LayerNorm} (PyTorch's defaults). */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn an elementwise `weight` (ones at start) and `bias` (zeros) of `normalizedShape` (default true). */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, whether there is a `bias` (default true). */
  bias?: boolean;
}

/**
 * Layer normalisation over the trailing `normalizedShape` axes (PyTorch's
 * `nn.LayerNorm`): see the `layerNorm` op. A number is one trailing axis.
 *
 * @example
 * const ln = new LayerNorm(64);
 * ln.forward(randn([2, 10, 64])).shape; // [2, 10, 64]: each row of 64 normalised
 */
export class LayerNorm extends Module {
  /** The trailing shape normalised over. */
  readonly normalizedShape: number[];
  /** Added to the variance. */
  readonly eps: number;
  /** Whether there is a learnt weight (and bias). */
  readonly elementwiseAffine: boolean;
  /** `normalizedShape`, or null without `elementwiseAffine`. */
  readonly weight: Tensor | null;
  /** `normalizedShape`, or null. */
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    checkOptions(this.layerType, opts, ['eps', 'elementwiseAffine', 'bias']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new ArgumentError(
        'LayerNorm',
        `normalizedShape must be a positive integer or a non-empty array of them, got ${shownValue(normalizedShape)}`,
      );
    }
    this.normalizedShape = shape.slice();
    this.eps = opts.eps ?? 1e-5;
    if (typeof this.eps !== 'number' || !(this.eps >= 0 && this.eps < Infinity)) {
      throw new ArgumentError('LayerNorm', `eps must be a finite number >= 0, got ${String(this.eps)}`);
    }
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const useBias = opts.bias ?? true;
    for (const [k, v] of [
      ['elementwiseAffine', this.elementwiseAffine],
      ['bias', useBias],
    ] as const) {
      if (typeof v !== 'boolean') throw new ArgumentError('LayerNorm', `${k} must be true or false, got ${shownValue(v)}`);
    }
    this.weight = this.registerParameter('weight', this.elementwiseAffine ? ones(this.normalizedShape) : null);
    this.bias = this.registerParameter('bias', this.elementwiseAffine && useBias ? zeros(this.normalizedShape) : null);
  }

  override get layerType(): string {
    return 'LayerNorm';
  }

  override forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new ArgumentError(this.layerType, `input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override getConfig(): Record<string, unknown> {
    return {
      normalizedShape: this.normalizedShape,
      eps: this.eps,
      elementwiseAffine: this.elementwiseAffine,
      bias: this.bias !== null || !this.elementwiseAffine,
    };
  }

  protected override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')},), eps=${this.eps}, elementwise_affine=${this.elementwiseAffine}`;
  }
}
